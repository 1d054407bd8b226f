import type { Logger } from "@aws-lambda-powertools/logger";
import { S3Client } from "@aws-sdk/client-s3";
import {
  createLogger,
  EmfMetrics,
  lazy,
  requiredEnv,
  S3RecordStore,
  stepHandler,
} from "@gantry/aws";
import { type DeploymentState, type FinishDeps, finish, systemClock } from "@gantry/core";

/**
 * Finish and FinishAfterFailure: names the outcome, writes the deployment record,
 * releases the lock if this execution holds it, and raises the RollbackFailed alarm's metric.
 */
export interface FinishEvent {
  readonly result: "succeeded" | "failed";
  readonly state: Partial<DeploymentState>;
}

export type Deps = FinishDeps & { readonly log: Logger };

export const createHandler = (deps: Deps) =>
  stepHandler(deps.log, (event: FinishEvent) =>
    finish(event.state, event.result === "succeeded" ? "succeeded" : "failed", deps),
  );

export const awsDeps = (): Deps =>
  lazy<Deps>({
    records: () => new S3RecordStore(new S3Client({}), requiredEnv("GANTRY_STATE_BUCKET")),
    metrics: () => new EmfMetrics(),
    clock: () => systemClock,
    log: () => createLogger("finish"),
  });

export const handler = createHandler(awsDeps());
