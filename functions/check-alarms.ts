import type { Logger } from "@aws-lambda-powertools/logger";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { LambdaClient } from "@aws-sdk/client-lambda";
import {
  CloudWatchAlarms,
  createLogger,
  LambdaFunctionControl,
  lazy,
  stepHandler,
} from "@gantry/aws";
import { type CheckAlarmsDeps, checkAlarms, type DeploymentState, systemClock } from "@gantry/core";

/** CheckAlarms (and CheckBakeAlarms): the end-of-hold alarm check; shifts traffic when due. */
export type Deps = CheckAlarmsDeps & { readonly log: Logger };

export const createHandler = (deps: Deps) =>
  stepHandler(deps.log, (state: DeploymentState) => checkAlarms(state, deps));

export const awsDeps = (): Deps =>
  lazy<Deps>({
    alarms: () => new CloudWatchAlarms(new CloudWatchClient({})),
    functions: () => new LambdaFunctionControl(new LambdaClient({})),
    clock: () => systemClock,
    log: () => createLogger("check-alarms"),
  });

export const handler = createHandler(awsDeps());
