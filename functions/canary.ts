import type { Logger } from "@aws-lambda-powertools/logger";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { createLogger, LambdaFunctionControl, lazy, stepHandler } from "@gantry/aws";
import { type CanaryDeps, canary, type DeploymentState, systemClock } from "@gantry/core";

/**
 * Canary: invokes the new version directly with the service's canary events and, only if every
 * check passes, gives it the first traffic step.
 */
export type Deps = CanaryDeps & { readonly log: Logger };

export const createHandler = (deps: Deps) =>
  stepHandler(deps.log, (state: DeploymentState) => canary(state, deps));

export const awsDeps = (): Deps =>
  lazy<Deps>({
    functions: () => new LambdaFunctionControl(new LambdaClient({})),
    clock: () => systemClock,
    log: () => createLogger("canary"),
  });

export const handler = createHandler(awsDeps());
