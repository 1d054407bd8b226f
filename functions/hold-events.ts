import type { Logger } from "@aws-lambda-powertools/logger";
import { S3Client } from "@aws-sdk/client-s3";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { SFNClient } from "@aws-sdk/client-sfn";
import {
  createLogger,
  EventBridgeHoldScheduler,
  lazy,
  requiredEnv,
  S3RecordStore,
  SfnWorkflowCallbacks,
  stepHandler,
} from "@gantry/aws";
import { type HoldEventsDeps, onHoldEvent, systemClock } from "@gantry/core";

/**
 * Ends holds: the EventBridge rule sends it the stage's alarms entering ALARM (each hold watching
 * one fails with AlarmTriggered), and each hold's one-time schedule sends it the hold's end.
 */
export type Deps = HoldEventsDeps & { readonly log: Logger };

export const createHandler = (deps: Deps) =>
  stepHandler(deps.log, (event: unknown) => {
    // Its settings are read before the first callback: a function missing one fails with
    // ConfigurationError (EventBridge retries) instead of after ending a hold half-way.
    requirePort(deps.scheduler);
    return onHoldEvent(event, deps);
  });

function requirePort(_port: unknown): void {}

export const awsDeps = (): Deps =>
  lazy<Deps>({
    records: () => new S3RecordStore(new S3Client({}), requiredEnv("GANTRY_STATE_BUCKET")),
    workflows: () => new SfnWorkflowCallbacks(new SFNClient({})),
    // Cancels schedules only: it needs their group, not their target.
    scheduler: () =>
      new EventBridgeHoldScheduler(new SchedulerClient({}), {
        groupName: requiredEnv("GANTRY_HOLD_SCHEDULE_GROUP"),
      }),
    clock: () => systemClock,
    log: () => createLogger("hold-events"),
  });

export const handler = createHandler(awsDeps());
