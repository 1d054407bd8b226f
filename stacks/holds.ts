import type { Registry, Stage } from "@gantry/core";
import type { AwsEnv } from "./arns.ts";
import { holdAlarmPatterns } from "./events.ts";
import { holdAlarmRuleName, holdScheduleGroupName, holdSchedulerRoleName } from "./names.ts";
import { holdSchedulerStatements, holdSchedulerTrustPolicy, policyDocument } from "./policy.ts";

/**
 * What ends a hold (the hold and hold-events functions, packages/core/src/steps/hold.ts):
 * - EventBridge rules sending the stage's registry alarms entering ALARM to hold-events, which
 *   may be invoked by exactly those rules;
 * - the stage's EventBridge Scheduler group, in which the hold function creates each hold's
 *   one-time schedule, and the role Scheduler assumes to invoke hold-events with it.
 * Names are fixed (names.ts), so the functions' settings and policies name these before they
 * exist, and nothing here depends on the hold function.
 */

/**
 * The alarms holds watch in a stage: every registered service's alarms there.
 *
 * @example
 * ```ts
 * holdWatchedAlarms(registry, "prod"); // ["hello-service-prod-errors", ...]
 * ```
 */
export function holdWatchedAlarms(registry: Registry, stage: Stage): string[] {
  const names = Object.values(registry.services).flatMap((s) => s.stages[stage].alarms);
  return [...new Set(names)].sort();
}

export interface HoldsArgs {
  readonly stage: Stage;
  readonly env: AwsEnv;
  readonly registry: Registry;
  readonly holdEventsFunctionArn: $util.Input<string>;
}

/**
 * Creates the alarm rules (with their permission to invoke hold-events), the schedule group and
 * the scheduler's role.
 *
 * @example
 * ```ts
 * const { group, schedulerRole, rules } = createHolds({ stage, env, registry, holdEventsFunctionArn });
 * ```
 */
export function createHolds(args: HoldsArgs) {
  const { stage, env } = args;
  const group = new aws.scheduler.ScheduleGroup("HoldSchedules", {
    name: holdScheduleGroupName(stage),
  });
  const schedulerRole = new aws.iam.Role("HoldSchedulerRole", {
    name: holdSchedulerRoleName(stage),
    description: `Gantry ${stage}: EventBridge Scheduler delivers holds' ends to hold-events`,
    assumeRolePolicy: JSON.stringify(holdSchedulerTrustPolicy(env)),
    inlinePolicies: [
      {
        name: "invoke-hold-events",
        policy: $output(args.holdEventsFunctionArn).apply((arn) =>
          JSON.stringify(policyDocument(holdSchedulerStatements(arn))),
        ),
      },
    ],
  });
  const rules = holdAlarmPatterns(holdWatchedAlarms(args.registry, stage)).map((pattern, i) => {
    const id = i === 0 ? "HoldAlarms" : `HoldAlarms${i + 1}`;
    const rule = new aws.cloudwatch.EventRule(id, {
      name: holdAlarmRuleName(stage, i),
      description: `The ${stage} registry's alarms entering ALARM: ends the holds watching them`,
      eventPattern: JSON.stringify(pattern),
    });
    new aws.cloudwatch.EventTarget(`${id}ToHoldEvents`, {
      rule: rule.name,
      arn: args.holdEventsFunctionArn,
      // A lost event delays a rollback to the hold's end; retry it while it still matters.
      retryPolicy: { maximumEventAgeInSeconds: 600, maximumRetryAttempts: 10 },
    });
    new aws.lambda.Permission(`${id}InvokeHoldEvents`, {
      action: "lambda:InvokeFunction",
      function: args.holdEventsFunctionArn,
      principal: "events.amazonaws.com",
      sourceArn: rule.arn,
    });
    return rule;
  });
  return { group, schedulerRole, rules };
}
