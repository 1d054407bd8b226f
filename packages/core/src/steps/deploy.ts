import { ArtifactChecksumMismatch, InvalidTarget, TargetNotFound } from "../errors.ts";
import type { Clock, FunctionControl } from "../ports.ts";
import type { DeploymentState, Rollout } from "../state.ts";
import { holdTimeoutSeconds } from "./hold.ts";

export interface DeployDeps {
  readonly functions: FunctionControl;
  readonly clock: Clock;
}

/**
 * Creates the new version from the stage's copy of the artifact. Lambda's CodeSha256 must equal
 * the artifact's SHA-256 after the code update and again on the published version. The alias's
 * primary version before the change is recorded as the version to roll back to.
 *
 * Deploy moves no traffic: the Canary step invokes the new version directly and gives it the
 * first traffic step only if every check passes, so a version that fails its canary never
 * serves a request. With no traffic steps, or when the artifact is what the alias already
 * serves, the rollout goes straight to promotion after the canary and the first alarm check.
 *
 * @example
 * ```ts
 * const rollout = await deploy(state, { functions, clock: systemClock });
 * console.log(`version ${rollout.newVersion} published, previous ${rollout.previousVersion}`);
 * ```
 */
export async function deploy(
  state: Pick<DeploymentState, "plan" | "request" | "execution" | "artifact">,
  deps: DeployDeps,
): Promise<Rollout> {
  const { plan, request } = state;
  const artifact = state.artifact;
  if (!artifact) throw new TypeError("deploy needs $.artifact (CopyArtifact runs first)");
  const { functionName, alias } = plan.target;
  const sha256 = request.artifact.sha256;

  const before = await deps.functions.getAlias(functionName, alias);
  if (!before) {
    throw new TargetNotFound(
      `alias ${functionName}:${alias} does not exist; create the function and alias before the first deployment`,
    );
  }
  // Before anything changes: an alias on $LATEST has no version to come back to (the update
  // below replaces $LATEST's code), and Lambda refuses weighted routing with it.
  if (!/^[1-9][0-9]*$/.test(before.version)) {
    throw new InvalidTarget(
      `alias ${functionName}:${alias} points at ${before.version}, not a numbered version: ` +
        "publish a version and point the alias at it before the first deployment",
    );
  }

  const updated = await deps.functions.updateCode(functionName, {
    bucket: artifact.bucket,
    key: artifact.key,
    ...(artifact.versionId ? { versionId: artifact.versionId } : {}),
  });
  checkCode("the function's code", updated.codeSha256, sha256);
  const published = await deps.functions.publishVersion(functionName, {
    codeSha256: sha256,
    ...(updated.revisionId ? { revisionId: updated.revisionId } : {}),
    description: `gantry ${plan.service} ${request.version} (${state.execution.name})`,
  });
  checkCode(`version ${published.version}`, published.codeSha256, sha256);

  // No traffic yet: the Canary step gives the first traffic step once the version passes.
  const at = deps.clock.now();
  const now = new Date(at).toISOString();
  const noSteps = plan.rollout.steps.length === 0 || published.version === before.version;
  return {
    newVersion: published.version,
    previousVersion: before.version,
    // What Lambda reported for the published version, equal to the artifact's (checked above):
    // kept so the deployment record shows the hop from the bucket to Lambda.
    codeSha256: published.codeSha256,
    phase: noSteps ? "promote" : "steps",
    stepIndex: -1,
    weight: 0,
    // The bake's baseline window (the previous version before the rollout) ends here.
    startedAt: now,
    // Straight to promotion: the one already-over hold starts and ends now.
    ...(noSteps ? { holdStartedAt: now } : {}),
    holdEndsAt: now,
    nextCheckAt: now,
    // A redeploy of the live version goes through one hold that is already over (its end-of-hold
    // check reads the alarms before Promote): the hold Task's TimeoutSecondsPath needs a value.
    holdTimeoutSeconds: holdTimeoutSeconds(plan, at, at),
    checks: 0,
  };
}

function checkCode(what: string, actual: string, expected: string): void {
  if (actual !== expected) {
    throw new ArtifactChecksumMismatch(
      `Lambda reports CodeSha256 ${actual} for ${what}; the artifact's SHA-256 is ${expected}`,
    );
  }
}
