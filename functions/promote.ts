import type { Logger } from "@aws-lambda-powertools/logger";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { createLogger, LambdaFunctionControl, lazy, stepHandler } from "@gantry/aws";
import { type DeploymentState, type PromoteDeps, promote, systemClock } from "@gantry/core";

/** Promote: gives the new version 100% and starts the bake. */
export type Deps = PromoteDeps & { readonly log: Logger };

export const createHandler = (deps: Deps) =>
  stepHandler(deps.log, (state: DeploymentState) => promote(state, deps));

export const awsDeps = (): Deps =>
  lazy<Deps>({
    functions: () => new LambdaFunctionControl(new LambdaClient({})),
    clock: () => systemClock,
    log: () => createLogger("promote"),
  });

export const handler = createHandler(awsDeps());
