import type { Logger } from "@aws-lambda-powertools/logger";
import { S3Client } from "@aws-sdk/client-s3";
import { SFNClient } from "@aws-sdk/client-sfn";
import {
  createLogger,
  lazy,
  requiredEnv,
  S3RecordStore,
  SfnWorkflowCallbacks,
  stepHandler,
} from "@gantry/aws";
import { type AcquireLockDeps, acquireLock, type DeploymentState, systemClock } from "@gantry/core";

/** AcquireLock: one deployment per target, stale locks of finished executions taken over. */
export type Deps = AcquireLockDeps & { readonly log: Logger };

export const createHandler = (deps: Deps) =>
  stepHandler(deps.log, (state: DeploymentState) => acquireLock(state, deps));

export const awsDeps = (): Deps =>
  lazy<Deps>({
    records: () => new S3RecordStore(new S3Client({}), requiredEnv("GANTRY_STATE_BUCKET")),
    workflows: () => new SfnWorkflowCallbacks(new SFNClient({})),
    clock: () => systemClock,
    log: () => createLogger("acquire-lock"),
  });

export const handler = createHandler(awsDeps());
