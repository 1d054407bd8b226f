import type { Logger } from "@aws-lambda-powertools/logger";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { SFNClient } from "@aws-sdk/client-sfn";
import {
  createLogger,
  EmfMetrics,
  LambdaFunctionControl,
  lastStateInput,
  lazy,
  requiredEnv,
  S3RecordStore,
  stepHandler,
} from "@gantry/aws";
import {
  type DeploymentState,
  type ReconcileDeps,
  reconcileAbandoned,
  systemClock,
  unrecordedSuccess,
} from "@gantry/core";

/**
 * Cleans up after a deployment execution whose own cleanup did not do everything: an
 * EventBridge rule sends this function the ABORTED, TIMED_OUT, FAILED and SUCCEEDED status
 * changes of the state machine (FAILED too: `States.Runtime` and `States.DataLimitExceeded` end
 * an execution past every Catch, and a RollbackFailed gets its rollback tried once more;
 * SUCCEEDED: a Finish that failed for good ends in Deployed with nothing recorded). It reads
 * the last state the execution entered and runs reconcileAbandoned: put the alias back if
 * traffic had moved, record the outcome, release the lock; nothing when the execution's own
 * Finish had already done so. A SUCCEEDED execution is judged from the event's `output` (its
 * last state) without any AWS call; the history is read only when the event left it out (over
 * EventBridge's size limit).
 */
export const RECONCILED = ["ABORTED", "TIMED_OUT", "FAILED", "SUCCEEDED"] as const;

export interface ExecutionStatusChange {
  readonly detail: {
    readonly executionArn: string;
    readonly status: string;
    readonly error?: string | null;
    readonly cause?: string | null;
    /** A SUCCEEDED execution's output as JSON text; null when too large for the event. */
    readonly output?: string | null;
    /** `included: false` when the output was left out (over EventBridge's size limit). */
    readonly outputDetails?: { readonly included?: boolean } | null;
  };
}

export type Deps = ReconcileDeps & {
  readonly lastState: (executionArn: string) => Promise<unknown>;
  readonly log: Logger;
};

export const createHandler = (deps: Deps) =>
  stepHandler(deps.log, async (event: ExecutionStatusChange) => {
    const { executionArn, status } = event.detail;
    if (!(RECONCILED as readonly string[]).includes(status)) return { skipped: status };
    if (status === "SUCCEEDED") {
      const { output } = event.detail;
      const state =
        typeof output === "string" ? parsed(output) : await deps.lastState(executionArn);
      if (!unrecordedSuccess(state)) return { skipped: status };
      return reconcileAbandoned(
        state,
        // Only a state that is not promoted and baked would record these; a SUCCEEDED one always
        // is (Finish runs after BakeComplete), and its note names the cleanupFailure instead.
        // Stryker disable next-line StringLiteral: unreachable in any record (see above)
        "ExecutionSucceeded",
        // Stryker disable next-line StringLiteral: unreachable in any record (see above)
        "the execution succeeded without recording its outcome",
        deps,
      );
    }
    const state = (await deps.lastState(executionArn)) as Partial<DeploymentState>;
    const error =
      event.detail.error ||
      { ABORTED: "ExecutionAborted", TIMED_OUT: "ExecutionTimedOut" }[status] ||
      "ExecutionFailed";
    const cause =
      event.detail.cause || `the execution ended ${status} without running its failure path`;
    return reconcileAbandoned(state, error, cause, deps);
  });

// Stryker disable BlockStatement: equivalent; an empty catch block returns undefined too
function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
// Stryker restore BlockStatement

export const awsDeps = (): Deps =>
  lazy<Deps>({
    functions: () => new LambdaFunctionControl(new LambdaClient({})),
    records: () => new S3RecordStore(new S3Client({}), requiredEnv("GANTRY_STATE_BUCKET")),
    metrics: () => new EmfMetrics(),
    clock: () => systemClock,
    lastState: () => {
      const sfn = new SFNClient({});
      return (executionArn: string) => lastStateInput(sfn, executionArn);
    },
    log: () => createLogger("reconcile"),
  });

export const handler = createHandler(awsDeps());
