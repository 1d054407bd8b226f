/**
 * What IAM evaluates for each AWS call Gantry's functions make: the action(s) and resource(s)
 * AWS authorises a request against, which are not always the operation's own name or the
 * resource the request names. One entry per operation the adapters in packages/aws send; a
 * call without an entry fails the contract suite, so a new operation must be mapped here
 * before it can pass.
 *
 * Sources: the Service Authorization Reference (actions, resource types), each service's API
 * reference ("Permissions" sections) and the S3 user guide on conditional writes and 404s.
 */
import type { AwsEnv } from "@gantry/stacks/arns";
import type { RecordedCall } from "./fake-aws.ts";

/** One permission a call needs: `resource` is an ARN, or `"*"` when AWS wants it granted on `"*"`. */
export interface RequiredPermission {
  readonly action: string;
  readonly resource: string;
  /** Condition keys AWS sets for this request (e.g. `iam:PassedToService` on a PassRole). */
  readonly context?: Readonly<Record<string, string>>;
}

/** Where the call is made from: its credentials' partition, region and account. */
export interface CallerContext {
  readonly caller: AwsEnv;
  /** The SES identities that exist (verified addresses and domains). */
  readonly sesIdentities: readonly string[];
}

type Input = Readonly<Record<string, unknown>>;
type Rule = (input: Input, call: RecordedCall, ctx: CallerContext) => RequiredPermission[];

const need = (action: string, resource: string): RequiredPermission => ({ action, resource });

// --- ARNs -----------------------------------------------------------------------------------

const bucket = (name: unknown) => `arn:aws:s3:::${String(name)}`;
const object = (name: unknown, key: unknown) => `arn:aws:s3:::${String(name)}/${String(key)}`;

/** A function named by name or ARN, qualified when a qualifier is given (or in the ARN). */
function lambda(ctx: CallerContext, functionName: unknown, qualifier?: unknown): string {
  const name = String(functionName);
  const { partition, region, accountId } = ctx.caller;
  const base = name.startsWith("arn:")
    ? name
    : `arn:${partition}:lambda:${region}:${accountId}:function:${name}`;
  return qualifier === undefined || qualifier === null ? base : `${base}:${String(qualifier)}`;
}

/** A schedule's ARN: `schedule/<group>/<name>`. */
function schedule(ctx: CallerContext, input: Input): string {
  const { partition, region, accountId } = ctx.caller;
  return `arn:${partition}:scheduler:${region}:${accountId}:schedule/${String(input.GroupName ?? "default")}/${String(input.Name)}`;
}

const unqualified = (arn: string) => arn.split(":").slice(0, 7).join(":");

/** A `bucket/key?versionId=v` CopySource, key URL-encoded per segment. */
function copySource(input: Input): { bucket: string; key: string; versionId?: string } {
  const [path = "", query = ""] = String(input.CopySource).replace(/^\//, "").split("?");
  const slash = path.indexOf("/");
  const versionId = new URLSearchParams(query).get("versionId");
  return {
    bucket: path.slice(0, slash),
    key: path
      .slice(slash + 1)
      .split("/")
      .map(decodeURIComponent)
      .join("/"),
    ...(versionId ? { versionId } : {}),
  };
}

/** Reading an object: s3:GetObject, and s3:GetObjectVersion for a specific version. */
function readObject(b: unknown, key: unknown, versionId: unknown): RequiredPermission[] {
  return [
    need("s3:GetObject", object(b, key)),
    ...(versionId ? [need("s3:GetObjectVersion", object(b, key))] : []),
  ];
}

/**
 * S3 answers 404 (NoSuchKey) for a missing key only to a caller allowed s3:ListBucket on the
 * bucket; without it the same request is a 403 AccessDenied, and "not there yet" (a free lock,
 * an undecided approval) reads as an access error.
 */
function listOn404(call: RecordedCall, b: unknown): RequiredPermission[] {
  return call.error?.status === 404 ? [need("s3:ListBucket", bucket(b))] : [];
}

/** Writing an object: s3:PutObject, and s3:PutObjectTagging when the request sets tags. */
function writeObject(input: Input, b: unknown, key: unknown): RequiredPermission[] {
  return [
    need("s3:PutObject", object(b, key)),
    ...(input.Tagging ? [need("s3:PutObjectTagging", object(b, key))] : []),
  ];
}

/** The SES identity a From address sends as: the address if it is verified, else its domain. */
function sesIdentity(ctx: CallerContext, from: unknown): string {
  const address = String(from)
    .replace(/^.*<([^>]+)>\s*$/, "$1")
    .trim();
  const domain = address.slice(address.lastIndexOf("@") + 1);
  const identity = ctx.sesIdentities.includes(address) ? address : domain;
  const { partition, region, accountId } = ctx.caller;
  return `arn:${partition}:ses:${region}:${accountId}:identity/${identity}`;
}

// --- The table --------------------------------------------------------------------------------

/** `service:Operation` → the permissions AWS checks for it. */
export const AWS_CALLS: Readonly<Record<string, Rule>> = {
  // HeadObject has no action of its own: it is authorised as s3:GetObject.
  "s3:HeadObject": (i, call) => [
    ...readObject(i.Bucket, i.Key, i.VersionId),
    ...listOn404(call, i.Bucket),
  ],
  "s3:GetObject": (i, call) => [
    ...readObject(i.Bucket, i.Key, i.VersionId),
    ...listOn404(call, i.Bucket),
  ],
  // Conditional writes (If-None-Match: *, If-Match: <etag>) need nothing beyond s3:PutObject.
  "s3:PutObject": (i) => writeObject(i, i.Bucket, i.Key),
  // A conditional delete (If-Match) is plain s3:DeleteObject; a version is DeleteObjectVersion.
  "s3:DeleteObject": (i) => [
    need(i.VersionId ? "s3:DeleteObjectVersion" : "s3:DeleteObject", object(i.Bucket, i.Key)),
  ],
  // Listing is authorised on the bucket, not on the keys it returns.
  "s3:ListObjectsV2": (i) => [need("s3:ListBucket", bucket(i.Bucket))],
  // A copy reads the source (GetObject, plus GetObjectVersion when CopySource names a version)
  // and writes the target (PutObject, plus PutObjectTagging when it sets tags). Unless the
  // tags are replaced (TaggingDirective REPLACE), S3 copies the source's, reading them with
  // s3:GetObjectTagging.
  "s3:CopyObject": (i) => {
    const source = copySource(i);
    return [
      ...readObject(source.bucket, source.key, source.versionId),
      ...(i.TaggingDirective === "REPLACE"
        ? []
        : [need("s3:GetObjectTagging", object(source.bucket, source.key))]),
      ...writeObject(i, i.Bucket, i.Key),
    ];
  },
  // The multipart operations are all s3:PutObject on the target (CreateMultipartUpload with
  // tags also PutObjectTagging); UploadPartCopy also reads its source; only the abort has an
  // action of its own.
  "s3:CreateMultipartUpload": (i) => writeObject(i, i.Bucket, i.Key),
  "s3:UploadPartCopy": (i) => {
    const source = copySource(i);
    return [
      ...readObject(source.bucket, source.key, source.versionId),
      need("s3:PutObject", object(i.Bucket, i.Key)),
    ];
  },
  "s3:CompleteMultipartUpload": (i) => [need("s3:PutObject", object(i.Bucket, i.Key))],
  "s3:AbortMultipartUpload": (i) => [need("s3:AbortMultipartUpload", object(i.Bucket, i.Key))],

  // Alias operations: the Service Authorization Reference lists only the `function` resource
  // type, and the Lambda guide does not say whether the function's or the alias's ARN is the
  // one evaluated. Both are required, so a policy that grants one form only fails here.
  "lambda:GetAlias": (i, _call, ctx) => [
    need("lambda:GetAlias", lambda(ctx, i.FunctionName)),
    need("lambda:GetAlias", lambda(ctx, i.FunctionName, i.Name)),
  ],
  "lambda:UpdateAlias": (i, _call, ctx) => [
    need("lambda:UpdateAlias", lambda(ctx, i.FunctionName)),
    need("lambda:UpdateAlias", lambda(ctx, i.FunctionName, i.Name)),
  ],
  // With a Qualifier, the version's (or alias's) ARN is the resource.
  "lambda:GetFunctionConfiguration": (i, _call, ctx) => [
    need("lambda:GetFunctionConfiguration", lambda(ctx, i.FunctionName, i.Qualifier)),
  ],
  // Sent by the SDK's FunctionUpdatedV2 waiter.
  "lambda:GetFunction": (i, _call, ctx) => [
    need("lambda:GetFunction", lambda(ctx, i.FunctionName, i.Qualifier)),
  ],
  // Lambda fetches the zip from S3 with the caller's permissions: s3:GetObject on the code
  // object, and s3:GetObjectVersion when S3ObjectVersion pins a version.
  "lambda:UpdateFunctionCode": (i, _call, ctx) => [
    need("lambda:UpdateFunctionCode", unqualified(lambda(ctx, i.FunctionName))),
    ...(i.S3Bucket ? readObject(i.S3Bucket, i.S3Key, i.S3ObjectVersion) : []),
  ],
  "lambda:PublishVersion": (i, _call, ctx) => [
    need("lambda:PublishVersion", unqualified(lambda(ctx, i.FunctionName))),
  ],
  // Invoke is lambda:InvokeFunction, on the qualified ARN when a Qualifier is given: a grant
  // on the unqualified ARN does not cover a version or an alias.
  "lambda:Invoke": (i, _call, ctx) => [
    need("lambda:InvokeFunction", lambda(ctx, i.FunctionName, i.Qualifier)),
  ],

  // Composite alarms are returned only to a caller allowed DescribeAlarms on "*" (DescribeAlarms,
  // CloudWatch API Reference); AlarmTypes without CompositeAlarm (or absent: metric alarms
  // only) is authorised per alarm ARN. Without AlarmNames it describes every alarm: "*".
  "cloudwatch:DescribeAlarms": (i, _call, ctx) => {
    const types = (i.AlarmTypes ?? ["MetricAlarm"]) as readonly string[];
    const names = i.AlarmNames as readonly string[] | undefined;
    if (types.includes("CompositeAlarm") || !names) return [need("cloudwatch:DescribeAlarms", "*")];
    const { partition, region, accountId } = ctx.caller;
    return names.map((name) =>
      need(
        "cloudwatch:DescribeAlarms",
        `arn:${partition}:cloudwatch:${region}:${accountId}:alarm:${name}`,
      ),
    );
  },

  // GetMetricData has no resource types: CloudWatch authorises it on "*" only.
  "cloudwatch:GetMetricData": () => [need("cloudwatch:GetMetricData", "*")],

  // A task token is not an ARN: these are authorised on "*" only.
  "states:SendTaskSuccess": () => [need("states:SendTaskSuccess", "*")],
  "states:SendTaskFailure": () => [need("states:SendTaskFailure", "*")],
  "states:DescribeExecution": (i) => [need("states:DescribeExecution", String(i.executionArn))],
  "states:GetExecutionHistory": (i) => [need("states:GetExecutionHistory", String(i.executionArn))],

  // SES v2's SendEmail is authorised on the identity the From address belongs to (the
  // address's own identity when it is verified, else its domain's).
  "ses:SendEmail": (i, _call, ctx) => [
    need(
      "ses:SendEmail",
      i.FromEmailAddressIdentityArn
        ? String(i.FromEmailAddressIdentityArn)
        : sesIdentity(ctx, i.FromEmailAddress),
    ),
  ],

  // The secret's full ARN (with the six random characters); the functions are given it.
  "secretsmanager:GetSecretValue": (i) => [
    need("secretsmanager:GetSecretValue", String(i.SecretId)),
  ],

  // On the schedule's ARN in its group (the default group when none is named). Naming a
  // target role passes it to Scheduler: iam:PassRole on the role, with iam:PassedToService.
  "scheduler:CreateSchedule": (i, _call, ctx) => [
    need("scheduler:CreateSchedule", schedule(ctx, i)),
    ...((i.Target as { RoleArn?: string } | undefined)?.RoleArn
      ? [
          {
            action: "iam:PassRole",
            resource: String((i.Target as { RoleArn: string }).RoleArn),
            context: { "iam:PassedToService": "scheduler.amazonaws.com" },
          },
        ]
      : []),
  ],
  "scheduler:DeleteSchedule": (i, _call, ctx) => [
    need("scheduler:DeleteSchedule", schedule(ctx, i)),
  ],

  // On the role's ARN; the role's trust policy must also allow the caller (a resource policy).
  "sts:AssumeRole": (i) => [need("sts:AssumeRole", String(i.RoleArn))],
};

/**
 * The permissions one recorded call needs. Metrics need none: they go out as EMF log lines
 * (Powertools Metrics), which the Lambda runtime writes with the function's log permissions.
 *
 * @example
 * ```ts
 * requiredPermissions({ service: "s3", command: "HeadObject", input: { Bucket: "b", Key: "k" } }, ctx);
 * // [{ action: "s3:GetObject", resource: "arn:aws:s3:::b/k" }]
 * ```
 */
export function requiredPermissions(call: RecordedCall, ctx: CallerContext): RequiredPermission[] {
  const rule = AWS_CALLS[`${call.service}:${call.command}`];
  if (!rule) {
    throw new Error(
      `${call.service}:${call.command} has no entry in test/contract/support/iam-actions.ts: ` +
        "map it to the IAM actions and resources AWS evaluates for it",
    );
  }
  return rule(call.input, call, ctx);
}
