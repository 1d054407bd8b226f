import type { Logger } from "@aws-lambda-powertools/logger";
import { LambdaClient } from "@aws-sdk/client-lambda";
import {
  createLogger,
  EmfMetrics,
  LambdaFunctionControl,
  lazy,
  stageFromEnv,
  stepHandler,
} from "@gantry/aws";
import {
  type Registry,
  runScheduledCanary,
  type ScheduledCanaryDeps,
  type Stage,
} from "@gantry/core";
import registry from "../gantry.registry.ts";

/**
 * The hourly canary (a Cron): runs every registered service's canary spec against the stage's
 * alias and publishes CanaryFailures, which each service's `<service>-canary` alarm watches.
 */
export type Deps = ScheduledCanaryDeps & {
  readonly registry: Registry;
  readonly stage: Stage;
  readonly log: Logger;
};

export const createHandler = (deps: Deps) =>
  stepHandler(deps.log, async (_event: unknown) => {
    const results = await runScheduledCanary(deps.registry, deps.stage, deps);
    return { failures: results.reduce((sum, r) => sum + r.failures, 0), services: results };
  });

export const awsDeps = (): Deps =>
  lazy<Deps>({
    functions: () => new LambdaFunctionControl(new LambdaClient({})),
    metrics: () => new EmfMetrics(),
    registry: () => registry,
    stage: stageFromEnv,
    log: () => createLogger("scheduled-canary"),
  });

export const handler = createHandler(awsDeps());
