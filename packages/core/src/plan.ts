import { InvalidInput } from "./errors.ts";
import {
  artifactPrefixOf,
  type CanarySpec,
  type Registry,
  type ResolvedAnalysisPolicy,
  type RolloutPolicy,
  resolveAnalysisPolicy,
  type Stage,
  serviceOf,
} from "./registry.ts";
import type { DeploymentRequest } from "./request.ts";
import type { AutoApproveRule } from "./trigger/claims.ts";

export interface ObjectRef {
  readonly bucket: string;
  readonly key: string;
}

/**
 * Everything one execution needs to know, resolved once from the registry by ValidateInput and
 * carried in the execution's state, so the history shows exactly which policy was applied.
 * Durations are already multiplied by the time scale (1 in AWS; smaller locally).
 */
export interface Plan {
  readonly stage: Stage;
  readonly service: string;
  readonly repositoryUrl?: string;
  readonly target: { readonly functionName: string; readonly alias: string };
  /** Where the artifact comes from, and the stage bucket it is copied to (may be the same). */
  readonly source: ObjectRef;
  readonly destination: ObjectRef;
  readonly alarms: readonly string[];
  readonly rollout: RolloutPolicy;
  /** What VerifyPreprod checks; absent when the stage does not verify preprod. */
  readonly preprod?: {
    readonly bucket: string;
    readonly functionName: string;
    readonly alias: string;
    readonly alarms: readonly string[];
  };
  readonly approval: {
    readonly required: boolean;
    readonly approvers: readonly string[];
    /** The stage's auto-approval rules (verified claims only); empty when there are none. */
    readonly autoApprove: readonly AutoApproveRule[];
    /** Whole seconds, at least 1: the approval Task's TimeoutSecondsPath reads it. */
    readonly timeoutSeconds: number;
  };
  readonly canary: CanarySpec;
  /** The stage's version analysis, defaults filled in; absent when the stage has none. */
  readonly analysis?: ResolvedAnalysisPolicy;
  /**
   * The alarms this deployment is a fix for (`gantry deploy --fix-for`): already in ALARM when it
   * started, so they do not stop it; the version analysis judges it instead, and the new version
   * must do better than the previous one on the failing metric. Empty for an ordinary deployment.
   */
  readonly fixFor: readonly string[];
  /** How much faster than real time this plan runs (1 in AWS). */
  readonly timeScale: number;
}

/** Approval timeout put in the plan when no approval is needed (the Task completes at once). */
const UNUSED_APPROVAL_TIMEOUT_SECONDS = 60;

/**
 * Resolves the plan for a request in a stage, or throws {@link InvalidInput} when the service is
 * not registered or the artifact key lies outside the service's prefix.
 *
 * @example
 * ```ts
 * import { resolvePlan } from "@gantry/core";
 * import registry from "../../gantry.registry.ts";
 * const plan = resolvePlan(registry, "prod", request, { timeScale: 1 });
 * plan.rollout.steps; // e.g. [10, 25, 50]
 * ```
 */
export function resolvePlan(
  registry: Registry,
  stage: Stage,
  request: DeploymentRequest,
  options: { timeScale: number },
): Plan {
  const service = serviceOf(registry, request.service);
  if (!service) {
    throw new InvalidInput([
      { field: "service", reason: `is not a registered service (${request.service})` },
    ]);
  }
  const prefix = artifactPrefixOf(registry, request.service);
  if (!request.artifact.key.startsWith(prefix)) {
    throw new InvalidInput([{ field: "artifact.key", reason: `must start with ${prefix}` }]);
  }
  const scale = options.timeScale;
  if (!(scale > 0 && scale <= 1)) throw new RangeError("timeScale must be in (0, 1]");
  const target = service.stages[stage];
  const settings = registry.stages[stage];
  const preprod = service.stages.preprod;
  const analysis = resolveAnalysisPolicy(target.analysis);
  const fixFor = request.fixFor ?? [];
  const unknown = fixFor.filter((alarm) => !target.alarms.includes(alarm));
  if (unknown.length > 0) {
    throw new InvalidInput([
      {
        field: "fixFor",
        reason: `names alarms ${request.service}.${stage} does not watch: ${unknown.join(", ")} (it watches: ${target.alarms.join(", ") || "none"})`,
      },
    ]);
  }
  if (fixFor.length > 0 && !analysis) {
    throw new InvalidInput([
      {
        field: "fixFor",
        reason: `${request.service}.${stage} has no version analysis (registry: analysis), which is what judges a fix deployed during an incident`,
      },
    ]);
  }
  return {
    stage,
    service: request.service,
    ...(service.repositoryUrl ? { repositoryUrl: service.repositoryUrl } : {}),
    target: { functionName: target.functionName, alias: target.alias },
    source: { bucket: settings.sourceBucket, key: request.artifact.key },
    destination: { bucket: settings.artifactBucket, key: request.artifact.key },
    alarms: target.alarms,
    rollout: {
      steps: target.rollout.steps,
      stepWaitSeconds: target.rollout.stepWaitSeconds * scale,
      pollSeconds: target.rollout.pollSeconds * scale,
      bakeSeconds: target.rollout.bakeSeconds * scale,
    },
    ...(target.verifyPreprod
      ? {
          preprod: {
            bucket: registry.stages.preprod.artifactBucket,
            functionName: preprod.functionName,
            alias: preprod.alias,
            alarms: preprod.alarms,
          },
        }
      : {}),
    approval: {
      required: target.approval !== undefined,
      approvers: target.approval?.approvers ?? [],
      autoApprove: target.approval?.autoApprove ?? [],
      timeoutSeconds: Math.max(
        1,
        Math.ceil((target.approval?.timeoutSeconds ?? UNUSED_APPROVAL_TIMEOUT_SECONDS) * scale),
      ),
    },
    canary: service.canary,
    ...(analysis ? { analysis } : {}),
    fixFor,
    timeScale: scale,
  };
}
