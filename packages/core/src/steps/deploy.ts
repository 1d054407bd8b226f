import { ArtifactChecksumMismatch, TargetNotFound } from "../errors.ts";
import type { Clock, FunctionControl } from "../ports.ts";
import type { DeploymentState, Rollout } from "../state.ts";
import { nextCheckAt, weightsFor } from "./traffic.ts";

export interface DeployDeps {
  readonly functions: FunctionControl;
  readonly clock: Clock;
}

/**
 * Creates the new version from the stage's copy of the artifact and gives it the first traffic
 * step. Lambda's CodeSha256 must equal the artifact's SHA-256 after the code update and again on
 * the published version. The alias's primary version before the change is recorded as the
 * version to roll back to.
 *
 * With no traffic steps, or when the artifact is what the alias already serves, no traffic
 * moves here and the rollout goes straight to promotion after the first alarm check.
 *
 * @example
 * ```ts
 * const rollout = await deploy(state, { functions, clock: systemClock });
 * console.log(`${rollout.weight}% on version ${rollout.newVersion}`);
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

  const now = deps.clock.now();
  const first = plan.rollout.steps[0];
  const base = {
    newVersion: published.version,
    previousVersion: before.version,
    checks: 0,
  };
  if (first === undefined || published.version === before.version) {
    const nowIso = new Date(now).toISOString();
    return {
      ...base,
      phase: "promote",
      stepIndex: -1,
      weight: 0,
      holdEndsAt: nowIso,
      nextCheckAt: nowIso,
    };
  }

  await deps.functions.updateAlias(functionName, alias, {
    version: before.version,
    weights: weightsFor(published.version, first),
    ...(before.revisionId ? { revisionId: before.revisionId } : {}),
  });
  const holdEndsAt = now + plan.rollout.stepWaitSeconds * 1000;
  return {
    ...base,
    phase: "steps",
    stepIndex: 0,
    weight: first,
    holdEndsAt: new Date(holdEndsAt).toISOString(),
    nextCheckAt: nextCheckAt(plan, now, holdEndsAt),
  };
}

function checkCode(what: string, actual: string, expected: string): void {
  if (actual !== expected) {
    throw new ArtifactChecksumMismatch(
      `Lambda reports CodeSha256 ${actual} for ${what}; the artifact's SHA-256 is ${expected}`,
    );
  }
}
