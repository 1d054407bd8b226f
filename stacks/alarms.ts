import type { Registry, Stage } from "@gantry/core";
import { alarmSpecs } from "./alarm-specs.ts";
import { type AwsEnv, alarmArn, stateMachineArn } from "./arns.ts";
import { executionStatusPattern, OUTCOME_STATUSES, RECONCILED_STATUSES } from "./events.ts";
import { stateMachineName, topicName } from "./names.ts";
import { notificationTopicPolicy } from "./topic-policy.ts";

/**
 * Alarms and notifications: an SNS topic that receives every deployment's outcome (an
 * EventBridge rule on this state machine's execution status changes) and Gantry's alarms; and
 * a second rule that sends aborted and timed-out executions to the reconcile function, which
 * cleans up after them.
 */

export interface NotificationsArgs {
  readonly stage: Stage;
  readonly env: AwsEnv;
  readonly registry: Registry;
  readonly reconcileFunctionArn: $util.Input<string>;
  /** Addresses to subscribe (each confirms by email). */
  readonly notifyEmails: readonly string[];
}

function componentName(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}

function ruleArn(env: AwsEnv, name: string): string {
  return `arn:${env.partition}:events:${env.region}:${env.accountId}:rule/${name}`;
}

/**
 * Creates the topic, the two rules and the alarms.
 *
 * @example
 * ```ts
 * const { topic, alarms } = createNotifications({ stage, env, registry, reconcileFunctionArn, notifyEmails: [] });
 * ```
 */
export function createNotifications(args: NotificationsArgs) {
  const { stage, env } = args;
  const machineArn = stateMachineArn(env, stateMachineName(stage));
  const topic = new aws.sns.Topic("Notifications", { name: topicName(stage) });
  for (const [i, email] of args.notifyEmails.entries()) {
    new aws.sns.TopicSubscription(`NotificationsEmail${i + 1}`, {
      topic: topic.arn,
      protocol: "email",
      endpoint: email,
    });
  }

  const outcomeRuleName = `gantry-${stage}-deployment-outcomes`;
  const outcomes = new aws.cloudwatch.EventRule("DeploymentOutcomes", {
    name: outcomeRuleName,
    description: `Every ${stateMachineName(stage)} execution that ends`,
    eventPattern: JSON.stringify(executionStatusPattern(machineArn, OUTCOME_STATUSES)),
  });
  new aws.cloudwatch.EventTarget("DeploymentOutcomesToTopic", {
    rule: outcomes.name,
    arn: topic.arn,
  });

  const abandoned = new aws.cloudwatch.EventRule("AbandonedExecutions", {
    name: `gantry-${stage}-abandoned-executions`,
    description: `${stateMachineName(stage)} executions that may need reconciling (ended without their failure path, a failed rollback or Finish)`,
    eventPattern: JSON.stringify(executionStatusPattern(machineArn, RECONCILED_STATUSES)),
  });
  new aws.cloudwatch.EventTarget("AbandonedExecutionsToReconcile", {
    rule: abandoned.name,
    arn: args.reconcileFunctionArn,
  });
  new aws.lambda.Permission("ReconcileFromEventBridge", {
    action: "lambda:InvokeFunction",
    function: args.reconcileFunctionArn,
    principal: "events.amazonaws.com",
    sourceArn: abandoned.arn,
  });

  const specs = alarmSpecs(args.registry, stage, machineArn);
  const alarms = specs.map(
    (spec) =>
      new aws.cloudwatch.MetricAlarm(`${componentName(spec.name)}Alarm`, {
        name: spec.name,
        alarmDescription: spec.description,
        namespace: spec.namespace,
        metricName: spec.metricName,
        dimensions: { ...spec.dimensions },
        statistic: spec.statistic,
        period: spec.periodSeconds,
        evaluationPeriods: spec.evaluationPeriods,
        threshold: spec.threshold,
        comparisonOperator: spec.comparisonOperator,
        treatMissingData: spec.treatMissingData,
        alarmActions: [topic.arn],
        okActions: [topic.arn],
      }),
  );

  new aws.sns.TopicPolicy("NotificationsPolicy", {
    arn: topic.arn,
    policy: topic.arn.apply((arn) =>
      JSON.stringify(
        notificationTopicPolicy(
          arn,
          ruleArn(env, outcomeRuleName),
          specs.map((s) => alarmArn(env, s.name)),
        ),
      ),
    ),
  });
  return { topic, outcomes, abandoned, alarms };
}
