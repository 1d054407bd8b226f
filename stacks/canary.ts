import { CANARY_SCHEDULE } from "./events.ts";

/**
 * The hourly scheduled canary: an SST CronV2 (an EventBridge Scheduler schedule, with a role
 * that may invoke only this function) running `functions/scheduled-canary.ts`, which runs every
 * registered service's canary spec against its prod alias and publishes CanaryFailures (the
 * `<service>-canary` alarms watch it). SST v4 deprecates `sst.aws.Cron` (EventBridge rules)
 * in favour of CronV2.
 *
 * @example
 * ```ts
 * createCanarySchedule(functions["scheduled-canary"].arn);
 * ```
 */
export function createCanarySchedule(functionArn: $util.Input<string>) {
  return new sst.aws.CronV2("HourlyCanary", { function: functionArn, schedule: CANARY_SCHEDULE });
}
