import type { Logger } from "@aws-lambda-powertools/logger";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import {
  CloudWatchAlarms,
  createLogger,
  LambdaFunctionControl,
  lazy,
  S3ArtifactStore,
  stepHandler,
} from "@gantry/aws";
import { type DeploymentState, type VerifyPreprodDeps, verifyPreprod } from "@gantry/core";

/** VerifyPreprod: proves preprod ran and passed the exact bytes (read-only, preprod account). */
export type Deps = VerifyPreprodDeps & { readonly log: Logger };

export const createHandler = (deps: Deps) =>
  stepHandler(deps.log, (state: DeploymentState) => verifyPreprod(state, deps));

/**
 * Preprod usually lives in another account: when GANTRY_PREPROD_ROLE_ARN is set, every read goes
 * through that role (which only allows the reads VerifyPreprod makes). One provider serves the
 * three clients, so a container assumes the role once, not once per client.
 */
let preprodConfig: { credentials?: ReturnType<typeof fromTemporaryCredentials> } | undefined;
function preprodClientConfig() {
  if (preprodConfig) return preprodConfig;
  const roleArn = process.env.GANTRY_PREPROD_ROLE_ARN;
  preprodConfig = roleArn
    ? {
        credentials: fromTemporaryCredentials({
          params: { RoleArn: roleArn, RoleSessionName: "gantry-verify-preprod" },
        }),
      }
    : {};
  return preprodConfig;
}

export const awsDeps = (): Deps =>
  lazy<Deps>({
    artifacts: () => new S3ArtifactStore(new S3Client(preprodClientConfig())),
    functions: () => new LambdaFunctionControl(new LambdaClient(preprodClientConfig())),
    alarms: () => new CloudWatchAlarms(new CloudWatchClient(preprodClientConfig())),
    log: () => createLogger("verify-preprod"),
  });

export const handler = createHandler(awsDeps());
