/** doctor's alarm checks: the alarms the registry names exist and watch their target's alias. */
import {
  type CloudWatchClient,
  type CompositeAlarm,
  DescribeAlarmsCommand,
  type MetricAlarm,
} from "@aws-sdk/client-cloudwatch";
import type { Stage } from "@gantry/core";
import type { TargetPlan } from "./plan.ts";
import { type CheckResult, callerNeeds, describeError, isAccessDenied } from "./result.ts";

type Dimensions = readonly { Name?: string | undefined; Value?: string | undefined }[];

/** What a metric alarm watches of a target: its alias, the whole function, or something else. */
export function alarmWatches(
  alarm: MetricAlarm,
  functionName: string,
  alias: string,
): "alias" | "function" | "other" {
  const metrics: Dimensions[] = alarm.MetricName
    ? [alarm.Dimensions ?? []]
    : (alarm.Metrics ?? []).flatMap((m) =>
        m.MetricStat?.Metric ? [m.MetricStat.Metric.Dimensions ?? []] : [],
      );
  const value = (dimensions: Dimensions, name: string) =>
    dimensions.find((d) => d.Name === name)?.Value;
  const qualified = `${functionName}:${alias}`;
  if (
    metrics.some(
      (d) =>
        value(d, "Resource") === qualified &&
        [undefined, functionName].includes(value(d, "FunctionName")),
    )
  ) {
    return "alias";
  }
  if (metrics.some((d) => value(d, "FunctionName") === functionName)) return "function";
  return "other";
}

function metricOf(alarm: MetricAlarm): string {
  if (alarm.MetricName) return `${alarm.Namespace ?? "?"} ${alarm.MetricName}`;
  return `metric math over ${(alarm.Metrics ?? []).filter((m) => m.MetricStat).length} metrics`;
}

/** Names DescribeAlarms finds, 100 at a time, both types. */
async function describeAlarms(
  cloudwatch: CloudWatchClient,
  names: readonly string[],
): Promise<{ metric: MetricAlarm[]; composite: CompositeAlarm[] }> {
  const metric: MetricAlarm[] = [];
  const composite: CompositeAlarm[] = [];
  for (let i = 0; i < names.length; i += 100) {
    let token: string | undefined;
    do {
      const out = await cloudwatch.send(
        new DescribeAlarmsCommand({
          AlarmNames: names.slice(i, i + 100),
          AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
          ...(token ? { NextToken: token } : {}),
        }),
      );
      metric.push(...(out.MetricAlarms ?? []));
      composite.push(...(out.CompositeAlarms ?? []));
      token = out.NextToken;
    } while (token);
  }
  return { metric, composite };
}

/**
 * Every alarm the registry names for the stage exists (a missing alarm fails every deployment
 * of its service at the first alarm poll), and each metric alarm watches its target's alias
 * (dimensions `FunctionName` + `Resource=<function>:<alias>`, or `Resource` alone): an alarm on
 * the whole function or on another metric is a warning, as is one in ALARM now. A composite
 * alarm passes (its rule is not checked) unless check-alarms may not read it: CloudWatch
 * describes composite alarms only to callers allowed `cloudwatch:DescribeAlarms` on `*`.
 *
 * @example
 * ```ts
 * const results = await checkAlarms(cloudwatch, plan.targets, "prod");
 * ```
 */
export async function checkAlarms(
  cloudwatch: CloudWatchClient,
  targets: readonly TargetPlan[],
  stage: Stage,
  /** Whether check-alarms may read composite alarms (`DoctorPlan.compositeAlarmsReadable`). */
  compositeAlarmsReadable = true,
): Promise<CheckResult[]> {
  const names = [...new Set(targets.flatMap((t) => t.alarms))];
  const results: CheckResult[] = [];
  for (const target of targets.filter((t) => t.alarms.length === 0)) {
    results.push({
      check: "alarm",
      subject: target.service,
      status: "warn",
      message: `the registry names no alarms for ${target.service} in ${stage}: nothing stops a bad rollout`,
      fix: `create an alarm on ${target.functionName}:${target.alias} (errors, latency) and list it in gantry.registry.ts`,
    });
  }
  if (names.length === 0) return results;
  let found: Awaited<ReturnType<typeof describeAlarms>>;
  try {
    found = await describeAlarms(cloudwatch, names);
  } catch (error) {
    results.push({
      check: "alarm",
      subject: names.join(", "),
      status: "fail",
      message: `cannot describe the alarms: ${describeError(error)}`,
      ...(isAccessDenied(error) ? { fix: callerNeeds("cloudwatch:DescribeAlarms") } : {}),
    });
    return results;
  }
  for (const target of targets) {
    for (const name of target.alarms) {
      results.push(alarmResult(target, name, found, stage, compositeAlarmsReadable));
    }
  }
  return results;
}

function alarmResult(
  target: TargetPlan,
  name: string,
  found: { metric: readonly MetricAlarm[]; composite: readonly CompositeAlarm[] },
  stage: Stage,
  compositeAlarmsReadable: boolean,
): CheckResult {
  const base = { check: "alarm" as const, subject: name };
  const qualified = `${target.functionName}:${target.alias}`;
  const metric = found.metric.find((a) => a.AlarmName === name);
  const composite = found.composite.find((a) => a.AlarmName === name);
  if (!metric && !composite) {
    return {
      ...base,
      status: "fail",
      message: `does not exist (${target.service} names it for ${stage}): every deployment of ${target.service} would fail at its first alarm check`,
      fix: `create it (an alarm on AWS/Lambda metrics with FunctionName=${target.functionName}, Resource=${qualified}), or take it out of gantry.registry.ts and redeploy (if it is a composite alarm: doctor sees one only with cloudwatch:DescribeAlarms on *)`,
    };
  }
  const state = (metric ?? composite)?.StateValue ?? "INSUFFICIENT_DATA";
  if (composite && !compositeAlarmsReadable) {
    return {
      ...base,
      status: "fail",
      message: `a composite alarm, ${state}: CloudWatch shows composite alarms only to callers allowed cloudwatch:DescribeAlarms on *, and Gantry's check-alarms role is allowed it on alarm ARNs only: every deployment of ${target.service} would fail with "alarms not found"`,
      fix: `list the metric alarms it combines in gantry.registry.ts instead (alarms on ${qualified})`,
    };
  }
  if (composite) {
    return {
      ...base,
      status: state === "ALARM" ? "warn" : "ok",
      message: `a composite alarm (its rule is not checked), ${state}${state === "ALARM" ? ": it is in ALARM now: a deployment would stop at its first alarm check" : ""}`,
      ...(state === "ALARM" ? { fix: `find out why ${name} fires before deploying` } : {}),
    };
  }
  const alarm = metric as MetricAlarm;
  const watches = alarmWatches(alarm, target.functionName, target.alias);
  const warnings: string[] = [];
  const fixes: string[] = [];
  let what = `${metricOf(alarm)} on ${qualified}`;
  if (watches === "function") {
    what = `${metricOf(alarm)} on the whole function ${target.functionName}`;
    warnings.push(
      `it watches every version of ${target.functionName}, not the alias ${target.alias}`,
    );
    fixes.push(`add the dimension Resource=${qualified} so it sees the traffic the alias serves`);
  } else if (watches === "other") {
    what = metricOf(alarm);
    warnings.push(
      `its metric does not name ${qualified} (no FunctionName/Resource dimension for it)`,
    );
    fixes.push(
      `make sure it measures ${target.service}; an alarm on AWS/Lambda with FunctionName=${target.functionName}, Resource=${qualified} watches the alias's traffic`,
    );
  }
  if (state === "ALARM") {
    warnings.push("it is in ALARM now: a deployment would stop at its first alarm check");
    fixes.push(`find out why ${name} fires before deploying`);
  }
  return {
    ...base,
    status: warnings.length > 0 ? "warn" : "ok",
    message: `${what}, ${state}${warnings.length > 0 ? `: ${warnings.join("; ")}` : ""}`,
    ...(fixes.length > 0 ? { fix: fixes.join("; ") } : {}),
  };
}
