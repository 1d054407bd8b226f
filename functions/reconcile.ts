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
} from "@gantry/core";

/**
 * Cleans up after a deployment execution that ended without running its own failure path: an
 * EventBridge rule sends this function the ABORTED, TIMED_OUT and FAILED status changes of the
 * state machine (FAILED too: `States.Runtime` and `States.DataLimitExceeded` end an execution
 * past every Catch). It reads the last state the execution entered and runs reconcileAbandoned:
 * put the alias back if traffic had moved, record the outcome, release the lock; nothing when
 * the execution's own failure path had already done so.
 */
export const RECONCILED = ["ABORTED", "TIMED_OUT", "FAILED"] as const;

export interface ExecutionStatusChange {
  readonly detail: {
    readonly executionArn: string;
    readonly status: string;
    readonly error?: string | null;
    readonly cause?: string | null;
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
    const state = (await deps.lastState(executionArn)) as Partial<DeploymentState>;
    const error =
      event.detail.error ||
      { ABORTED: "ExecutionAborted", TIMED_OUT: "ExecutionTimedOut" }[status] ||
      "ExecutionFailed";
    const cause =
      event.detail.cause || `the execution ended ${status} without running its failure path`;
    return reconcileAbandoned(state, error, cause, deps);
  });

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
