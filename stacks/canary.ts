import { CANARY_SCHEDULE } from "./events.ts";

/**
 * The hourly scheduled canary: an SST Cron running `functions/scheduled-canary.ts`, which runs
 * every registered service's canary spec against its prod alias and publishes CanaryFailures
 * (the `<service>-canary` alarms watch it).
 *
 * @example
 * ```ts
 * createCanarySchedule(functions["scheduled-canary"].arn);
 * ```
 */
export function createCanarySchedule(functionArn: $util.Input<string>) {
  return new sst.aws.Cron("HourlyCanary", { function: functionArn, schedule: CANARY_SCHEDULE });
}
