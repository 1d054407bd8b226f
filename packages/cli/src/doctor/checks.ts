/**
 * `gantry doctor`'s checks, by family, each in its own module beside this one: function roles
 * (roles.ts), alarms (alarms.ts), SES (ses.ts), target aliases (aliases.ts), buckets
 * (buckets.ts) and key secrets (secrets.ts). Each is a plain function over an SDK client that
 * returns one result per thing checked (result.ts). Read-only: nothing here changes the
 * account, reads a secret's value or sends mail. This module runs them all for a stage.
 */
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { IAMClient } from "@aws-sdk/client-iam";
import type { LambdaClient } from "@aws-sdk/client-lambda";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { SESv2Client } from "@aws-sdk/client-sesv2";
import { GetCallerIdentityCommand, type STSClient } from "@aws-sdk/client-sts";
import { checkAlarms } from "./alarms.ts";
import { checkAlias } from "./aliases.ts";
import { checkBucket } from "./buckets.ts";
import { mapLimit } from "./map-limit.ts";
import type { DoctorPlan } from "./plan.ts";
import type { CheckResult } from "./result.ts";
import { checkRole } from "./roles.ts";
import { checkSecret } from "./secrets.ts";
import { checkSes } from "./ses.ts";

/** The clients doctor uses, all in the stage's region. */
export interface DoctorClients {
  readonly sts: STSClient;
  readonly iam: IAMClient;
  readonly cloudwatch: CloudWatchClient;
  readonly lambda: LambdaClient;
  readonly ses: SESv2Client;
  readonly s3: S3Client;
  readonly secrets: SecretsManagerClient;
}

/** Who is asking: the account and partition every ARN is built in. */
export interface Caller {
  readonly accountId: string;
  readonly partition: string;
  readonly arn: string;
}

/**
 * The caller's account and partition (STS GetCallerIdentity, which needs no permission).
 *
 * @example
 * ```ts
 * const { accountId, partition } = await callerOf(new STSClient({}));
 * ```
 */
export async function callerOf(sts: STSClient): Promise<Caller> {
  const out = await sts.send(new GetCallerIdentityCommand({}));
  const arn = out.Arn ?? "";
  return { accountId: out.Account ?? "", partition: arn.split(":")[1] || "aws", arn };
}

/**
 * Every check of a stage, in the order they are printed: function roles, alarms, SES, target
 * aliases, buckets, secrets.
 *
 * @example
 * ```ts
 * const results = await runChecks(clients, plan);
 * const failed = results.some((r) => r.status === "fail");
 * ```
 */
export async function runChecks(clients: DoctorClients, plan: DoctorPlan): Promise<CheckResult[]> {
  const { stage, env } = plan;
  const [roles, alarms, ses, aliases, buckets, secrets] = await Promise.all([
    // IAM's API has a low request rate: a few roles at a time.
    mapLimit(plan.roles, 3, (role) => checkRole(clients.iam, role, stage)),
    checkAlarms(clients.cloudwatch, plan.targets, stage, plan.compositeAlarmsReadable),
    checkSes(clients.ses, plan.ses, stage, env.region),
    mapLimit(plan.targets, 4, (target) => checkAlias(clients.lambda, target, stage)),
    mapLimit(plan.buckets, 4, (bucket) => checkBucket(clients.s3, bucket, env, stage)),
    mapLimit(plan.secrets, 4, (secret) => checkSecret(clients.secrets, secret, stage)),
  ]);
  return [...roles, ...alarms, ...ses, ...aliases, ...buckets, ...secrets];
}
