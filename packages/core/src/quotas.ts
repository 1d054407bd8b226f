import { MAX_COMMENT_LENGTH } from "./approval/decide.ts";
import { MAX_ERROR_MESSAGE_LENGTH, MAX_ERROR_STACK_FRAMES } from "./errors.ts";
import { resolveAnalysisPolicy, type ServiceDefinition, type Stage } from "./registry.ts";
import { MAX_FIX_FOR } from "./request.ts";
import { HOLD_GRACE_SECONDS } from "./steps/hold.ts";

/**
 * What a policy costs one execution, against the limits Step Functions enforces with no way to
 * catch them: 25,000 history events (the execution fails), the state machine's own timeout
 * (it times out), 256 KiB of state (States.DataLimitExceeded). The registry refuses a policy
 * whose worst case passes a limit minus a margin, so a deployment never dies of its own policy
 * halfway through a rollout.
 */
export const STEP_FUNCTIONS_LIMITS = {
  historyEvents: 25_000,
  stateBytes: 256 * 1024,
} as const;

/** `TimeoutSeconds` of state-machines/workflow.asl.json (the workflow suite checks they agree). */
export const STATE_MACHINE_TIMEOUT_SECONDS = 691_200;

/**
 * How much of each limit a policy may use: spare room for what the model does not count
 * (more retries than one per Task, a slow AWS call, a longer error message).
 */
export const QUOTA_MARGINS = { historyEvents: 0.8, duration: 0.9, stateBytes: 0.5 } as const;

/**
 * History events, as Step Functions records them: a Lambda Task writes TaskStateEntered,
 * LambdaFunctionScheduled, LambdaFunctionStarted, LambdaFunctionSucceeded and TaskStateExited;
 * a Choice an entered and an exited event; a retry adds a failed, a scheduled and a started
 * event. One hold is a callback Task (one event more: TaskSubmitted), CheckAlarms and a Choice.
 */
export const HISTORY_EVENTS = {
  task: 5,
  retry: 3,
  hold: 6 + 5 + 2,
  /**
   * Everything outside the holds on the longest path (through the approval, a rollback
   * after the bake, the failure report): fourteen Tasks with a retry each, a few Pass, Choice
   * and Fail states, the execution's own start and end. An upper bound, not a count.
   */
  fixed: 14 * (5 + 3) + 20,
} as const;

/**
 * Work outside the waits, in seconds: each Task outside the holds at most its TimeoutSeconds
 * once (CopyArtifact 900, Deploy 300, Canary and Rollback 120, the rest 60 or less) plus one
 * retry's backoff, and each time round a hold a second (the hold's function and CheckAlarms).
 */
export const WORK_SECONDS = { fixed: 2_200, perHold: 1 } as const;

/**
 * Times round each hold's loop at worst: once when its schedule ends it, once more when a
 * callback came early (CheckAlarms finds its time not up and holds again). Holds do not poll,
 * so the poll setting costs nothing here.
 */
export const LOOPS_PER_HOLD = 2;

/** What one deployment of a service in a stage can cost, at worst, under its policy. */
export interface DeploymentCost {
  /** The traffic steps' holds and the bake's (not counting the analysis's extensions). */
  readonly holds: number;
  readonly historyEvents: number;
  readonly durationSeconds: number;
  readonly stateBytes: number;
}

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? "");

/**
 * The worst case of one deployment: every hold gone round twice and waiting its grace period
 * (a lost schedule), one transient retry on every Task, the approval waited out, the rollback
 * path taken after the bake, every text field at its bound.
 *
 * @example
 * ```ts
 * deploymentCost(registry.services["hello-service"], "prod").historyEvents; // 260
 * ```
 */
export function deploymentCost(service: ServiceDefinition, stage: Stage): DeploymentCost {
  const target = service.stages[stage];
  const { steps, stepWaitSeconds, bakeSeconds } = target.rollout;
  const holds = steps.length + 1;
  // `extend`: the version analysis may hold each step and the bake once more for their length.
  const extended = resolveAnalysisPolicy(target.analysis)?.whenInsufficient === "extend";
  const extensions = extended ? holds : 0;
  const loops = (holds + extensions) * LOOPS_PER_HOLD;
  const historyEvents = HISTORY_EVENTS.fixed + loops * (HISTORY_EVENTS.hold + HISTORY_EVENTS.retry);
  const durationSeconds =
    (target.approval?.timeoutSeconds ?? 0) +
    (1 + (extended ? 1 : 0)) * (steps.length * stepWaitSeconds + bakeSeconds) +
    (holds + extensions) * HOLD_GRACE_SECONDS +
    WORK_SECONDS.fixed +
    loops * WORK_SECONDS.perHold;
  return { holds, historyEvents, durationSeconds, stateBytes: stateBytes(service, stage) };
}

/** The largest state document of a deployment: the policy it carries, and every other field at its bound. */
function stateBytes(service: ServiceDefinition, stage: Stage): number {
  const target = service.stages[stage];
  const preprodAlarms = target.verifyPreprod ? service.stages.preprod.alarms : [];
  const cause = bytes({
    errorType: "e".repeat(64),
    errorMessage: "m".repeat(MAX_ERROR_MESSAGE_LENGTH + 1),
    trace: Array.from({ length: MAX_ERROR_STACK_FRAMES + 1 }, () => "t".repeat(201)),
  });
  const plan =
    bytes(service.canary) +
    bytes(target) +
    bytes(service.stages.preprod.alarms) +
    (service.repositoryUrl?.length ?? 0) +
    1_024; // names, buckets, keys, the time scale
  // Plus the preprod object VerifyPreprod saw (bucket, key, SHA-256) and the alias's CodeSha256.
  const evidence = preprodAlarms.reduce((sum, name) => sum + name.length + 1_023 + 80, 3_300);
  const canaryReport = service.canary.checks.length * 450;
  // Every field at its bound, and the verified claims of the longest ID token (state-size.test.ts).
  // `fixFor` (at most MAX_FIX_FOR registry alarm names) is in the request and the plan, and the
  // verdict's fix and summary name the alarms again.
  const fixFor = MAX_FIX_FOR * 143;
  const request = 3_000 + 6_500 + fixFor;
  const verdict = 3_000 + 2 * fixFor;
  const approval = MAX_COMMENT_LENGTH + 1_200;
  const failures = 3 * cause + 2_001; // failure, rollbackFailure, cleanupFailure; the outcome's cause
  // The lock, the execution, the artifact, the rollout (with its CodeSha256) and the rollback:
  // small, bounded.
  const bookkeeping = 4_100;
  return (
    plan + fixFor + evidence + canaryReport + request + approval + failures + verdict + bookkeeping
  );
}

/**
 * Why a service's policy in a stage does not fit Step Functions' limits (with the margins), or
 * an empty list.
 *
 * @example
 * ```ts
 * quotaProblems(definition, "prod"); // ["a deployment could write 34,576 history events: ..."]
 * ```
 */
export function quotaProblems(service: ServiceDefinition, stage: Stage): string[] {
  const cost = deploymentCost(service, stage);
  const problems: string[] = [];
  const events = Math.floor(STEP_FUNCTIONS_LIMITS.historyEvents * QUOTA_MARGINS.historyEvents);
  if (cost.historyEvents > events) {
    problems.push(
      `a deployment could write ${n(cost.historyEvents)} history events (${n(cost.holds)} holds); ` +
        `Step Functions fails an execution at ${n(STEP_FUNCTIONS_LIMITS.historyEvents)}, and Gantry allows ` +
        `${n(events)} (${pct(QUOTA_MARGINS.historyEvents)}): fewer traffic steps`,
    );
  }
  const seconds = Math.floor(STATE_MACHINE_TIMEOUT_SECONDS * QUOTA_MARGINS.duration);
  if (cost.durationSeconds > seconds) {
    problems.push(
      `a deployment could run ${hours(cost.durationSeconds)} (approval timeout, holds, bake and work); ` +
        `the state machine times out at ${hours(STATE_MACHINE_TIMEOUT_SECONDS)}, and Gantry allows ` +
        `${hours(seconds)} (${pct(QUOTA_MARGINS.duration)}): shorten the approval timeout or the bake`,
    );
  }
  const stateLimit = Math.floor(STEP_FUNCTIONS_LIMITS.stateBytes * QUOTA_MARGINS.stateBytes);
  if (cost.stateBytes > stateLimit) {
    problems.push(
      `a deployment's state could reach ${n(cost.stateBytes)} bytes; Step Functions fails an execution ` +
        `past ${n(STEP_FUNCTIONS_LIMITS.stateBytes)}, and Gantry allows ${n(stateLimit)} ` +
        `(${pct(QUOTA_MARGINS.stateBytes)}): fewer or smaller canary checks, alarms or approvers`,
    );
  }
  return problems;
}

function n(value: number): string {
  return value.toLocaleString("en-US");
}

function pct(fraction: number): string {
  return `${Math.round(fraction * 100)}% of it`;
}

function hours(seconds: number): string {
  return `${Math.round((seconds / 3600) * 10) / 10} h`;
}
