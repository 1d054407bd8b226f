import type { Logger } from "@aws-lambda-powertools/logger";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { LambdaClient } from "@aws-sdk/client-lambda";
import {
  CloudWatchAlarms,
  CloudWatchVersionMetrics,
  createLogger,
  LambdaFunctionControl,
  lazy,
  stepHandler,
} from "@gantry/aws";
import { type CheckAlarmsDeps, checkAlarms, type DeploymentState, systemClock } from "@gantry/core";

/**
 * CheckAlarms (and CheckBakeAlarms): the end-of-hold alarm check and, where the registry asks
 * for it, the version analysis (each version's own CloudWatch metrics, synthetic requests to the
 * new version when it is short of data); shifts traffic when due.
 */
export type Deps = CheckAlarmsDeps & { readonly log: Logger };

export const createHandler = (deps: Deps) =>
  stepHandler(deps.log, (state: DeploymentState) => checkAlarms(state, deps));

export const awsDeps = (): Deps =>
  lazy<Deps>({
    alarms: () => new CloudWatchAlarms(new CloudWatchClient({})),
    versionMetrics: () => new CloudWatchVersionMetrics(new CloudWatchClient({})),
    functions: () => new LambdaFunctionControl(new LambdaClient({})),
    clock: () => systemClock,
    log: () => createLogger("check-alarms"),
  });

export const handler = createHandler(awsDeps());
