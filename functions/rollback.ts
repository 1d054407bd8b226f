import type { Logger } from "@aws-lambda-powertools/logger";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { createLogger, LambdaFunctionControl, lazy, stepHandler } from "@gantry/aws";
import { type DeploymentState, type RollbackDeps, rollback, systemClock } from "@gantry/core";

/** Rollback: restores the previous version, weights cleared, and verifies it. */
export type Deps = RollbackDeps & { readonly log: Logger };

export const createHandler = (deps: Deps) =>
  stepHandler(deps.log, (state: DeploymentState) => rollback(state, deps));

export const awsDeps = (): Deps =>
  lazy<Deps>({
    functions: () => new LambdaFunctionControl(new LambdaClient({})),
    clock: () => systemClock,
    log: () => createLogger("rollback"),
  });

export const handler = createHandler(awsDeps());
