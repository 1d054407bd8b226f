import type { Logger } from "@aws-lambda-powertools/logger";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { S3Client } from "@aws-sdk/client-s3";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import {
  CloudWatchAlarms,
  createLogger,
  EventBridgeHoldScheduler,
  lazy,
  requiredEnv,
  S3RecordStore,
  stepHandler,
} from "@gantry/aws";
import { type HoldDeps, type HoldEvent, startHold, systemClock } from "@gantry/core";

/**
 * HoldTrafficStep and Bake (`.waitForTaskToken`): records the hold's watch, schedules its end and
 * reads the alarms once; hold-events ends the Task. The event carries the task token: never logged.
 */
export type Deps = HoldDeps & { readonly log: Logger };

export const createHandler = (deps: Deps) =>
  stepHandler(deps.log, (event: HoldEvent) => {
    // The scheduler's settings are read before the watch is written: a function missing one
    // fails with ConfigurationError having written nothing (deps are lazy, config.ts).
    requirePort(deps.scheduler);
    return startHold(event, deps);
  });

function requirePort(_port: unknown): void {}

export const awsDeps = (): Deps =>
  lazy<Deps>({
    records: () => new S3RecordStore(new S3Client({}), requiredEnv("GANTRY_STATE_BUCKET")),
    alarms: () => new CloudWatchAlarms(new CloudWatchClient({})),
    scheduler: () =>
      new EventBridgeHoldScheduler(new SchedulerClient({}), {
        groupName: requiredEnv("GANTRY_HOLD_SCHEDULE_GROUP"),
        target: {
          functionArn: requiredEnv("GANTRY_HOLD_EVENTS_ARN"),
          roleArn: requiredEnv("GANTRY_HOLD_SCHEDULER_ROLE_ARN"),
        },
      }),
    clock: () => systemClock,
    log: () => createLogger("hold"),
  });

export const handler = createHandler(awsDeps());
