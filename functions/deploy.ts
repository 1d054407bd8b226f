import type { Logger } from "@aws-lambda-powertools/logger";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { createLogger, LambdaFunctionControl, lazy, stepHandler } from "@gantry/aws";
import { type DeployDeps, type DeploymentState, deploy, systemClock } from "@gantry/core";

/** Deploy: publishes a version whose CodeSha256 is the artifact's and gives it the first traffic step. */
export type Deps = DeployDeps & { readonly log: Logger };

export const createHandler = (deps: Deps) =>
  stepHandler(deps.log, (state: DeploymentState) => deploy(state, deps));

export const awsDeps = (): Deps =>
  lazy<Deps>({
    functions: () => new LambdaFunctionControl(new LambdaClient({})),
    clock: () => systemClock,
    log: () => createLogger("deploy"),
  });

export const handler = createHandler(awsDeps());
