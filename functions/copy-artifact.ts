import type { Logger } from "@aws-lambda-powertools/logger";
import { S3Client } from "@aws-sdk/client-s3";
import { createLogger, lazy, S3ArtifactStore, stepHandler } from "@gantry/aws";
import {
  type CopyArtifactDeps,
  copyArtifact,
  type DeploymentState,
  systemClock,
} from "@gantry/core";

/** CopyArtifact: server-side copy of the exact bytes into the stage's bucket, checksummed. */
export type Deps = CopyArtifactDeps & { readonly log: Logger };

export const createHandler = (deps: Deps) =>
  stepHandler(deps.log, (state: DeploymentState) => copyArtifact(state, deps));

export const awsDeps = (): Deps =>
  lazy<Deps>({
    artifacts: () => new S3ArtifactStore(new S3Client({})),
    clock: () => systemClock,
    log: () => createLogger("copy-artifact"),
  });

export const handler = createHandler(awsDeps());
