/**
 * `gantry doctor`'s checks: plain functions over SDK clients, each returning one result per
 * thing checked (`ok`, `warn` or `fail`, what was found and what to do about a failure). An AWS
 * error fails the check it happened in, never the others. Read-only: nothing here changes the
 * account, reads a secret's value or sends mail.
 */
import {
  type CloudWatchClient,
  type CompositeAlarm,
  DescribeAlarmsCommand,
  type MetricAlarm,
} from "@aws-sdk/client-cloudwatch";
import {
  type EvaluationResult,
  type IAMClient,
  SimulatePrincipalPolicyCommand,
} from "@aws-sdk/client-iam";
import { GetAliasCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import { GetBucketVersioningCommand, type S3Client } from "@aws-sdk/client-s3";
import { DescribeSecretCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  GetAccountCommand,
  GetEmailIdentityCommand,
  type GetEmailIdentityCommandOutput,
  type SESv2Client,
} from "@aws-sdk/client-sesv2";
import { GetCallerIdentityCommand, type STSClient } from "@aws-sdk/client-sts";
import type { Stage } from "@gantry/core";
import type { AwsEnv } from "../../../../stacks/arns.ts";
import type { PolicyStatement } from "../../../../stacks/policy.ts";
import type { BucketPlan, DoctorPlan, RolePlan, SecretPlan, SesPlan, TargetPlan } from "./plan.ts";

export type CheckStatus = "ok" | "warn" | "fail";

/** What a check is about: a function role, an alarm, SES, a target alias, a bucket, a secret. */
export type CheckKind = "role" | "alarm" | "ses" | "alias" | "bucket" | "secret";

/** An action on a resource the role should allow (or, for a deny statement, refuse) and does not. */
export interface Denial {
  readonly action: string;
  /** The resource as the policy names it (it may hold `*` and `?`). */
  readonly resource: string;
  /** The concrete ARN simulated for it. */
  readonly probedAs: string;
  /** IAM's EvalDecision: `allowed`, `implicitDeny`, `explicitDeny` (or `missing`). */
  readonly decision: string;
  /** What the statement says should happen. */
  readonly expected: "allowed" | "denied";
  /** The statement of `stacks/policy.ts` that asks for it. */
  readonly sid: string;
  /** Why, when IAM says: a permissions boundary, a service control policy, a statement. */
  readonly why?: string;
}

export interface CheckResult {
  readonly check: CheckKind;
  /** The role, alarm, identity, alias, bucket or secret checked. */
  readonly subject: string;
  readonly status: CheckStatus;
  /** What was found, in one line. */
  readonly message: string;
  /** More lines (each denied action, each DKIM record...). */
  readonly details?: readonly string[];
  /** What to do about a failure or a warning. */
  readonly fix?: string;
  /** role checks: every pair IAM does not decide as `stacks/policy.ts` says. */
  readonly denied?: readonly Denial[];
}

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

interface ErrorShape {
  name?: unknown;
  message?: unknown;
  Code?: unknown;
  $metadata?: { httpStatusCode?: number };
}

function errorName(error: unknown): string {
  const shape = (error ?? {}) as ErrorShape;
  if (typeof shape.name === "string" && shape.name !== "Error") return shape.name;
  return typeof shape.Code === "string" ? shape.Code : "Error";
}

function httpStatus(error: unknown): number | undefined {
  return ((error ?? {}) as ErrorShape).$metadata?.httpStatusCode;
}

/** An error in one line: its name and the first line of its message. */
function describeError(error: unknown): string {
  const message = ((error ?? {}) as ErrorShape).message;
  const text = typeof message === "string" && message ? message : String(error);
  return `${errorName(error)}: ${text.trim().split("\n")[0]?.trim() ?? ""}`;
}

function isAccessDenied(error: unknown): boolean {
  return /^AccessDenied/.test(errorName(error)) || httpStatus(error) === 403;
}

/** The fix for a check the caller was not allowed to make. */
function callerNeeds(permission: string): string {
  return `the caller needs ${permission} to run this check (docs/deploy.md lists doctor's permissions)`;
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping their order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

// ---------------------------------------------------------------------------------------------
// Function roles

/** The name that stands in for `*` in a simulated resource. */
export const PROBE_NAME = "gantry-doctor";

/**
 * A concrete ARN for a resource pattern of a policy, as a function would call it: `*` becomes
 * {@link PROBE_NAME}, `?` becomes `x` (so the six characters Secrets Manager appends to a
 * secret's ARN become `xxxxxx`). A lone `*` (the actions AWS cannot scope) stays `*`.
 *
 * @example
 * ```ts
 * probeArn("arn:aws:s3:::gantry-state-prod-1-us-east-1/locks/*"); // ".../locks/gantry-doctor"
 * ```
 */
export function probeArn(pattern: string): string {
  if (pattern === "*") return "*";
  return pattern.replaceAll("*", PROBE_NAME).replaceAll("?", "x");
}

/** One action on one resource, as a statement asks for it. */
export interface Probe {
  readonly action: string;
  readonly resource: string;
  readonly probedAs: string;
  readonly expected: "allowed" | "denied";
  readonly sid: string;
}

/**
 * Every action/resource pair the statements name, one per pair (a deny statement wins over an
 * allow naming the same pair, as in IAM).
 *
 * @example
 * ```ts
 * probesOf([{ sid: "TakeLocks", effect: "allow", actions: ["s3:GetObject"], resources: [locks] }]);
 * // [{ action: "s3:GetObject", resource: locks, probedAs: ".../locks/gantry-doctor", expected: "allowed", sid: "TakeLocks" }]
 * ```
 */
export function probesOf(statements: readonly PolicyStatement[]): Probe[] {
  const probes = new Map<string, Probe>();
  for (const statement of statements) {
    for (const action of statement.actions) {
      for (const resource of statement.resources) {
        const probedAs = probeArn(resource);
        const key = `${action.toLowerCase()} ${probedAs}`;
        const expected = statement.effect === "allow" ? "allowed" : "denied";
        if (probes.get(key)?.expected === "denied") continue;
        probes.set(key, { action, resource, probedAs, expected, sid: statement.sid });
      }
    }
  }
  return [...probes.values()];
}

/** How IAM decided one pair, and why when it says. */
function decisionOf(
  results: readonly EvaluationResult[],
  action: string,
  probedAs: string,
): { decision: string; why?: string } {
  const forAction = results.filter((r) => r.EvalActionName?.toLowerCase() === action.toLowerCase());
  for (const result of forAction) {
    const specific = result.ResourceSpecificResults?.find((r) => r.EvalResourceName === probedAs);
    const whole =
      !result.ResourceSpecificResults?.length &&
      (result.EvalResourceName === probedAs || forAction.length === 1);
    if (!specific && !whole) continue;
    const decision = (specific ? specific.EvalResourceDecision : result.EvalDecision) ?? "missing";
    const boundary =
      specific?.PermissionsBoundaryDecisionDetail ?? result.PermissionsBoundaryDecisionDetail;
    const matched = (specific?.MatchedStatements ?? result.MatchedStatements ?? [])
      .map((s) => s.SourcePolicyId)
      .filter((id): id is string => Boolean(id));
    let why: string | undefined;
    if (decision !== "allowed") {
      if (result.OrganizationsDecisionDetail?.AllowedByOrganizations === false) {
        why = "a service control policy denies it";
      } else if (boundary?.AllowedByPermissionsBoundary === false) {
        why = "the role's permissions boundary does not allow it";
      } else if (decision === "explicitDeny" && matched.length > 0) {
        why = `denied by ${[...new Set(matched)].join(", ")}`;
      } else if (decision === "implicitDeny") {
        why = "no policy of the role allows it";
      }
    } else if (matched.length > 0) {
      why = `allowed by ${[...new Set(matched)].join(", ")}`;
    }
    return why ? { decision, why } : { decision };
  }
  return { decision: "missing", why: "IAM returned no result for it" };
}

/**
 * Asks IAM how the role's policies decide every pair: one simulation for the actions on named
 * resources, and one without resources (IAM's default, `*`) for the actions AWS cannot scope;
 * each paged.
 */
async function simulate(
  iam: IAMClient,
  roleArn: string,
  probes: readonly Probe[],
): Promise<EvaluationResult[]> {
  const results: EvaluationResult[] = [];
  const scoped = probes.filter((p) => p.probedAs !== "*");
  const unscoped = probes.filter((p) => p.probedAs === "*");
  for (const group of [scoped, unscoped]) {
    if (group.length === 0) continue;
    const resources = group === scoped ? [...new Set(group.map((p) => p.probedAs))] : undefined;
    let marker: string | undefined;
    do {
      const out = await iam.send(
        new SimulatePrincipalPolicyCommand({
          PolicySourceArn: roleArn,
          ActionNames: [...new Set(group.map((p) => p.action))],
          ...(resources ? { ResourceArns: resources } : {}),
          MaxItems: 1000,
          ...(marker ? { Marker: marker } : {}),
        }),
      );
      results.push(...(out.EvaluationResults ?? []));
      marker = out.IsTruncated ? out.Marker : undefined;
    } while (marker);
  }
  return results;
}

/**
 * Whether one function's role allows every action on every resource its statements in
 * `stacks/policy.ts` name (and still refuses what a deny statement refuses), simulated by IAM
 * (`iam:SimulatePrincipalPolicy`) with the role's policies, its permissions boundary and the
 * organization's SCPs. Resource patterns are simulated as concrete ARNs ({@link probeArn}).
 *
 * @example
 * ```ts
 * const result = await checkRole(iam, plan.roles[0], "prod");
 * result.denied; // [{ action: "s3:PutObject", resource: ".../locks/*", decision: "implicitDeny", ... }]
 * ```
 */
export async function checkRole(
  iam: IAMClient,
  role: RolePlan,
  stage: Stage,
): Promise<CheckResult> {
  const base = { check: "role" as const, subject: role.roleName };
  const probes = probesOf(role.statements);
  let results: EvaluationResult[];
  try {
    results = await simulate(iam, role.roleArn, probes);
  } catch (error) {
    if (/^NoSuchEntity/.test(errorName(error))) {
      return {
        ...base,
        status: "fail",
        message: `the role does not exist (${role.fn} is not deployed in this account)`,
        fix: `deploy the stage in this account (npx sst deploy --stage ${stage}), or use the credentials of the account it was deployed in`,
      };
    }
    return {
      ...base,
      status: "fail",
      message: `cannot simulate its policies: ${describeError(error)}`,
      ...(isAccessDenied(error)
        ? { fix: callerNeeds(`iam:SimulatePrincipalPolicy on ${role.roleArn}`) }
        : {}),
    };
  }
  const denied: Denial[] = [];
  for (const probe of probes) {
    const { decision, why } = decisionOf(results, probe.action, probe.probedAs);
    const ok =
      decision !== "missing" &&
      (probe.expected === "allowed" ? decision === "allowed" : decision !== "allowed");
    if (!ok) denied.push({ ...probe, decision, ...(why ? { why } : {}) });
  }
  const allows = probes.filter((p) => p.expected === "allowed").length;
  const refuses = probes.length - allows;
  if (denied.length === 0) {
    return {
      ...base,
      status: "ok",
      message: `allows the ${allows} action/resource pair${allows === 1 ? "" : "s"} ${role.fn} needs${refuses > 0 ? `, and refuses the ${refuses} it must not do` : ""}`,
    };
  }
  return {
    ...base,
    status: "fail",
    message: `${denied.length} of its ${probes.length} action/resource pairs ${denied.length === 1 ? "is" : "are"} not as stacks/policy.ts says`,
    details: denied.map((d) =>
      d.expected === "denied" && d.decision === "allowed"
        ? `${d.action} on ${d.resource}: allowed${d.why ? ` (${d.why})` : ""}, but ${d.sid} must deny it`
        : `${d.action} on ${d.resource}: ${d.decision}${d.why ? ` (${d.why})` : ""}`,
    ),
    fix:
      `npx sst deploy --stage ${stage} puts the role's policy back as stacks/policy.ts says; ` +
      "a denial by a permissions boundary or an SCP needs that boundary or SCP to allow it",
    denied,
  };
}

// ---------------------------------------------------------------------------------------------
// Alarms

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
  /** Whether check-alarms may read composite alarms ({@link DoctorPlan.compositeAlarmsReadable}). */
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

// ---------------------------------------------------------------------------------------------
// SES

async function identity(
  ses: SESv2Client,
  name: string,
): Promise<GetEmailIdentityCommandOutput | undefined> {
  try {
    return await ses.send(new GetEmailIdentityCommand({ EmailIdentity: name }));
  } catch (error) {
    if (errorName(error) === "NotFoundException") return undefined;
    throw error;
  }
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1).toLowerCase();
}

/**
 * The sender identity is verified for sending (SESv2 GetEmailIdentity), and, when the account
 * is in the SES sandbox (GetAccount `ProductionAccessEnabled` false), that every approver is a
 * verified address or in a verified domain: in the sandbox SES only delivers to those.
 *
 * @example
 * ```ts
 * const results = await checkSes(ses, plan.ses, "prod", "us-east-1");
 * ```
 */
export async function checkSes(
  ses: SESv2Client,
  plan: SesPlan,
  stage: Stage,
  region: string,
): Promise<CheckResult[]> {
  if (!plan.identity) {
    return [
      {
        check: "ses",
        subject: "sender",
        status: "ok",
        message: `no approvals in ${stage} and no GANTRY_SENDER: Gantry sends no mail here`,
      },
    ];
  }
  const results: CheckResult[] = [await senderResult(ses, plan, stage, region)];
  if (!plan.approvals) return results;

  let sandbox: boolean;
  try {
    const account = await ses.send(new GetAccountCommand({}));
    if (account.SendingEnabled === false) {
      results.push({
        check: "ses",
        subject: `account (${region})`,
        status: "fail",
        message: `sending is paused for this account in ${region}${account.EnforcementStatus ? ` (enforcement status ${account.EnforcementStatus})` : ""}: no approval mail goes out`,
        fix: "see the SES console's Account dashboard (Reputation metrics) for why, and resume sending",
      });
      return results;
    }
    sandbox = account.ProductionAccessEnabled !== true;
  } catch (error) {
    results.push({
      check: "ses",
      subject: `account (${region})`,
      status: "fail",
      message: `cannot read the SES account: ${describeError(error)}`,
      ...(isAccessDenied(error) ? { fix: callerNeeds("ses:GetAccount") } : {}),
    });
    return results;
  }
  if (!sandbox) {
    results.push({
      check: "ses",
      subject: `account (${region})`,
      status: "ok",
      message: "production access: approval mail can go to any address",
    });
    return results;
  }
  results.push({
    check: "ses",
    subject: `account (${region})`,
    status: "warn",
    message: `in the SES sandbox: mail goes only to verified addresses, so each approver must be verified (checked below)`,
    fix: `request production access (SES console, Account dashboard, in ${region}), or keep every approver verified`,
  });
  results.push(
    ...(await mapLimit(plan.approvers, 4, (approver) => recipientResult(ses, approver))),
  );
  return results;
}

async function senderResult(
  ses: SESv2Client,
  plan: SesPlan,
  stage: Stage,
  region: string,
): Promise<CheckResult> {
  const name = plan.identity ?? "";
  const base = { check: "ses" as const, subject: name };
  let found: GetEmailIdentityCommandOutput | undefined;
  try {
    found = await identity(ses, name);
  } catch (error) {
    return {
      ...base,
      status: "fail",
      message: `cannot read the sender identity: ${describeError(error)}`,
      ...(isAccessDenied(error) ? { fix: callerNeeds("ses:GetEmailIdentity") } : {}),
    };
  }
  if (!found) {
    return {
      ...base,
      status: "fail",
      message: `the sender identity does not exist in ${region}`,
      fix: `npx sst deploy --stage ${stage} creates it from GANTRY_SENDER (GANTRY_SENDER_IDENTITY); check that doctor and the deploy use the same region and settings`,
    };
  }
  const type = found.IdentityType === "EMAIL_ADDRESS" ? "address" : "domain";
  const from = plan.sender && plan.sender !== name ? `, for ${plan.sender}` : "";
  if (found.VerifiedForSendingStatus === true) {
    return { ...base, status: "ok", message: `${type} identity verified for sending${from}` };
  }
  const status = found.VerificationStatus ?? "NOT_STARTED";
  if (type === "address") {
    return {
      ...base,
      status: "fail",
      message: `the address identity is not verified for sending (VerificationStatus ${status}): SES refuses to send from it`,
      fix: `click the link SES mailed to ${name} (to send it again: aws ses verify-email-identity --email-address ${name})`,
    };
  }
  const tokens = found.DkimAttributes?.Tokens ?? [];
  return {
    ...base,
    status: "fail",
    message: `the domain identity is not verified for sending (VerificationStatus ${status}): SES refuses to send from it`,
    ...(tokens.length > 0
      ? {
          details: tokens.map((t) => `CNAME ${t}._domainkey.${name} -> ${t}.dkim.amazonses.com`),
        }
      : {}),
    fix: `publish the DKIM CNAME records ${tokens.length > 0 ? "above" : `(aws sesv2 get-email-identity --email-identity ${name} --query DkimAttributes.Tokens)`} in ${name}'s DNS; SES verifies the domain once it sees them`,
  };
}

async function recipientResult(ses: SESv2Client, approver: string): Promise<CheckResult> {
  const base = { check: "ses" as const, subject: approver };
  try {
    const address = await identity(ses, approver);
    if (address?.VerifiedForSendingStatus === true) {
      return { ...base, status: "ok", message: "approver: a verified address" };
    }
    const domain = await identity(ses, domainOf(approver));
    if (domain?.VerifiedForSendingStatus === true) {
      return {
        ...base,
        status: "ok",
        message: `approver: in the verified domain ${domainOf(approver)}`,
      };
    }
    return {
      ...base,
      status: "fail",
      message: `approver: ${address ? `the address identity is not verified for sending (VerificationStatus ${address.VerificationStatus ?? "PENDING"})` : "not a verified identity"}: in the sandbox SES will not mail them`,
      fix: `aws sesv2 create-email-identity --email-identity ${approver} (they click the link SES sends), or request production access`,
    };
  } catch (error) {
    return {
      ...base,
      status: "fail",
      message: `approver: cannot read their identity: ${describeError(error)}`,
      ...(isAccessDenied(error) ? { fix: callerNeeds("ses:GetEmailIdentity") } : {}),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Target aliases

/**
 * A target's alias exists and points at a numbered version (Gantry's rollback returns to it;
 * `$LATEST` changes with every code update), with no weights left over from an interrupted
 * rollout.
 *
 * @example
 * ```ts
 * const result = await checkAlias(lambda, { service: "hello-service", functionName: "hello-service-prod", alias: "live", alarms: [] }, "prod");
 * ```
 */
export async function checkAlias(
  lambda: LambdaClient,
  target: TargetPlan,
  stage: Stage,
): Promise<CheckResult> {
  const qualified = `${target.functionName}:${target.alias}`;
  const base = { check: "alias" as const, subject: qualified };
  const publish = `aws lambda update-alias --function-name ${target.functionName} --name ${target.alias} --function-version $(aws lambda publish-version --function-name ${target.functionName} --query Version --output text)`;
  let version: string;
  let weights: Record<string, number>;
  try {
    const out = await lambda.send(
      new GetAliasCommand({ FunctionName: target.functionName, Name: target.alias }),
    );
    version = out.FunctionVersion ?? "";
    weights = out.RoutingConfig?.AdditionalVersionWeights ?? {};
  } catch (error) {
    if (errorName(error) === "ResourceNotFoundException") {
      return {
        ...base,
        status: "fail",
        message: `the function or its alias does not exist (${target.service} in ${stage}): Gantry deploys to them, it does not create them`,
        fix: `create ${target.functionName}, publish a version, and create the alias on it: aws lambda create-alias --function-name ${target.functionName} --name ${target.alias} --function-version 1`,
      };
    }
    return {
      ...base,
      status: "fail",
      message: `cannot read the alias: ${describeError(error)}`,
      ...(isAccessDenied(error) ? { fix: callerNeeds("lambda:GetAlias") } : {}),
    };
  }
  if (version === "$LATEST" || !/^\d+$/.test(version)) {
    return {
      ...base,
      status: "fail",
      message: `points at ${version || "no version"}, not a numbered version: a rollback would have nothing to go back to`,
      fix: `publish a version and point the alias at it: ${publish}`,
    };
  }
  const extra = Object.entries(weights);
  if (extra.length > 0) {
    const split = extra.map(([v, w]) => `${Math.round(w * 1000) / 10}% to version ${v}`).join(", ");
    return {
      ...base,
      status: "fail",
      message: `on version ${version} but also routes ${split}: a rollout was interrupted (or one is running now)`,
      fix: `if no deployment is running (gantry list --stage ${stage} --status RUNNING), put all traffic on one version: aws lambda update-alias --function-name ${target.functionName} --name ${target.alias} --function-version ${version} --routing-config '{"AdditionalVersionWeights":{}}'`,
    };
  }
  return { ...base, status: "ok", message: `on version ${version}, no weights` };
}

// ---------------------------------------------------------------------------------------------
// Buckets

/**
 * A bucket exists in this account and region and has versioning enabled (S3
 * GetBucketVersioning with ExpectedBucketOwner: a bucket of that name in another account
 * answers 403). The client must not follow region redirects: a bucket in another region fails
 * (Lambda loads code only from its own region).
 *
 * @example
 * ```ts
 * const result = await checkBucket(s3, { name: "acme-gantry-artifacts-prod", what: "artifact" }, env, "prod");
 * ```
 */
export async function checkBucket(
  s3: S3Client,
  bucket: BucketPlan,
  env: AwsEnv,
  stage: Stage,
): Promise<CheckResult> {
  const base = { check: "bucket" as const, subject: bucket.name };
  const what = `the ${bucket.what} bucket`;
  const enable = `aws s3api put-bucket-versioning --bucket ${bucket.name} --versioning-configuration Status=Enabled`;
  try {
    const out = await s3.send(
      new GetBucketVersioningCommand({ Bucket: bucket.name, ExpectedBucketOwner: env.accountId }),
    );
    if (out.Status === "Enabled") return { ...base, status: "ok", message: `${what}: versioned` };
    return {
      ...base,
      status: "fail",
      message: `${what}: versioning is ${out.Status === "Suspended" ? "suspended" : "off"}: overwritten artifacts and records could not be recovered`,
      fix: `npx sst deploy --stage ${stage} turns it back on (or: ${enable})`,
    };
  } catch (error) {
    const name = errorName(error);
    const status = httpStatus(error);
    if (name === "NoSuchBucket" || status === 404) {
      return {
        ...base,
        status: "fail",
        message: `${what} does not exist`,
        fix:
          bucket.what === "state"
            ? `npx sst deploy --stage ${stage} creates it; if the deploy set GANTRY_STATE_BUCKET, give doctor the same (--state-bucket)`
            : `npx sst deploy --stage ${stage} creates it (stages.${stage}.artifactBucket in gantry.registry.ts)`,
      };
    }
    if (name === "PermanentRedirect" || name === "AuthorizationHeaderMalformed" || status === 301) {
      return {
        ...base,
        status: "fail",
        message: `${what} is not in ${env.region}: Lambda loads code only from a bucket in its own region`,
        fix: "use one region per stage for Gantry, its buckets and the target functions (docs/deploy.md, Prerequisites)",
      };
    }
    if (isAccessDenied(error)) {
      return {
        ...base,
        status: "fail",
        message: `${what}: S3 refused GetBucketVersioning (${name}): the bucket belongs to another account (S3 names are global), or the caller may not read it`,
        fix: `if the name is taken elsewhere, pick another in gantry.registry.ts; otherwise ${callerNeeds(`s3:GetBucketVersioning on ${bucket.name}`)}`,
      };
    }
    return { ...base, status: "fail", message: `${what}: ${describeError(error)}` };
  }
}

// ---------------------------------------------------------------------------------------------
// Secrets

/** The SST secrets each key set's Secrets Manager secret is written from. */
const SST_SECRETS: Readonly<Record<SecretPlan["set"], string>> = {
  links: "ApprovalSigningKey",
  decisions: "ApprovalDecisionKey",
};

/**
 * A key secret exists, is not scheduled for deletion and has a current version
 * (DescribeSecret: its value is never read).
 *
 * @example
 * ```ts
 * const result = await checkSecret(secrets, { name: "gantry-prod-link-keys", set: "links" }, "prod");
 * ```
 */
export async function checkSecret(
  secrets: SecretsManagerClient,
  secret: SecretPlan,
  stage: Stage,
): Promise<CheckResult> {
  const base = { check: "secret" as const, subject: secret.name };
  const set = `npx sst secret set ${SST_SECRETS[secret.set]} "$(openssl rand -base64 32)" --stage ${stage}, then npx sst deploy --stage ${stage}`;
  try {
    const out = await secrets.send(new DescribeSecretCommand({ SecretId: secret.name }));
    if (out.DeletedDate) {
      return {
        ...base,
        status: "fail",
        message: `scheduled for deletion (${out.DeletedDate.toISOString()}): approvals would fail`,
        fix: `aws secretsmanager restore-secret --secret-id ${secret.name}, or redeploy: npx sst deploy --stage ${stage}`,
      };
    }
    const current = Object.values(out.VersionIdsToStages ?? {}).some((stages) =>
      stages.includes("AWSCURRENT"),
    );
    if (!current) {
      return {
        ...base,
        status: "fail",
        message: "has no current value (no version labelled AWSCURRENT)",
        fix: set,
      };
    }
    const changed = out.LastChangedDate
      ? ` (last changed ${out.LastChangedDate.toISOString()})`
      : "";
    return { ...base, status: "ok", message: `set${changed}` };
  } catch (error) {
    if (errorName(error) === "ResourceNotFoundException") {
      return { ...base, status: "fail", message: "does not exist", fix: set };
    }
    return {
      ...base,
      status: "fail",
      message: `cannot describe it: ${describeError(error)}`,
      ...(isAccessDenied(error) ? { fix: callerNeeds("secretsmanager:DescribeSecret") } : {}),
    };
  }
}

// ---------------------------------------------------------------------------------------------

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
