import type { Logger } from "@aws-lambda-powertools/logger";
import { S3Client } from "@aws-sdk/client-s3";
import {
  createLogger,
  lazy,
  requiredEnv,
  S3RecordStore,
  secretsManagerKeys,
  stepHandler,
} from "@gantry/aws";
import {
  type DeploymentState,
  systemClock,
  type VerifyApprovalDeps,
  verifyApproval,
} from "@gantry/core";

/**
 * VerifyApproval: the deployment proceeds only on the sealed decision record of this
 * execution's approval, never on what completed the approval task.
 */
export type Deps = VerifyApprovalDeps & { readonly log: Logger };

export const createHandler = (deps: Deps) =>
  stepHandler(deps.log, (state: DeploymentState) => verifyApproval(state, deps));

export const awsDeps = (): Deps =>
  lazy<Deps>({
    records: () => new S3RecordStore(new S3Client({}), requiredEnv("GANTRY_STATE_BUCKET")),
    decisionKeys: () => secretsManagerKeys("decisions"),
    clock: () => systemClock,
    log: () => createLogger("verify-approval"),
  });

export const handler = createHandler(awsDeps());
