import {
  type AnalysisPolicy,
  artifactPrefixOf,
  type FunctionFile,
  type Registry,
  resolveAnalysisPolicy,
  type Stage,
} from "@gantry/core";
import {
  type AwsEnv,
  bucketArn,
  executionsArn,
  lambdaArn,
  lambdaQualifiedArn,
  lambdaQualifiedArns,
  logStreamsArn,
  objectsArn,
  roleArn,
  schedulesArn,
  secretArn,
  sesIdentityArn,
} from "./arns.ts";
import type { InfraConfig } from "./config.ts";
import {
  functionName,
  holdScheduleGroupName,
  holdSchedulerRoleName,
  type KeySet,
  keySecretName,
  stateMachineName,
} from "./names.ts";

/**
 * What each of Gantry's functions (and its state machine) may do, as plain data. Every
 * statement names the resources it touches; the only `"*"` resources are the actions AWS
 * cannot scope (or only serves in full on `"*"`), listed with the reason in
 * {@link UNSCOPABLE_ACTIONS}. The contract tests (test/contract/iam.test.ts) run every
 * function's handler and check each call it makes against these statements with an IAM
 * evaluator.
 *
 * The shape is SST's `permissions` entry, so `stacks/functions.ts` passes it through as is.
 */

export interface PolicyStatement {
  /** Alphanumeric, unique within one policy: says why the statement exists. */
  readonly sid: string;
  readonly effect: "allow" | "deny";
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  /** When the statement applies (SST's shape: each `test` on `variable`, any of `values`). */
  readonly conditions?: readonly PolicyCondition[];
}

/** One IAM condition: operator (`test`), context key (`variable`) and the values it accepts. */
export interface PolicyCondition {
  readonly test: string;
  readonly variable: string;
  readonly values: readonly string[];
}

/**
 * The documented exceptions: actions AWS does not let a policy scope to a resource, or only
 * fully serves to a caller allowed them on `"*"`, so they are granted on `"*"`. Nothing else
 * may use a `"*"` resource, and no action is ever a wildcard.
 */
export const UNSCOPABLE_ACTIONS: Readonly<Record<string, string>> = {
  "cloudwatch:GetMetricData":
    "read-only. Classic CloudWatch metrics (AWS/Lambda's) are not resources: GetMetricData's only resource type is an optional OTLP `dataset`, so reading them needs the action on \"*\". CheckAlarms' version analysis reads each version's own AWS/Lambda metrics with it; only a stage with an `analysis` in the registry is granted it",
  "cloudwatch:DescribeAlarms":
    'read-only. CloudWatch returns composite alarms only to a caller whose cloudwatch:DescribeAlarms is scoped to "*" (DescribeAlarms, CloudWatch API Reference); the alarm reader asks for metric and composite alarms, and a registry alarm may be either',
  "states:SendTaskSuccess":
    "a task token is not an ARN: IAM cannot tie SendTask* to a state machine. The token is in the execution history, so completing the task proves nothing: VerifyApproval proceeds only on the sealed decision record, and after a hold CheckAlarms reads the alarms itself",
  "states:SendTaskFailure":
    "a task token is not an ARN: IAM cannot tie SendTask* to a state machine. The token is in the execution history, so completing the task proves nothing: VerifyApproval proceeds only on the sealed decision record, and after a hold CheckAlarms reads the alarms itself",
  "logs:CreateLogDelivery":
    "Step Functions log delivery: CloudWatch Logs supports no resource-level permissions for it",
  "logs:GetLogDelivery":
    "Step Functions log delivery: CloudWatch Logs supports no resource-level permissions for it",
  "logs:UpdateLogDelivery":
    "Step Functions log delivery: CloudWatch Logs supports no resource-level permissions for it",
  "logs:DeleteLogDelivery":
    "Step Functions log delivery: CloudWatch Logs supports no resource-level permissions for it",
  "logs:ListLogDeliveries":
    "Step Functions log delivery: CloudWatch Logs supports no resource-level permissions for it",
  "logs:PutResourcePolicy":
    "Step Functions log delivery: CloudWatch Logs supports no resource-level permissions for it",
  "logs:DescribeResourcePolicies":
    "Step Functions log delivery: CloudWatch Logs supports no resource-level permissions for it",
  "logs:DescribeLogGroups":
    "Step Functions log delivery: CloudWatch Logs supports no resource-level permissions for it",
  "xray:PutTraceSegments": "X-Ray supports no resource-level permissions for sending traces",
  "xray:PutTelemetryRecords": "X-Ray supports no resource-level permissions for sending traces",
  "xray:GetSamplingRules": "X-Ray supports no resource-level permissions for sampling",
  "xray:GetSamplingTargets": "X-Ray supports no resource-level permissions for sampling",
};

/** The metric namespace Gantry's functions may publish to (packages/core/src/steps/metrics.ts). */
export const METRICS_NAMESPACE = "Gantry";

/** Everything a stage's function policies are built from. */
export interface PolicyContext {
  readonly env: AwsEnv;
  readonly stage: Stage;
  readonly registry: Registry;
  readonly stateBucket: string;
  /** The SES identity approval mail is sent from (an address or a domain). */
  readonly senderIdentity?: string;
  /** prod: VerifyPreprod reads preprod through this role instead of directly. */
  readonly preprodRoleArn?: string;
}

/**
 * A stage's policy context as the app builds it from its settings (`stacks/functions.ts`; the
 * contract tests build theirs the same way).
 *
 * @example
 * ```ts
 * functionPermissions(stagePolicyContext({ env, stage: "prod", registry, stateBucket, config }));
 * ```
 */
export function stagePolicyContext(args: {
  readonly env: AwsEnv;
  readonly stage: Stage;
  readonly registry: Registry;
  readonly stateBucket: string;
  readonly config: Pick<InfraConfig, "senderIdentity" | "preprodRoleArn">;
}): PolicyContext {
  const { config } = args;
  return {
    env: args.env,
    stage: args.stage,
    registry: args.registry,
    stateBucket: args.stateBucket,
    ...(config.senderIdentity ? { senderIdentity: config.senderIdentity } : {}),
    ...(config.preprodRoleArn ? { preprodRoleArn: config.preprodRoleArn } : {}),
  };
}

/**
 * The functions that have a policy: every function of the catalogue (`FUNCTION_CATALOG` in
 * `@gantry/core`), by file name. A function missing from {@link functionPermissions}, or one
 * it names that the catalogue does not, is a type error.
 */
export type PolicyFunction = FunctionFile;

/** A registered service's target in one stage: the function and alias Gantry deploys to. */
interface ServiceTarget {
  readonly service: string;
  readonly functionName: string;
  readonly alias: string;
  readonly alarms: readonly string[];
  readonly verifyPreprod: boolean;
  readonly analysis?: AnalysisPolicy;
}

function targetsOf(registry: Registry, stage: Stage): ServiceTarget[] {
  return Object.entries(registry.services).map(([service, definition]) => ({
    service,
    ...definition.stages[stage],
  }));
}

/** A function and every version and alias of it. */
function functionResources(env: AwsEnv, targets: readonly ServiceTarget[]): string[] {
  return targets.flatMap((t) => [
    lambdaArn(env, t.functionName),
    lambdaQualifiedArns(env, t.functionName),
  ]);
}

function allow(
  sid: string,
  actions: readonly string[],
  resources: readonly string[],
): PolicyStatement {
  return { sid, effect: "allow", actions, resources: [...new Set(resources)] };
}

/** A statement without resources would be invalid IAM (a registry with no services). */
function nonEmpty(statements: readonly PolicyStatement[]): PolicyStatement[] {
  return statements.filter((s) => s.resources.length > 0);
}

function ownLogs(ctx: PolicyContext, fn: PolicyFunction): PolicyStatement {
  // SST creates the log group; the function only writes its streams. This replaces
  // AWSLambdaBasicExecutionRole, which grants the same on every log group.
  return allow(
    "WriteOwnLogs",
    ["logs:CreateLogStream", "logs:PutLogEvents"],
    [logStreamsArn(ctx.env, `/aws/lambda/${functionName(ctx.stage, fn)}`)],
  );
}

/**
 * Listing the bucket is what makes S3 answer 404 (not 403) for a record that does not exist,
 * which the lock, the approval decision and the artifact checks rely on. It reveals key names
 * in that one bucket, nothing else.
 */
function listBuckets(partition: string, buckets: readonly string[]): PolicyStatement {
  return allow(
    "ListForNotFound",
    ["s3:ListBucket"],
    buckets.map((b) => bucketArn(partition, b)),
  );
}

/**
 * Reading one key set's Secrets Manager secret (`secretsManagerKeys` calls GetSecretValue
 * only; the secret is encrypted with the account's `aws/secretsmanager` key, which needs no
 * KMS grant).
 */
function readKeys(ctx: PolicyContext, sid: string, set: KeySet): PolicyStatement {
  return allow(
    sid,
    ["secretsmanager:GetSecretValue"],
    [secretArn(ctx.env, keySecretName(ctx.stage, set))],
  );
}

/**
 * Reading the registry's alarms (DescribeAlarms, metric and composite). On `"*"` (see
 * {@link UNSCOPABLE_ACTIONS}), and only for a stage that names at least one alarm.
 */
function readAlarms(
  sid: string,
  targets: readonly Pick<ServiceTarget, "alarms">[],
): PolicyStatement {
  return allow(
    sid,
    ["cloudwatch:DescribeAlarms"],
    targets.some((t) => t.alarms.length > 0) ? ["*"] : [],
  );
}

/**
 * What CheckAlarms' version analysis needs (stages whose targets have an `analysis`): each
 * version's own metrics (GetMetricData, on `"*"`: see {@link UNSCOPABLE_ACTIONS}), and, for the
 * targets whose short samples are made up with synthetic requests, invoking their versions
 * directly (the canary spec's events, as Canary does). A target that may not synthesize (its
 * `whenInsufficient` is extend or fail, or its `maxSyntheticRequests` 0) gets no invoke grant.
 */
function versionAnalysis(env: AwsEnv, targets: readonly ServiceTarget[]): PolicyStatement[] {
  const analysed = targets.filter((t) => t.analysis !== undefined);
  const synthesizing = analysed.filter((t) => {
    const policy = resolveAnalysisPolicy(t.analysis);
    return policy?.whenInsufficient === "synthesize" && policy.maxSyntheticRequests > 0;
  });
  return [
    allow("ReadVersionMetrics", ["cloudwatch:GetMetricData"], analysed.length > 0 ? ["*"] : []),
    allow(
      "SendSyntheticRequests",
      ["lambda:InvokeFunction"],
      synthesizing.map((t) => lambdaQualifiedArns(env, t.functionName)),
    ),
  ];
}

/** The decision records: only the approval path (approval-http, approval-operator) writes them. */
export const DECISION_RECORDS = "approvals/*.decision.json";

function stateObjects(ctx: PolicyContext, ...patterns: string[]): string[] {
  return patterns.map((p) => objectsArn(ctx.env.partition, ctx.stateBucket, p));
}

/** Artifact keys of every registered service in a bucket (keys must start with the prefix). */
function artifactObjects(partition: string, registry: Registry, bucket: string): string[] {
  return Object.keys(registry.services).map((service) =>
    objectsArn(partition, bucket, `${artifactPrefixOf(registry, service)}*`),
  );
}

/**
 * The reads VerifyPreprod makes in the preprod account, for the services whose prod stage
 * verifies preprod: artifacts and validation records in the preprod bucket, the preprod
 * aliases and their versions' CodeSha256, the preprod alarms. Used directly by the prod
 * function when preprod is the same account, and as the policy of the read role the preprod
 * stage creates for a separate prod account.
 *
 * @example
 * ```ts
 * const statements = preprodReadStatements(registry, { partition: "aws", region: "us-east-1", accountId: "111111111111" });
 * ```
 */
export function preprodReadStatements(registry: Registry, preprodEnv: AwsEnv): PolicyStatement[] {
  const verified = Object.entries(registry.services).filter(
    ([, definition]) => definition.stages.prod.verifyPreprod,
  );
  if (verified.length === 0) return [];
  const bucket = registry.stages.preprod.artifactBucket;
  const partition = preprodEnv.partition;
  const targets = verified.map(([service, definition]) => ({
    service,
    ...definition.stages.preprod,
  }));
  return nonEmpty([
    allow(
      "ReadPreprodArtifactsAndValidations",
      ["s3:GetObject"],
      [
        ...verified.map(([service]) =>
          objectsArn(partition, bucket, `${artifactPrefixOf(registry, service)}*`),
        ),
        ...verified.map(([service]) => objectsArn(partition, bucket, `validations/${service}/*`)),
      ],
    ),
    listBuckets(partition, [bucket]),
    allow(
      "ReadPreprodAliases",
      ["lambda:GetAlias", "lambda:GetFunctionConfiguration"],
      functionResources(preprodEnv, targets),
    ),
    readAlarms("ReadPreprodAlarms", targets),
  ]);
}

/**
 * Each function's statements for one stage: the minimum its code needs (see the adapters in
 * packages/aws/src for the calls), scoped to this stage's buckets, this state machine's
 * executions and the registry's targets and alarms.
 *
 * @example
 * ```ts
 * const permissions = functionPermissions({ env, stage: "prod", registry, stateBucket: "gantry-state-prod-1-us-east-1" });
 * permissions["canary"][1]?.actions; // ["lambda:InvokeFunction"]
 * permissions["canary"][2]?.actions; // ["lambda:GetAlias", "lambda:UpdateAlias"]
 * ```
 */
export function functionPermissions(ctx: PolicyContext): Record<PolicyFunction, PolicyStatement[]> {
  const { env, stage, registry } = ctx;
  const partition = env.partition;
  const targets = targetsOf(registry, stage);
  const targetFunctions = functionResources(env, targets);
  const executions = executionsArn(env, stateMachineName(stage));
  const settings = registry.stages[stage];
  const verifies = targets.some((t) => t.verifyPreprod);
  const route = allow(
    "RouteTargetAliases",
    ["lambda:GetAlias", "lambda:UpdateAlias"],
    targetFunctions,
  );
  const releaseLockAndRecord = [
    allow("ReleaseLocks", ["s3:GetObject", "s3:DeleteObject"], stateObjects(ctx, "locks/*")),
    allow("WriteDeploymentRecords", ["s3:PutObject"], stateObjects(ctx, "deployments/*")),
    listBuckets(partition, [ctx.stateBucket]),
  ];
  const sameBucket = settings.sourceBucket === settings.artifactBucket;
  // What both ways of deciding (a signed link, an operator at a terminal) do: read the approval,
  // its decision and void records and its token; create the sealed decision (or mark it
  // undelivered); ask whether the execution still waits; complete its task.
  const decisionPath = [
    allow(
      "ReadApprovalsAndTokens",
      ["s3:GetObject"],
      stateObjects(ctx, "approvals/*", "approval-tokens/*"),
    ),
    allow("WriteDecisions", ["s3:PutObject"], stateObjects(ctx, DECISION_RECORDS)),
    allow("AskIfExecutionWaits", ["states:DescribeExecution"], [executions]),
    allow("CompleteApprovalTask", ["states:SendTaskSuccess", "states:SendTaskFailure"], ["*"]),
  ];

  const holdSchedules = schedulesArn(env, holdScheduleGroupName(stage));
  const holdRecords = stateObjects(ctx, "holds/*");

  const statements: Record<PolicyFunction, PolicyStatement[]> = {
    "validate-input": [],
    "acquire-lock": [
      allow("TakeLocks", ["s3:GetObject", "s3:PutObject"], stateObjects(ctx, "locks/*")),
      listBuckets(partition, [ctx.stateBucket]),
      allow("AskIfLockOwnerRuns", ["states:DescribeExecution"], [executions]),
    ],
    "verify-preprod": !verifies
      ? []
      : ctx.preprodRoleArn
        ? [allow("AssumePreprodReadRole", ["sts:AssumeRole"], [ctx.preprodRoleArn])]
        : preprodReadStatements(registry, env),
    "approval-gate": [
      // The incident check before anything else: a watched alarm already in ALARM refuses a
      // deployment not marked as a fix for it (and a fix for an alarm that is not in ALARM).
      readAlarms("ReadAlarmsForIncidentCheck", targets),
      // The execution's index, the approval and its notified marker (conditional creates) and
      // the task token's record (the newest attempt's token).
      allow(
        "CreateApprovalRecords",
        ["s3:PutObject"],
        stateObjects(ctx, "approvals/*", "approval-tokens/*"),
      ),
      // A retried ApprovalGate finds the approval an earlier attempt created, and whether its
      // approvers were already emailed. It never reads a token back.
      allow("ReadApprovalsForRetries", ["s3:GetObject"], stateObjects(ctx, "approvals/*")),
      listBuckets(partition, [ctx.stateBucket]),
      {
        sid: "NeverWriteDecisions",
        effect: "deny",
        actions: ["s3:PutObject"],
        resources: stateObjects(ctx, DECISION_RECORDS),
      },
      readKeys(ctx, "ReadLinkKeysToSignLinks", "links"),
      ...(ctx.senderIdentity
        ? [allow("SendApprovalEmail", ["ses:SendEmail"], [sesIdentityArn(env, ctx.senderIdentity)])]
        : []),
      allow("CompleteApprovalByPolicy", ["states:SendTaskSuccess"], ["*"]),
    ],
    "verify-approval": [
      // The execution's index, the approval, its decision record.
      allow("ReadApprovalAndDecision", ["s3:GetObject"], stateObjects(ctx, "approvals/*")),
      // Refusing an approval voids it (a conditional create): its links answer 410.
      allow("VoidRefusedApprovals", ["s3:PutObject"], stateObjects(ctx, "approvals/*.void.json")),
      listBuckets(partition, [ctx.stateBucket]),
      readKeys(ctx, "ReadDecisionKeysToCheckSeals", "decisions"),
    ],
    "copy-artifact": [
      allow(
        "ReadSourceArtifacts",
        ["s3:GetObject", "s3:GetObjectVersion"],
        artifactObjects(partition, registry, settings.sourceBucket),
      ),
      ...(sameBucket
        ? []
        : [
            allow(
              "WriteStageArtifacts",
              ["s3:GetObject", "s3:PutObject", "s3:PutObjectTagging", "s3:AbortMultipartUpload"],
              artifactObjects(partition, registry, settings.artifactBucket),
            ),
          ]),
      listBuckets(partition, [settings.sourceBucket, settings.artifactBucket]),
    ],
    deploy: [
      allow(
        "DeployTargets",
        [
          "lambda:GetAlias",
          "lambda:GetFunctionConfiguration",
          "lambda:UpdateFunctionCode",
          "lambda:PublishVersion",
        ],
        targetFunctions,
      ),
      // UpdateFunctionCode reads the zip with the caller's permissions.
      allow(
        "ReadStageArtifactsForLambda",
        ["s3:GetObject", "s3:GetObjectVersion"],
        artifactObjects(partition, registry, settings.artifactBucket),
      ),
    ],
    canary: [
      allow(
        "InvokeTargetVersions",
        ["lambda:InvokeFunction"],
        targets.map((t) => lambdaQualifiedArns(env, t.functionName)),
      ),
      // Once every check passes, the first traffic step (shiftTraffic: GetAlias, UpdateAlias).
      route,
    ],
    "check-alarms": [
      readAlarms("ReadStageAlarms", targets),
      route,
      ...versionAnalysis(env, targets),
    ],
    hold: [
      // The execution's watch (with its task token) and one index entry per watched alarm.
      allow("WriteHoldWatches", ["s3:PutObject"], holdRecords),
      // The one read after the watch exists: an alarm already in ALARM sends no event.
      readAlarms("ReadStageAlarms", targets),
      allow("ScheduleHoldEnds", ["scheduler:CreateSchedule"], [holdSchedules]),
      // Each schedule names the role Scheduler invokes hold-events with; passed to Scheduler only.
      {
        ...allow("PassHoldSchedulerRole", ["iam:PassRole"], [holdSchedulerRoleArn(env, stage)]),
        conditions: [
          {
            test: "StringEquals",
            variable: "iam:PassedToService",
            values: ["scheduler.amazonaws.com"],
          },
        ],
      },
    ],
    "hold-events": [
      // Finds the holds watching an alarm (listing its index prefix), reads each watch's token,
      // and removes the watch and its index entries once the hold has ended.
      allow("ReadAndRemoveHoldWatches", ["s3:GetObject", "s3:DeleteObject"], holdRecords),
      listBuckets(partition, [ctx.stateBucket]),
      allow("EndHoldTasks", ["states:SendTaskSuccess", "states:SendTaskFailure"], ["*"]),
      allow("CancelHoldSchedules", ["scheduler:DeleteSchedule"], [holdSchedules]),
    ],
    promote: [route],
    rollback: [route],
    finish: releaseLockAndRecord,
    "approval-http": [
      ...decisionPath,
      listBuckets(partition, [ctx.stateBucket]),
      readKeys(ctx, "ReadLinkKeysToVerifyLinks", "links"),
      readKeys(ctx, "ReadDecisionKeysToSeal", "decisions"),
    ],
    "approval-operator": [
      ...decisionPath,
      // 404s, and the pending approvals `gantry approve` lists (ListObjectsV2 under approvals/).
      allow(
        "ListPendingApprovalsAndNotFound",
        ["s3:ListBucket"],
        [bucketArn(partition, ctx.stateBucket)],
      ),
      readKeys(ctx, "ReadDecisionKeysToSeal", "decisions"),
      // `gantry unlock`: inspect the lock, delete exactly the bytes inspected (If-Match), and
      // record who broke it and why. Asking whether its owner runs is AskIfExecutionWaits.
      allow("BreakLocks", ["s3:GetObject", "s3:DeleteObject"], stateObjects(ctx, "locks/*")),
      allow("AuditLockBreaks", ["s3:PutObject"], stateObjects(ctx, "audit/locks/*")),
    ],
    reconcile: [
      allow("ReadAbandonedExecution", ["states:GetExecutionHistory"], [executions]),
      route,
      ...releaseLockAndRecord,
      // A failed rollback it retries: the execution's record says whether it already did.
      allow("ReadDeploymentRecords", ["s3:GetObject"], stateObjects(ctx, "deployments/*")),
    ],
    "scheduled-canary": [
      allow(
        "InvokeTargetAliases",
        ["lambda:InvokeFunction"],
        targets.map((t) => lambdaQualifiedArn(env, t.functionName, t.alias)),
      ),
    ],
  };
  const withLogs = {} as Record<PolicyFunction, PolicyStatement[]>;
  for (const fn of Object.keys(statements) as PolicyFunction[])
    withLogs[fn] = [ownLogs(ctx, fn), ...nonEmpty(statements[fn])];
  return withLogs;
}

/**
 * The state machine's role: invoke its own functions, deliver its execution logs, send traces.
 *
 * @example
 * ```ts
 * stateMachineStatements(["arn:aws:lambda:us-east-1:123456789012:function:gantry-prod-deploy"]);
 * ```
 */
export function stateMachineStatements(workflowFunctionArns: readonly string[]): PolicyStatement[] {
  return [
    allow(
      "InvokeWorkflowFunctions",
      ["lambda:InvokeFunction"],
      workflowFunctionArns.flatMap((arn) => [arn, `${arn}:*`]),
    ),
    allow(
      "DeliverExecutionLogs",
      [
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
      ],
      ["*"],
    ),
    allow(
      "SendTraces",
      [
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
      ],
      ["*"],
    ),
  ];
}

/** The role EventBridge Scheduler assumes for holds' schedules. */
export function holdSchedulerRoleArn(env: AwsEnv, stage: Stage): string {
  return roleArn(env.partition, env.accountId, holdSchedulerRoleName(stage));
}

/**
 * What the holds' schedules may do with the role Scheduler assumes: invoke the hold-events
 * function, nothing else.
 *
 * @example
 * ```ts
 * holdSchedulerStatements("arn:aws:lambda:us-east-1:123456789012:function:gantry-prod-hold-events");
 * ```
 */
export function holdSchedulerStatements(holdEventsFunctionArn: string): PolicyStatement[] {
  return [allow("InvokeHoldEvents", ["lambda:InvokeFunction"], [holdEventsFunctionArn])];
}

/**
 * Who may assume the holds' scheduler role: EventBridge Scheduler, for schedules of this
 * account only (the confused-deputy guard).
 *
 * @example
 * ```ts
 * holdSchedulerTrustPolicy(env).Statement[0]?.Principal; // { Service: "scheduler.amazonaws.com" }
 * ```
 */
export function holdSchedulerTrustPolicy(env: AwsEnv): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "SchedulerForThisAccount",
        Effect: "Allow",
        Principal: { Service: "scheduler.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": env.accountId } },
      },
    ],
  };
}

/** An IAM policy document (the JSON IAM and S3 take). */
export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly Record<string, unknown>[];
}

/**
 * Converts statements to an IAM policy document.
 *
 * @example
 * ```ts
 * JSON.stringify(policyDocument(functionPermissions(ctx).deploy));
 * ```
 */
export function policyDocument(statements: readonly PolicyStatement[]): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: statements.map((s) => ({
      Sid: s.sid,
      Effect: s.effect === "allow" ? "Allow" : "Deny",
      Action: [...s.actions],
      Resource: [...s.resources],
      ...(s.conditions?.length ? { Condition: conditionBlock(s.conditions) } : {}),
    })),
  };
}

/** `[{test, variable, values}]` as IAM's `Condition` object (`{test: {variable: values}}`). */
function conditionBlock(conditions: readonly PolicyCondition[]): Record<string, unknown> {
  const block: Record<string, Record<string, string[]>> = {};
  for (const c of conditions) block[c.test] = { ...block[c.test], [c.variable]: [...c.values] };
  return block;
}

/**
 * Who may assume the state machine's role: Step Functions, for this state machine only (the
 * confused-deputy guard).
 *
 * @example
 * ```ts
 * stateMachineTrustPolicy(env, "arn:aws:states:us-east-1:123456789012:stateMachine:gantry-prod");
 * ```
 */
export function stateMachineTrustPolicy(env: AwsEnv, machineArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "StepFunctionsForThisStateMachine",
        Effect: "Allow",
        Principal: { Service: "states.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: {
          StringEquals: { "aws:SourceAccount": env.accountId },
          ArnEquals: { "aws:SourceArn": machineArn },
        },
      },
    ],
  };
}

/**
 * Who may assume the preprod read role: the prod VerifyPreprod function's role, nothing else
 * in the prod account. (The account root is the principal because IAM refuses a role that
 * does not exist yet; the condition narrows it to the one role.)
 *
 * @example
 * ```ts
 * preprodReadTrustPolicy("aws", "222222222222");
 * ```
 */
export function preprodReadTrustPolicy(partition: string, prodAccountId: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ProdVerifyPreprodOnly",
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${prodAccountId}:root` },
        Action: "sts:AssumeRole",
        Condition: {
          ArnEquals: {
            "aws:PrincipalArn": `arn:${partition}:iam::${prodAccountId}:role/${functionName("prod", "verify-preprod")}`,
          },
        },
      },
    ],
  };
}

/** IAM's limit on a role's inline policies, in characters without whitespace. */
export const INLINE_POLICY_LIMIT = 10_240;

/** The size IAM counts for a policy made of these statements. */
export function inlinePolicySize(statements: readonly PolicyStatement[]): number {
  return JSON.stringify(policyDocument(statements)).replace(/\s/g, "").length;
}

/**
 * Throws, naming the function, when a policy would exceed IAM's inline limit: a registry with
 * very many services fails at `sst deploy` before anything changes, not halfway.
 *
 * @example
 * ```ts
 * assertPoliciesFit(functionPermissions(ctx));
 * ```
 */
export function assertPoliciesFit(
  permissions: Readonly<Record<string, readonly PolicyStatement[]>>,
): void {
  for (const [fn, statements] of Object.entries(permissions)) {
    const size = inlinePolicySize(statements);
    if (size > INLINE_POLICY_LIMIT) {
      throw new Error(
        `${fn}: its policy would have ${size} characters; IAM allows ${INLINE_POLICY_LIMIT} ` +
          "for a role's inline policies. Split the registry across more Gantry deployments " +
          "(see docs/deploy.md, Limits).",
      );
    }
  }
}
