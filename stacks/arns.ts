/**
 * ARNs built from names: the policies are plain data over these, so every resource a function
 * may touch is spelled out and testable.
 */

/** Where a stage runs: the partition, region and account of its resources. */
export interface AwsEnv {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
}

/**
 * A Lambda function's unqualified ARN.
 *
 * @example
 * ```ts
 * lambdaArn(env, "hello-service-prod"); // "arn:aws:lambda:us-east-1:123456789012:function:hello-service-prod"
 * ```
 */
export function lambdaArn(env: AwsEnv, functionName: string): string {
  return `arn:${env.partition}:lambda:${env.region}:${env.accountId}:function:${functionName}`;
}

/** Every version and alias of a function (`<arn>:*`). */
export function lambdaQualifiedArns(env: AwsEnv, functionName: string): string {
  return `${lambdaArn(env, functionName)}:*`;
}

/** One alias or version of a function. */
export function lambdaQualifiedArn(env: AwsEnv, functionName: string, qualifier: string): string {
  return `${lambdaArn(env, functionName)}:${qualifier}`;
}

export function alarmArn(env: AwsEnv, alarmName: string): string {
  return `arn:${env.partition}:cloudwatch:${env.region}:${env.accountId}:alarm:${alarmName}`;
}

export function bucketArn(partition: string, bucket: string): string {
  return `arn:${partition}:s3:::${bucket}`;
}

/** Objects under a key prefix (`prefix` ends with `/`, or is a full key pattern). */
export function objectsArn(partition: string, bucket: string, keyPattern: string): string {
  return `arn:${partition}:s3:::${bucket}/${keyPattern}`;
}

export function stateMachineArn(env: AwsEnv, name: string): string {
  return `arn:${env.partition}:states:${env.region}:${env.accountId}:stateMachine:${name}`;
}

/** Every execution of one state machine. */
export function executionsArn(env: AwsEnv, stateMachineName: string): string {
  return `arn:${env.partition}:states:${env.region}:${env.accountId}:execution:${stateMachineName}:*`;
}

export function roleArn(partition: string, accountId: string, roleName: string): string {
  return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}

/** The log streams of one log group (what PutLogEvents is authorised on). */
export function logStreamsArn(env: AwsEnv, logGroupName: string): string {
  return `arn:${env.partition}:logs:${env.region}:${env.accountId}:log-group:${logGroupName}:*`;
}

/** An SES identity: an address or a domain. */
export function sesIdentityArn(env: AwsEnv, identity: string): string {
  return `arn:${env.partition}:ses:${env.region}:${env.accountId}:identity/${identity}`;
}

/**
 * A Secrets Manager secret by name. AWS appends `-` and six random characters to a secret's
 * ARN, so a policy that names a secret before it exists matches exactly that suffix (`??????`,
 * six single characters): a secret whose name merely starts with the same text does not match.
 *
 * @example
 * ```ts
 * secretArn(env, "gantry-prod-link-keys"); // "arn:aws:secretsmanager:us-east-1:123456789012:secret:gantry-prod-link-keys-??????"
 * ```
 */
export function secretArn(env: AwsEnv, secretName: string): string {
  return `arn:${env.partition}:secretsmanager:${env.region}:${env.accountId}:secret:${secretName}-??????`;
}

/** Every schedule of one EventBridge Scheduler group (what Create/DeleteSchedule are authorised on). */
export function schedulesArn(env: AwsEnv, groupName: string): string {
  return `arn:${env.partition}:scheduler:${env.region}:${env.accountId}:schedule/${groupName}/*`;
}

/** An EventBridge Scheduler group. */
export function scheduleGroupArn(env: AwsEnv, groupName: string): string {
  return `arn:${env.partition}:scheduler:${env.region}:${env.accountId}:schedule-group/${groupName}`;
}

/** An EventBridge rule on the default event bus. */
export function eventRuleArn(env: AwsEnv, name: string): string {
  return `arn:${env.partition}:events:${env.region}:${env.accountId}:rule/${name}`;
}
