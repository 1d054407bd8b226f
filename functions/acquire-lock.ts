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
import { acquireLock, type DeploymentState, type LockDeps, systemClock } from "@gantry/core";

/** AcquireLock: one deployment per target, stale locks of finished executions taken over. */
export type Deps = LockDeps & { readonly logger: Logger };

export const createHandler = (deps: Deps) =>
  stepHandler(deps.logger, (state: DeploymentState) =>
    acquireLock(state, { ...deps, log: deps.logger }),
  );

export const awsDeps = (): Deps =>
  lazy<Deps>({
    records: () => new S3RecordStore(new S3Client({}), requiredEnv("GANTRY_STATE_BUCKET")),
    workflows: () => new SfnWorkflowCallbacks(new SFNClient({})),
    clock: () => systemClock,
    logger: () => createLogger("acquire-lock"),
  });

export const handler = createHandler(awsDeps());
