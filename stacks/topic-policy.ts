import type { PolicyDocument } from "./policy.ts";

/**
 * Who may publish to the notifications topic: the deployment-outcome rule and Gantry's alarms,
 * each named by ARN.
 *
 * @example
 * ```ts
 * notificationTopicPolicy(topicArn, outcomeRuleArn, alarmArns);
 * ```
 */
export function notificationTopicPolicy(
  topicArn: string,
  outcomeRuleArn: string,
  alarmArns: readonly string[],
): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DeploymentOutcomes",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sns:Publish",
        Resource: topicArn,
        Condition: { ArnEquals: { "aws:SourceArn": outcomeRuleArn } },
      },
      {
        Sid: "GantryAlarms",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: "sns:Publish",
        Resource: topicArn,
        Condition: { ArnEquals: { "aws:SourceArn": [...alarmArns] } },
      },
    ],
  };
}
