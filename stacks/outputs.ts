/**
 * What CI and operators need from a deployed stage (`npx sst deploy` prints these, and
 * `.sst/outputs.json` keeps them).
 */
export interface ControlPlaneOutputs {
  /** Where CI starts deployments (StartExecution). */
  readonly stateMachineArn: $util.Input<string>;
  /** The approval pages (the Function URL). */
  readonly approvalUrl: $util.Input<string>;
  /** The operator approval API (`gantry approve --operator-url`): an `AWS_IAM` Function URL. */
  readonly operatorUrl: $util.Input<string>;
  /** This stage's artifact bucket. */
  readonly artifactBucket: $util.Input<string>;
  /** Locks, approvals and deployment records. */
  readonly stateBucket: $util.Input<string>;
  /** Deployment outcomes and alarms. */
  readonly notificationsTopicArn: $util.Input<string>;
  /** preprod with a separate prod account: set this as GANTRY_PREPROD_ROLE_ARN in prod. */
  readonly preprodReadRoleArn?: $util.Input<string>;
}

/**
 * The app's outputs, with stable names.
 *
 * @example
 * ```ts
 * return controlPlaneOutputs({ stateMachineArn: machine.arn, ... });
 * ```
 */
export function controlPlaneOutputs(
  outputs: ControlPlaneOutputs,
): Record<string, $util.Input<string>> {
  return {
    stateMachineArn: outputs.stateMachineArn,
    approvalUrl: outputs.approvalUrl,
    operatorUrl: outputs.operatorUrl,
    artifactBucket: outputs.artifactBucket,
    stateBucket: outputs.stateBucket,
    notificationsTopicArn: outputs.notificationsTopicArn,
    ...(outputs.preprodReadRoleArn ? { preprodReadRoleArn: outputs.preprodReadRoleArn } : {}),
  };
}
