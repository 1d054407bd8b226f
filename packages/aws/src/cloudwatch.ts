import { type CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import type { AlarmReader, AlarmStatus } from "@gantry/core";
import { aws } from "./errors.ts";

/** DescribeAlarms takes at most 100 names per call. */
const NAMES_PER_CALL = 100;

/**
 * Alarm states from CloudWatch. Composite alarms count too.
 *
 * @example
 * ```ts
 * const alarms = new CloudWatchAlarms(new CloudWatchClient({}));
 * const firing = (await alarms.describe(["hello-service-errors"])).filter((a) => a.state === "ALARM");
 * ```
 */
export class CloudWatchAlarms implements AlarmReader {
  readonly #cloudwatch: CloudWatchClient;

  constructor(cloudwatch: CloudWatchClient) {
    this.#cloudwatch = cloudwatch;
  }

  async describe(names: readonly string[]): Promise<AlarmStatus[]> {
    const statuses: AlarmStatus[] = [];
    for (let i = 0; i < names.length; i += NAMES_PER_CALL) {
      const batch = names.slice(i, i + NAMES_PER_CALL);
      let token: string | undefined;
      do {
        const out = await aws("DescribeAlarms", () =>
          this.#cloudwatch.send(
            new DescribeAlarmsCommand({
              AlarmNames: batch,
              AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
              NextToken: token,
            }),
          ),
        );
        for (const alarm of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) {
          statuses.push({
            name: alarm.AlarmName ?? "",
            state: (alarm.StateValue ?? "INSUFFICIENT_DATA") as AlarmStatus["state"],
            reason: alarm.StateReason ?? "",
            updatedAt: alarm.StateUpdatedTimestamp?.toISOString() ?? "",
          });
        }
        token = out.NextToken;
      } while (token);
    }
    return statuses;
  }
}
