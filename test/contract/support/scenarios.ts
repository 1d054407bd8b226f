/**
 * Each function's code paths, as the contract suites drive them: for every function, the
 * situations that make it send different AWS calls (the happy path, the failure, rollback and
 * conditional branches), each as a world to start from, an event, and what the handler should
 * come to. The suites run the functions' real exported handlers through them.
 */
import {
  type ApprovalDecisionRecord,
  type ApprovalRecord,
  approvalLink,
  type DeploymentRequest,
  type DeploymentState,
  type ExecutionRef,
  type HoldWatch,
  holdIdOf,
  holdKeys,
  holdScheduleName,
  type Plan,
  type PromotedArtifact,
  type Rollout,
  recordKeys,
  resolvePlan,
  type SealedDecision,
  type Stage,
  sealDecision,
  signingKeysFrom,
  validationKey,
} from "@gantry/core";
import { holdScheduleGroupName } from "@gantry/stacks/names";
import { awsError, type FakeAws } from "./fake-aws.ts";
import type { Installation } from "./installations.ts";
import { envOf } from "./installations.ts";

/** 2026-11-01T12:00:00.000Z: when the execution started. */
export const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);
/** The wall clock while a scenario runs: 15 minutes into the execution. */
export const NOW = T0 + 15 * 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

const SHA_A = "a".repeat(64);
const SHA_B = "b".repeat(64);
const VERSION = "3f2a9c1e0b7d4a5f6e8c9b0a1d2e3f4a5b6c7d8e";
/** The keys in the stage's two key secrets. */
export const LINK_KEY = "link-key-0123456789abcdefghijklmnopqrstuv";
export const DECISION_KEY = "decision-key-0123456789abcdefghijklmnopq";
const APPROVAL_ID = "AbCdEfGhIjKlMnOpQrStUv_-";
const TASK_TOKEN = "AQCEAAAAKgAAAA-task-token";
const LATE_TOKEN = "AQCEAAAAKgAAAA-late-task-token";
const OPERATOR = "arn:aws:sts::111122223333:assumed-role/GantryApprovers/alice@example.com";

export interface ScenarioContext {
  readonly installation: Installation;
  readonly aws: FakeAws;
  readonly request: DeploymentRequest;
  readonly execution: ExecutionRef;
  readonly plan: Plan;
  /** What ValidateInput hands on. */
  readonly state: DeploymentState;
}

export interface Scenario {
  readonly name: string;
  /** The stages whose installations take this path (default: both). */
  readonly stages?: readonly Stage[];
  /** Changes to the world every scenario starts from (see {@link baseWorld}). */
  readonly arrange?: (ctx: ScenarioContext) => void;
  readonly event: (ctx: ScenarioContext) => unknown;
  /** The error the handler fails with, when it should. */
  readonly fails?: string;
  /** A check of what the handler returned (throws when it is not what this path returns). */
  readonly returns?: (result: unknown, ctx: ScenarioContext) => void;
}

/** The context of one installation's scenarios: hello-service's plan in that stage. */
export function scenarioContext(installation: Installation, aws: FakeAws): ScenarioContext {
  const request: DeploymentRequest = {
    service: "hello-service",
    version: VERSION,
    artifact: { key: `hello-service/${VERSION}.zip`, sha256: SHA_A },
    trigger: { actor: "octocat", ciRunUrl: "https://ci.example.com/runs/42" },
  };
  const name = `hello-service-${VERSION.slice(0, 12)}-aaaaaaaa`;
  const execution = {
    id: executionArn(installation, name),
    name,
    startedAt: iso(T0),
  };
  const plan = resolvePlan(installation.registry, installation.stage, request, { timeScale: 1 });
  return { installation, aws, request, execution, plan, state: { request, execution, plan } };
}

function executionArn(installation: Installation, name: string): string {
  const { partition, region, accountId } = envOf(installation);
  return `arn:${partition}:states:${region}:${accountId}:execution:gantry-${installation.stage}:${name}`;
}

/**
 * What exists before any scenario: the artifact where CI put it (and preprod's validation
 * record), the target function with versions 5 and 6 and its alias on 6, preprod's alias on
 * version 12 running the artifact, the registry's alarms (OK), this execution (RUNNING) and
 * the stage's two key secrets.
 */
export function baseWorld(ctx: ScenarioContext): void {
  const { aws, plan, request, installation } = ctx;
  aws.put(plan.source.bucket, plan.source.key, {
    sha256: SHA_A,
    size: 2048,
    versionId: "src-v1",
  });
  const target = aws.addFunction(plan.target.functionName, {
    latest: { codeSha256: SHA_B, revisionId: "rev-0" },
  });
  target.versions.set("5", { codeSha256: SHA_B, state: "Active" });
  target.versions.set("6", { codeSha256: SHA_B, state: "Active" });
  target.aliases.set(plan.target.alias, { version: "6", weights: {}, revisionId: "alias-rev-0" });
  for (const name of plan.alarms) aws.alarms.set(name, { state: "OK" });
  if (plan.preprod) {
    aws.putJson(plan.preprod.bucket, validationKey(plan.service, request.version), {
      service: plan.service,
      version: request.version,
      sha256: SHA_A,
      validatedAt: iso(T0 - 3_600_000),
      validatedBy: "ci-bot",
      ciRunUrl: "https://ci.example.com/runs/41",
    });
    const preprod = aws.addFunction(plan.preprod.functionName, {
      latest: { codeSha256: SHA_A, revisionId: "pre-rev" },
    });
    preprod.versions.set("12", { codeSha256: SHA_A, state: "Active" });
    preprod.aliases.set(plan.preprod.alias, { version: "12", weights: {}, revisionId: "pre-a" });
    for (const name of plan.preprod.alarms) aws.alarms.set(name, { state: "OK" });
  }
  aws.executions.set(ctx.execution.id, { status: "RUNNING" });
  aws.secrets.set(
    installation.keySecretArns.links,
    JSON.stringify({ current: LINK_KEY, previous: "" }),
  );
  aws.secrets.set(
    installation.keySecretArns.decisions,
    JSON.stringify({ current: DECISION_KEY, previous: "" }),
  );
}

// --- Helpers for states and records -------------------------------------------------------------

function rollout(overrides: Partial<Rollout> = {}): Rollout {
  return {
    newVersion: "7",
    previousVersion: "6",
    phase: "steps",
    stepIndex: -1,
    weight: 0,
    holdEndsAt: iso(NOW),
    nextCheckAt: iso(NOW),
    checks: 0,
    holdTimeoutSeconds: 61,
    ...overrides,
  };
}

/** Version 7 published (what Deploy leaves behind), running the artifact. */
function published(ctx: ScenarioContext): void {
  ctx.aws.functions.get(ctx.plan.target.functionName)?.versions.set("7", {
    codeSha256: SHA_A,
    state: "Active",
  });
}

/** Routes `weight`% of the alias to version 7. */
function weighted(ctx: ScenarioContext, weight: number): void {
  const fn = ctx.aws.functions.get(ctx.plan.target.functionName);
  fn?.aliases.set(ctx.plan.target.alias, {
    version: "6",
    weights: { "7": weight / 100 },
    revisionId: "alias-rev-1",
  });
}

/**
 * Each version's own numbers through the alias (what the version analysis reads where the
 * registry has `analysis`): the previous version 6 healthy with plenty of traffic, the new
 * version 7 as given (default: as healthy, with enough requests for a verdict).
 */
function versionTraffic(
  ctx: ScenarioContext,
  newVersion: { invocations: number; errors: number } = { invocations: 400, errors: 0 },
): void {
  const { functionName, alias } = ctx.plan.target;
  ctx.aws.versionMetrics.set(`${functionName}:${alias}:6`, {
    invocations: 3600,
    errors: 4,
    p99DurationMs: 40,
  });
  ctx.aws.versionMetrics.set(`${functionName}:${alias}:7`, { ...newVersion, p99DurationMs: 42 });
}

/** The artifact as CopyArtifact returns it, with its object in the stage's bucket. */
function artifact(ctx: ScenarioContext): PromotedArtifact {
  const { destination } = ctx.plan;
  const stored = ctx.aws.objects.get(`${destination.bucket}/${destination.key}`);
  const object =
    stored ??
    ctx.aws.put(destination.bucket, destination.key, {
      sha256: SHA_A,
      size: 2048,
      versionId: "dest-v1",
    });
  return {
    bucket: destination.bucket,
    key: destination.key,
    ...(object.versionId ? { versionId: object.versionId } : {}),
    sha256: SHA_A,
    size: 2048,
    copied: destination.bucket !== ctx.plan.source.bucket,
  };
}

/** The approvers of this stage's approval (preprod has none today: stand-ins for a registry that adds some). */
function approvers(ctx: ScenarioContext): readonly string[] {
  return ctx.plan.approval.approvers.length > 0
    ? ctx.plan.approval.approvers
    : ["alice@example.com"];
}

function approvalRecord(ctx: ScenarioContext): ApprovalRecord {
  return {
    id: APPROVAL_ID,
    stage: ctx.installation.stage,
    service: ctx.plan.service,
    version: ctx.request.version,
    sha256: ctx.request.artifact.sha256,
    artifactKey: ctx.request.artifact.key,
    execution: {
      id: ctx.execution.id,
      name: ctx.execution.name,
      startedAt: ctx.execution.startedAt,
    },
    trigger: ctx.request.trigger,
    approvers: approvers(ctx),
    requestedAt: iso(NOW - 60_000),
    expiresAt: iso(NOW + 3_600_000),
    rollout: { steps: [10], stepWaitSeconds: 60, bakeSeconds: 600, alarms: [] },
  };
}

/** A pending approval: its index, its record and its task token's record. */
const DAMAGED_LOCK_ETAG = '"damaged-lock"';

/** A lock object that is not JSON (a truncated write, a bad restore). */
function damagedLock(ctx: ScenarioContext): void {
  const body = '{"owner":"arn:aws:states:us-east-1:1';
  ctx.aws.put(ctx.installation.stateBucket, recordKeys.lock("hello-service"), {
    body,
    size: body.length,
    etag: DAMAGED_LOCK_ETAG,
  });
}

function pendingApproval(ctx: ScenarioContext, token = TASK_TOKEN): void {
  const bucket = ctx.installation.stateBucket;
  ctx.aws.putJson(bucket, recordKeys.approvalOfExecution(ctx.execution), {
    approvalId: APPROVAL_ID,
    execution: ctx.execution.id,
  });
  ctx.aws.putJson(bucket, recordKeys.approval(APPROVAL_ID), approvalRecord(ctx));
  ctx.aws.putJson(bucket, recordKeys.approvalToken(APPROVAL_ID), {
    approvalId: APPROVAL_ID,
    taskToken: token,
  });
}

function decisionRecord(ctx: ScenarioContext, key = DECISION_KEY): ApprovalDecisionRecord {
  const fields: SealedDecision = {
    approvalId: APPROVAL_ID,
    execution: ctx.execution.id,
    executionStartedAt: ctx.execution.startedAt,
    service: ctx.plan.service,
    stage: ctx.installation.stage,
    version: ctx.request.version,
    sha256: ctx.request.artifact.sha256,
    decision: "approved",
    by: approvers(ctx)[0] ?? "",
    channel: "link",
    at: iso(NOW - 30_000),
  };
  return { ...fields, seal: sealDecision(fields, signingKeysFrom(key).current) };
}

/** The query of a signed approval link, as the email carries it. */
function linkQuery(ctx: ScenarioContext, action: "approve" | "reject"): string {
  const url = approvalLink(
    ctx.installation.approvalUrl,
    {
      approvalId: APPROVAL_ID,
      action,
      approver: approvers(ctx)[0] ?? "",
      expiresAt: Math.floor((NOW + 3_600_000) / 1000),
    },
    signingKeysFrom(LINK_KEY).current,
  );
  return new URL(url).search.slice(1);
}

function urlEvent(
  method: string,
  rawPath: string,
  options: { query?: string; body?: string; contentType?: string; principal?: string } = {},
) {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString: options.query ?? "",
    headers: options.contentType ? { "content-type": options.contentType } : {},
    requestContext: {
      http: { method, path: rawPath, protocol: "HTTP/1.1", sourceIp: "203.0.113.9" },
      ...(options.principal ? { authorizer: { iam: { userArn: options.principal } } } : {}),
    },
    isBase64Encoded: false,
    ...(options.body !== undefined ? { body: options.body } : {}),
  };
}

/** A Function URL response with this status (the approval pages answer refusals with a page). */
function status(expected: number) {
  return (result: unknown) => {
    const actual = (result as { statusCode?: number }).statusCode;
    if (actual !== expected)
      throw new Error(
        `answered ${actual}, expected ${expected}: ${JSON.stringify(result).slice(0, 300)}`,
      );
  };
}

function field<T>(name: string, expected: T) {
  return (result: unknown) => {
    const actual = (result as Record<string, unknown>)[name];
    if (JSON.stringify(actual) !== JSON.stringify(expected))
      throw new Error(`${name} is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  };
}

// --- Holds ----------------------------------------------------------------------------------------

/** The first traffic step's hold, ending a minute from now. */
function holdRollout(): Rollout {
  return rollout({ stepIndex: 0, weight: 10, holdEndsAt: iso(NOW + 60_000) });
}

/** What the hold Task's Payload carries. */
function holdEvent(ctx: ScenarioContext) {
  return { ...ctx.state, rollout: holdRollout(), taskToken: TASK_TOKEN };
}

function scheduleOf(ctx: ScenarioContext): string {
  return holdScheduleName(ctx.installation.stage, ctx.execution.id, holdIdOf(holdRollout()));
}

/** The watch startHold leaves for the first step's hold, and its alarm index entries. */
function watching(ctx: ScenarioContext, token = TASK_TOKEN): void {
  const bucket = ctx.installation.stateBucket;
  const r = holdRollout();
  const holdId = holdIdOf(r);
  const watch: HoldWatch = {
    holdId,
    executionArn: ctx.execution.id,
    taskToken: token,
    alarms: ctx.plan.alarms,
    holdEndsAt: r.holdEndsAt,
    service: ctx.plan.service,
    stage: ctx.installation.stage,
    newVersion: r.newVersion,
    weight: r.weight,
    phase: r.phase,
    schedule: scheduleOf(ctx),
    startedAt: iso(NOW - 1000),
  };
  ctx.aws.putJson(bucket, holdKeys.watch(ctx.execution.id), watch);
  for (const alarm of ctx.plan.alarms)
    ctx.aws.putJson(bucket, holdKeys.alarmIndex(alarm, ctx.execution.id), {
      executionArn: ctx.execution.id,
      holdId,
      alarm,
    });
}

/** The EventBridge event CloudWatch sends when the plan's first alarm changes state. */
function alarmStateChange(ctx: ScenarioContext, value: string) {
  const { partition, region, accountId } = envOf(ctx.installation);
  const name = ctx.plan.alarms[0] ?? "";
  return {
    version: "0",
    id: "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "CloudWatch Alarm State Change",
    source: "aws.cloudwatch",
    account: accountId,
    time: iso(NOW),
    region,
    resources: [`arn:${partition}:cloudwatch:${region}:${accountId}:alarm:${name}`],
    detail: {
      alarmName: name,
      state: { value, reason: "Threshold Crossed", timestamp: iso(NOW - 1000) },
      previousState: { value: "OK", reason: "fine", timestamp: iso(NOW - 600_000) },
      configuration: { metrics: [] },
    },
  };
}

/** What a hold's schedule delivers. */
function holdEndOf(ctx: ScenarioContext) {
  return { kind: "hold-end", executionArn: ctx.execution.id, holdId: holdIdOf(holdRollout()) };
}

/** The hold-events result of one hold ended `how`. */
function endedAs(how: string) {
  return (result: unknown) => {
    const ended = (result as { ended?: { how?: string }[] }).ended ?? [];
    if (ended.length !== 1 || ended[0]?.how !== how)
      throw new Error(`ended ${JSON.stringify(ended)}, expected one hold ended by ${how}`);
  };
}

// --- The scenarios --------------------------------------------------------------------------------

const OTHER = "hello-service-1111111-bbbbbbbb";
const BIG = 5 * 1024 ** 3 + 1;

export const SCENARIOS: Readonly<Record<string, readonly Scenario[]>> = {
  "validate-input": [
    {
      name: "resolves the plan of a valid request",
      event: (c) => ({ input: c.request, execution: c.execution }),
      returns: (r, c) => field("plan", c.plan)(r),
    },
    {
      name: "refuses a malformed request",
      event: (c) => ({ input: { ...c.request, version: "not a sha" }, execution: c.execution }),
      fails: "InvalidInput",
    },
  ],

  "acquire-lock": [
    { name: "takes a free lock", event: (c) => c.state },
    {
      name: "refuses while the lock's owner is still running",
      arrange: (c) => {
        c.aws.putJson(c.installation.stateBucket, "locks/hello-service.json", {
          owner: executionArn(c.installation, OTHER),
          service: "hello-service",
          version: "1111111",
          acquiredAt: iso(T0 - 60_000),
        });
        c.aws.executions.set(executionArn(c.installation, OTHER), { status: "RUNNING" });
      },
      event: (c) => c.state,
      fails: "DeploymentInProgress",
    },
    {
      name: "takes over the lock of an execution that failed",
      arrange: (c) => {
        c.aws.putJson(c.installation.stateBucket, "locks/hello-service.json", {
          owner: executionArn(c.installation, OTHER),
          service: "hello-service",
          version: "1111111",
          acquiredAt: iso(T0 - 60_000),
        });
        c.aws.executions.set(executionArn(c.installation, OTHER), { status: "FAILED" });
      },
      event: (c) => c.state,
      returns: (r, c) => field("brokeStaleLockOf", executionArn(c.installation, OTHER))(r),
    },
    {
      name: "takes over the lock of an execution Step Functions no longer knows",
      arrange: (c) => {
        c.aws.putJson(c.installation.stateBucket, "locks/hello-service.json", {
          owner: executionArn(c.installation, OTHER),
          service: "hello-service",
          version: "1111111",
          acquiredAt: iso(T0 - 90 * 86_400_000),
        });
      },
      event: (c) => c.state,
    },
    {
      name: "tries again when the lock is released between its create and its read",
      arrange: (c) => {
        c.aws.once("s3", "PutObject", () => {
          throw awsError("PreconditionFailed", 412);
        });
      },
      event: (c) => c.state,
    },
  ],

  "verify-preprod": [
    {
      name: "needs nothing from preprod in preprod",
      stages: ["preprod"],
      event: (c) => c.state,
      returns: field("required", false),
    },
    {
      name: "proves preprod ran and passed the bytes",
      stages: ["prod"],
      event: (c) => c.state,
      returns: field("preprodVersion", "12"),
    },
    {
      name: "reads a composite preprod alarm",
      stages: ["prod"],
      arrange: (c) => {
        for (const name of c.plan.preprod?.alarms ?? [])
          c.aws.alarms.set(name, { state: "OK", composite: true });
      },
      event: (c) => c.state,
      returns: field("required", true),
    },
    {
      name: "refuses an artifact preprod never validated",
      stages: ["prod"],
      arrange: (c) => {
        const bucket = c.plan.preprod?.bucket ?? "";
        c.aws.objects.delete(`${bucket}/${validationKey(c.plan.service, c.request.version)}`);
      },
      event: (c) => c.state,
      fails: "PreprodNotValidated",
    },
    {
      name: "refuses an artifact that is not there",
      stages: ["prod"],
      arrange: (c) => c.aws.objects.delete(`${c.plan.source.bucket}/${c.plan.source.key}`),
      event: (c) => c.state,
      fails: "ArtifactNotFound",
    },
  ],

  "approval-gate": [
    {
      name: "completes its own task where the stage asks nobody",
      stages: ["preprod"],
      event: (c) => ({ ...c.state, taskToken: TASK_TOKEN }),
      returns: field("mode", "not-required"),
    },
    {
      name: "stores the approval and emails every approver signed links",
      stages: ["prod"],
      event: (c) => ({ ...c.state, taskToken: TASK_TOKEN }),
      returns: field("emailed", true),
    },
    {
      name: "refuses a deployment during an incident not marked as a fix",
      arrange: (c) => {
        for (const name of c.plan.alarms) c.aws.alarms.set(name, { state: "ALARM" });
      },
      event: (c) => ({ ...c.state, taskToken: TASK_TOKEN }),
      fails: "AlarmTriggered",
    },
    {
      name: "finds the approval of an earlier attempt and emails nobody twice",
      stages: ["prod"],
      arrange: (c) => {
        pendingApproval(c, "AQCEAAAAKgAAAA-first-attempt");
        c.aws.putJson(c.installation.stateBucket, recordKeys.approvalNotified(APPROVAL_ID), {
          approvalId: APPROVAL_ID,
          at: iso(NOW - 60_000),
        });
      },
      event: (c) => ({ ...c.state, taskToken: TASK_TOKEN }),
      returns: field("emailed", false),
    },
  ],

  "verify-approval": [
    {
      name: "needs no decision where the stage asks nobody",
      stages: ["preprod"],
      event: (c) => c.state,
      returns: field("how", "not-required"),
    },
    {
      name: "proceeds on the sealed decision record",
      stages: ["prod"],
      arrange: (c) => {
        pendingApproval(c);
        c.aws.putJson(
          c.installation.stateBucket,
          recordKeys.approvalDecision(APPROVAL_ID),
          decisionRecord(c),
        );
      },
      event: (c) => c.state,
      returns: field("verified", true),
    },
    {
      name: "voids an approval nobody decided",
      stages: ["prod"],
      arrange: (c) => pendingApproval(c),
      event: (c) => c.state,
      fails: "ApprovalNotVerified",
    },
    {
      name: "refuses when no approval was requested",
      stages: ["prod"],
      event: (c) => c.state,
      fails: "ApprovalNotVerified",
    },
  ],

  "copy-artifact": [
    {
      name: "takes the build bucket's object as it is (one bucket)",
      stages: ["preprod"],
      event: (c) => c.state,
      returns: field("copied", false),
    },
    {
      name: "copies the verified object server-side, pinned by version and ETag",
      stages: ["prod"],
      event: (c) => c.state,
      returns: field("copied", true),
    },
    {
      name: "finds the bytes already promoted",
      stages: ["prod"],
      arrange: (c) =>
        c.aws.put(c.plan.destination.bucket, c.plan.destination.key, {
          sha256: SHA_A,
          size: 2048,
          versionId: "dest-v0",
        }),
      event: (c) => c.state,
      returns: field("copied", false),
    },
    {
      name: "refuses other bytes under the same key",
      stages: ["prod"],
      arrange: (c) =>
        c.aws.put(c.plan.destination.bucket, c.plan.destination.key, {
          sha256: SHA_B,
          size: 999,
          versionId: "dest-v0",
        }),
      event: (c) => c.state,
      fails: "ArtifactConflict",
    },
    {
      name: "refuses an artifact that is not there",
      arrange: (c) => c.aws.objects.delete(`${c.plan.source.bucket}/${c.plan.source.key}`),
      event: (c) => c.state,
      fails: "ArtifactNotFound",
    },
    {
      name: "copies an artifact over 5 GiB in parts",
      stages: ["prod"],
      arrange: (c) =>
        c.aws.put(c.plan.source.bucket, c.plan.source.key, {
          sha256: SHA_A,
          size: BIG,
          versionId: "src-v2",
        }),
      event: (c) => c.state,
      returns: field("size", BIG),
    },
    {
      name: "aborts a copy in parts when the source changed under it",
      stages: ["prod"],
      arrange: (c) => {
        c.aws.put(c.plan.source.bucket, c.plan.source.key, {
          sha256: SHA_A,
          size: BIG,
          versionId: "src-v2",
        });
        c.aws.once("s3", "UploadPartCopy", () => {
          throw awsError("PreconditionFailed", 412);
        });
      },
      event: (c) => c.state,
      fails: "ArtifactChecksumMismatch",
    },
  ],

  deploy: [
    {
      name: "updates the code from the stage's copy and publishes a version, moving no traffic",
      event: (c) => ({ ...c.state, artifact: artifact(c) }),
      returns: field("weight", 0),
    },
    {
      name: "waits for a code update still in progress",
      arrange: (c) => {
        const fn = c.aws.functions.get(c.plan.target.functionName);
        if (fn) fn.updateStatus = "InProgress";
      },
      event: (c) => ({ ...c.state, artifact: artifact(c) }),
      returns: field("newVersion", "7"),
    },
    {
      name: "waits for a new version Lambda is still preparing",
      arrange: (c) => {
        const fn = c.aws.functions.get(c.plan.target.functionName);
        if (fn) fn.publishState = "Pending";
      },
      event: (c) => ({ ...c.state, artifact: artifact(c) }),
      returns: field("newVersion", "7"),
    },
    {
      name: "refuses a target without its alias, changing nothing",
      arrange: (c) => c.aws.functions.get(c.plan.target.functionName)?.aliases.clear(),
      event: (c) => ({ ...c.state, artifact: artifact(c) }),
      fails: "TargetNotFound",
    },
  ],

  canary: [
    {
      name: "invokes the new version, then gives it the first traffic step",
      arrange: published,
      event: (c) => ({ ...c.state, artifact: artifact(c), rollout: rollout() }),
      returns: (r, c) => field("weight", c.plan.rollout.steps[0] ?? 100)(r),
    },
    {
      name: "fails a version whose check fails, giving it no traffic",
      arrange: (c) => {
        published(c);
        const fn = c.aws.functions.get(c.plan.target.functionName);
        if (fn)
          fn.respond = () => ({
            payload: { errorType: "TypeError", errorMessage: "boom" },
            functionError: "Unhandled",
          });
      },
      event: (c) => ({ ...c.state, artifact: artifact(c), rollout: rollout() }),
      fails: "CanaryFailed",
    },
  ],

  "check-alarms": [
    {
      name: "holds the step while its hold lasts",
      arrange: (c) => weighted(c, c.plan.rollout.steps[0] ?? 0),
      event: (c) => ({
        ...c.state,
        rollout: rollout({ stepIndex: 0, weight: 10, holdEndsAt: iso(NOW + 30_000) }),
      }),
      returns: field("stepIndex", 0),
    },
    {
      name: "moves to the next traffic step once the hold is over",
      stages: ["prod"],
      arrange: (c) => {
        weighted(c, c.plan.rollout.steps[0] ?? 0);
        versionTraffic(c);
      },
      event: (c) => ({
        ...c.state,
        rollout: rollout({
          stepIndex: 0,
          weight: c.plan.rollout.steps[0] ?? 0,
          holdEndsAt: iso(NOW - 1000),
        }),
      }),
      returns: field("stepIndex", 1),
    },
    {
      name: "hands over to Promote after the last step",
      arrange: (c) => {
        weighted(c, c.plan.rollout.steps.at(-1) ?? 0);
        versionTraffic(c);
      },
      event: (c) => ({
        ...c.state,
        rollout: rollout({
          stepIndex: c.plan.rollout.steps.length - 1,
          weight: c.plan.rollout.steps.at(-1) ?? 0,
          holdEndsAt: iso(NOW - 1000),
        }),
      }),
      returns: field("phase", "promote"),
    },
    {
      name: "reads each version's own metrics and halts a version that fails more than the previous one",
      stages: ["prod"],
      arrange: (c) => {
        weighted(c, c.plan.rollout.steps[0] ?? 0);
        versionTraffic(c, { invocations: 400, errors: 120 });
      },
      event: (c) => ({
        ...c.state,
        rollout: rollout({
          stepIndex: 0,
          weight: c.plan.rollout.steps[0] ?? 0,
          holdEndsAt: iso(NOW - 1000),
        }),
      }),
      returns: (r) => {
        field("phase", "halted")(r);
        field("failure", "VersionRegressed")((r as { analysis?: unknown }).analysis);
      },
    },
    {
      name: "makes up a short sample with synthetic requests to the new version, then moves on",
      stages: ["prod"],
      arrange: (c) => {
        published(c);
        weighted(c, c.plan.rollout.steps[0] ?? 0);
        versionTraffic(c, { invocations: 60, errors: 0 });
      },
      event: (c) => ({
        ...c.state,
        rollout: rollout({
          stepIndex: 0,
          weight: c.plan.rollout.steps[0] ?? 0,
          holdEndsAt: iso(NOW - 1000),
        }),
      }),
      returns: (r, c) => {
        field("stepIndex", 1)(r);
        const invoked = c.aws.calls.filter((call) => call.command === "Invoke");
        if (invoked.length === 0 || invoked.some((call) => call.input.Qualifier !== "7"))
          throw new Error(
            `expected synthetic requests to version 7 only, got ${JSON.stringify(invoked.map((call) => call.input.Qualifier))}`,
          );
      },
    },
    {
      name: "reads a composite alarm",
      arrange: (c) => {
        for (const name of c.plan.alarms) c.aws.alarms.set(name, { state: "OK", composite: true });
      },
      event: (c) => ({
        ...c.state,
        rollout: rollout({ stepIndex: 0, weight: 10, holdEndsAt: iso(NOW + 30_000) }),
      }),
      returns: field("checks", 1),
    },
    {
      name: "fails when an alarm fires, moving no traffic",
      arrange: (c) => {
        for (const name of c.plan.alarms) c.aws.alarms.set(name, { state: "ALARM" });
      },
      event: (c) => ({ ...c.state, rollout: rollout({ stepIndex: 0, weight: 10 }) }),
      fails: "AlarmTriggered",
    },
  ],

  hold: [
    {
      name: "writes the watch and its alarm index, schedules the hold's end, reads the alarms",
      event: (c) => holdEvent(c),
      returns: (r, c) => {
        field("holdId", holdIdOf(holdRollout()))(r);
        if (c.aws.schedules.size !== 1) throw new Error("no schedule was created");
      },
    },
    {
      name: "leaves the schedule an earlier attempt of the Task created",
      arrange: (c) => {
        c.aws.once("scheduler", "CreateSchedule", () => {
          throw awsError("ConflictException", 409);
        });
      },
      event: (c) => holdEvent(c),
      returns: field("holdId", holdIdOf(holdRollout())),
    },
    {
      name: "fails at once when a watched alarm is already in ALARM",
      arrange: (c) => {
        for (const name of c.plan.alarms) c.aws.alarms.set(name, { state: "ALARM" });
      },
      event: (c) => holdEvent(c),
      fails: "AlarmTriggered",
    },
  ],

  "hold-events": [
    {
      name: "fails the hold watching an alarm that entered ALARM, and removes its watch",
      arrange: (c) => watching(c),
      event: (c) => alarmStateChange(c, "ALARM"),
      returns: (r, c) => {
        endedAs("alarm")(r);
        if ([...c.aws.objects.keys()].some((k) => k.includes("/holds/")))
          throw new Error("the watch is still there");
      },
    },
    {
      name: "completes the hold whose schedule fired",
      arrange: (c) => watching(c),
      event: (c) => holdEndOf(c),
      returns: endedAs("time"),
    },
    {
      name: "cancels the schedule of a hold an alarm ended first",
      arrange: (c) => {
        watching(c);
        c.aws.schedules.set(`${holdScheduleGroupName(c.installation.stage)}/${scheduleOf(c)}`, {});
      },
      event: (c) => alarmStateChange(c, "ALARM"),
      returns: (r, c) => {
        endedAs("alarm")(r);
        if (c.aws.schedules.size !== 0) throw new Error("the schedule is still there");
      },
    },
    {
      name: "takes a spent token as a hold that already ended",
      arrange: (c) => {
        watching(c, LATE_TOKEN);
        c.aws.expiredTokens.add(LATE_TOKEN);
      },
      event: (c) => holdEndOf(c),
      returns: endedAs("already-ended"),
    },
    {
      name: "does nothing for a schedule that fires after its hold ended (no watch: a 404)",
      event: (c) => holdEndOf(c),
      returns: field("ignored", "the hold had already ended"),
    },
    {
      name: "does nothing for an alarm nobody watches",
      event: (c) => alarmStateChange(c, "ALARM"),
      returns: field("ended", []),
    },
  ],

  promote: [
    {
      name: "gives the new version the whole alias and reads it back",
      arrange: (c) => {
        published(c);
        weighted(c, 50);
      },
      event: (c) => ({
        ...c.state,
        rollout: rollout({ phase: "promote", stepIndex: 0, weight: 50 }),
      }),
      returns: field("weight", 100),
    },
  ],

  rollback: [
    {
      name: "puts the alias back on the previous version and verifies it",
      arrange: (c) => {
        published(c);
        weighted(c, 10);
      },
      event: (c) => ({ ...c.state, rollout: rollout({ stepIndex: 0, weight: 10 }) }),
      returns: field("restoredVersion", "6"),
    },
    {
      name: "finds no alias to restore",
      arrange: (c) => c.aws.functions.get(c.plan.target.functionName)?.aliases.clear(),
      event: (c) => ({ ...c.state, rollout: rollout({ stepIndex: 0, weight: 10 }) }),
      returns: field("restoredVersion", null),
    },
  ],

  finish: [
    {
      name: "records the deployment and releases the lock it holds",
      arrange: (c) =>
        c.aws.putJson(c.installation.stateBucket, "locks/hello-service.json", {
          owner: c.execution.id,
          service: "hello-service",
          version: c.request.version,
          acquiredAt: iso(T0),
        }),
      event: (c) => ({
        result: "succeeded",
        state: { ...c.state, rollout: rollout({ phase: "baked", weight: 100 }) },
      }),
      returns: field("lockReleased", true),
    },
    {
      name: "leaves another execution's lock alone",
      arrange: (c) =>
        c.aws.putJson(c.installation.stateBucket, "locks/hello-service.json", {
          owner: executionArn(c.installation, OTHER),
          service: "hello-service",
          version: "1111111",
          acquiredAt: iso(T0),
        }),
      event: (c) => ({
        result: "failed",
        state: { ...c.state, failure: { Error: "DeploymentInProgress", Cause: "held" } },
      }),
      returns: field("lockReleased", false),
    },
    {
      name: "names a failed rollback and raises its metric, with no lock left",
      event: (c) => ({
        result: "failed",
        state: {
          ...c.state,
          rollout: rollout({ stepIndex: 0, weight: 10 }),
          failure: { Error: "AlarmTriggered", Cause: "errors in ALARM" },
          rollbackFailure: { Error: "RollbackFailed", Cause: "AccessDeniedException" },
        },
      }),
      returns: field("error", "RollbackFailed"),
    },
  ],

  "approval-http": [
    {
      name: "shows the confirmation page of a signed link (GET decides nothing)",
      arrange: (c) => pendingApproval(c),
      event: (c) =>
        urlEvent("GET", `/approvals/${APPROVAL_ID}`, { query: linkQuery(c, "approve") }),
      returns: status(200),
    },
    {
      name: "approves: writes the sealed decision, then completes the task",
      arrange: (c) => pendingApproval(c),
      event: (c) =>
        urlEvent("POST", `/approvals/${APPROVAL_ID}`, {
          body: `${linkQuery(c, "approve")}&comment=ship+it`,
          contentType: "application/x-www-form-urlencoded",
        }),
      returns: status(200),
    },
    {
      name: "rejects: writes the sealed decision, then fails the task",
      arrange: (c) => pendingApproval(c),
      event: (c) =>
        urlEvent("POST", `/approvals/${APPROVAL_ID}`, {
          body: linkQuery(c, "reject"),
          contentType: "application/x-www-form-urlencoded",
        }),
      returns: status(200),
    },
    {
      name: "marks a decision that arrived after the task stopped waiting",
      arrange: (c) => {
        pendingApproval(c, LATE_TOKEN);
        c.aws.expiredTokens.add(LATE_TOKEN);
      },
      event: (c) =>
        urlEvent("POST", `/approvals/${APPROVAL_ID}`, {
          body: linkQuery(c, "approve"),
          contentType: "application/x-www-form-urlencoded",
        }),
      returns: status(410),
    },
    {
      name: "loses the race to a decision written a moment before",
      arrange: (c) => {
        pendingApproval(c);
        c.aws.once("s3", "PutObject", (input) => {
          c.aws.putJson(String(input.Bucket), String(input.Key), decisionRecord(c));
          throw awsError("PreconditionFailed", 412);
        });
      },
      event: (c) =>
        urlEvent("POST", `/approvals/${APPROVAL_ID}`, {
          body: linkQuery(c, "approve"),
          contentType: "application/x-www-form-urlencoded",
        }),
      returns: status(409),
    },
  ],

  "approval-operator": [
    {
      name: "lists the pending approvals",
      arrange: (c) => pendingApproval(c),
      event: () => urlEvent("GET", "/operator/approvals", { principal: OPERATOR }),
      returns: status(200),
    },
    {
      name: "approves as the approver the principal maps to",
      arrange: (c) => pendingApproval(c),
      event: () =>
        urlEvent("POST", `/operator/approvals/${APPROVAL_ID}`, {
          principal: OPERATOR,
          contentType: "application/json",
          body: JSON.stringify({ action: "approve", comment: "ok" }),
        }),
      returns: status(200),
    },
    {
      name: "rejects as the approver the principal maps to",
      arrange: (c) => pendingApproval(c),
      event: () =>
        urlEvent("POST", `/operator/approvals/${APPROVAL_ID}`, {
          principal: OPERATOR,
          contentType: "application/json",
          body: JSON.stringify({ action: "reject" }),
        }),
      returns: status(200),
    },
    {
      name: "shows a service's lock (gantry unlock inspects it first)",
      arrange: (c) => damagedLock(c),
      event: (c) =>
        urlEvent("GET", `/operator/locks/${c.installation.stage}/hello-service`, {
          principal: OPERATOR,
        }),
      returns: status(200),
    },
    {
      name: "breaks a damaged lock: deletes exactly the inspected bytes, audited",
      arrange: (c) => damagedLock(c),
      event: (c) =>
        urlEvent("POST", `/operator/locks/${c.installation.stage}/hello-service`, {
          principal: OPERATOR,
          contentType: "application/json",
          body: JSON.stringify({
            reason: "garbled by a bad restore",
            etag: DAMAGED_LOCK_ETAG,
            forceDamaged: true,
          }),
        }),
      returns: (result, c) => {
        status(200)(result);
        if (c.aws.objects.has(`${c.installation.stateBucket}/${recordKeys.lock("hello-service")}`))
          throw new Error("the lock is still there");
        const audits = [...c.aws.objects.keys()].filter((k) =>
          k.startsWith(`${c.installation.stateBucket}/audit/locks/hello-service/`),
        );
        if (audits.length !== 1) throw new Error(`expected one audit record, got ${audits.length}`);
      },
    },
    {
      name: "breaks the lock of a finished execution, asking Step Functions first",
      arrange: (c) => {
        c.aws.putJson(c.installation.stateBucket, recordKeys.lock("hello-service"), {
          owner: executionArn(c.installation, OTHER),
          service: "hello-service",
          version: "1111111",
          acquiredAt: iso(T0 - 60_000),
        });
        c.aws.executions.set(executionArn(c.installation, OTHER), { status: "FAILED" });
      },
      event: (c) =>
        urlEvent("POST", `/operator/locks/${c.installation.stage}/hello-service`, {
          principal: OPERATOR,
          contentType: "application/json",
          body: JSON.stringify({ reason: "stuck after a crash" }),
        }),
      returns: status(200),
    },
    {
      name: "refuses a request Lambda authenticated no principal for",
      event: () =>
        urlEvent("POST", `/operator/approvals/${APPROVAL_ID}`, {
          contentType: "application/json",
          body: JSON.stringify({ action: "approve" }),
        }),
      returns: status(401),
    },
  ],

  reconcile: [
    {
      name: "ignores an execution that succeeded with its outcome recorded",
      event: (c) => ({
        detail: {
          executionArn: c.execution.id,
          status: "SUCCEEDED",
          output: JSON.stringify({
            ...c.state,
            rollout: rollout({ phase: "baked", stepIndex: 2, weight: 100 }),
            outcome: { status: "deployed", version: "7", lockReleased: true },
          }),
        },
      }),
      returns: field("skipped", "SUCCEEDED"),
    },
    {
      name: "records a succeeded execution whose Finish failed for good as deployed and releases the lock",
      arrange: (c) => {
        c.aws.putJson(c.installation.stateBucket, "locks/hello-service.json", {
          owner: c.execution.id,
          service: "hello-service",
          version: c.request.version,
          acquiredAt: iso(T0),
        });
      },
      event: (c) => ({
        detail: {
          executionArn: c.execution.id,
          status: "SUCCEEDED",
          output: JSON.stringify({
            ...c.state,
            artifact: artifact(c),
            rollout: rollout({ phase: "baked", stepIndex: 2, weight: 100 }),
            cleanupFailure: { Error: "States.Timeout", Cause: "Finish timed out" },
          }),
        },
      }),
      returns: (r) => {
        const outcome = (r as { outcome?: { status?: string; lockReleased?: boolean } }).outcome;
        if (outcome?.status !== "deployed" || outcome.lockReleased !== true)
          throw new Error(`not recorded as deployed: ${JSON.stringify(r)}`);
      },
    },
    {
      name: "tries a failed rollback once more and records that the reconcile rolled back",
      arrange: (c) => {
        published(c);
        weighted(c, 50);
        const outcome = {
          status: "failed",
          error: "RollbackFailed",
          cause: "rollback failed (could not restore the alias) after AlarmTriggered: x",
          lockReleased: true,
        };
        const state = {
          ...c.state,
          artifact: artifact(c),
          rollout: rollout({ stepIndex: 2, weight: 50 }),
          failure: { Error: "AlarmTriggered", Cause: "in ALARM" },
          rollbackFailure: { Error: "RollbackFailed", Cause: "could not restore the alias" },
          outcome,
        };
        c.aws.putJson(
          c.installation.stateBucket,
          `deployments/hello-service/${iso(T0).replace(/[:.]/g, "-")}_${c.execution.name}.json`,
          { outcome },
        );
        c.aws.executions.set(c.execution.id, {
          status: "FAILED",
          history: [
            [
              { id: 60, timestamp: new Date(NOW), type: "ExecutionFailed" },
              {
                id: 59,
                timestamp: new Date(NOW - 1000),
                type: "FailStateEntered",
                stateEnteredEventDetails: { name: "RollbackFailed", input: JSON.stringify(state) },
              },
            ],
          ],
        });
      },
      event: (c) => ({
        detail: { executionArn: c.execution.id, status: "FAILED", error: "RollbackFailed" },
      }),
      returns: (r) => {
        const result = r as {
          rollback?: { restoredVersion?: string };
          outcome?: { status?: string };
        };
        if (result.rollback?.restoredVersion !== "6" || result.outcome?.status !== "rolled-back")
          throw new Error(`not rolled back: ${JSON.stringify(r)}`);
      },
    },
    {
      name: "puts the alias back after an aborted rollout, records it and releases the lock",
      arrange: (c) => {
        published(c);
        weighted(c, 10);
        c.aws.putJson(c.installation.stateBucket, "locks/hello-service.json", {
          owner: c.execution.id,
          service: "hello-service",
          version: c.request.version,
          acquiredAt: iso(T0),
        });
        const state = {
          ...c.state,
          artifact: artifact(c),
          rollout: rollout({ stepIndex: 0, weight: 10 }),
        };
        c.aws.executions.set(c.execution.id, {
          status: "ABORTED",
          history: [
            [
              { id: 40, timestamp: new Date(NOW), type: "ExecutionAborted" },
              { id: 39, timestamp: new Date(NOW - 1000), type: "WaitStateEntered" },
            ],
            [
              {
                id: 38,
                timestamp: new Date(NOW - 2000),
                type: "TaskStateEntered",
                stateEnteredEventDetails: { name: "CheckAlarms", input: JSON.stringify(state) },
              },
            ],
          ],
        });
      },
      event: (c) => ({ detail: { executionArn: c.execution.id, status: "ABORTED" } }),
      returns: (r) => {
        const rollback = (r as { rollback?: { restoredVersion?: string } }).rollback;
        if (rollback?.restoredVersion !== "6") throw new Error(`no rollback: ${JSON.stringify(r)}`);
      },
    },
    {
      name: "releases the lock of an execution that timed out before Deploy",
      arrange: (c) => {
        c.aws.putJson(c.installation.stateBucket, "locks/hello-service.json", {
          owner: c.execution.id,
          service: "hello-service",
          version: c.request.version,
          acquiredAt: iso(T0),
        });
        c.aws.executions.set(c.execution.id, {
          status: "TIMED_OUT",
          history: [
            [
              {
                id: 9,
                timestamp: new Date(NOW),
                type: "TaskStateEntered",
                stateEnteredEventDetails: { name: "VerifyPreprod", input: JSON.stringify(c.state) },
              },
            ],
          ],
        });
      },
      event: (c) => ({ detail: { executionArn: c.execution.id, status: "TIMED_OUT" } }),
      returns: (r) => field("lockReleased", true)((r as { outcome: unknown }).outcome),
    },
    {
      name: "records the outcome of an execution whose lock is already gone",
      arrange: (c) => {
        c.aws.executions.set(c.execution.id, {
          status: "ABORTED",
          history: [
            [
              {
                id: 5,
                timestamp: new Date(NOW),
                type: "TaskStateEntered",
                stateEnteredEventDetails: { name: "AcquireLock", input: JSON.stringify(c.state) },
              },
            ],
          ],
        });
      },
      event: (c) => ({ detail: { executionArn: c.execution.id, status: "ABORTED" } }),
      returns: (r) => field("lockReleased", false)((r as { outcome: unknown }).outcome),
    },
  ],

  "scheduled-canary": [
    {
      name: "invokes every registered service's alias and publishes its failures",
      stages: ["prod"],
      event: () => ({}),
      returns: field("failures", 0),
    },
    {
      name: "counts a failing check",
      stages: ["prod"],
      arrange: (c) => {
        const fn = c.aws.functions.get(c.plan.target.functionName);
        if (fn) fn.respond = () => ({ payload: { statusCode: 502, body: "bad gateway" } });
      },
      event: () => ({}),
      returns: field("failures", 1),
    },
  ],
};

/** The scenarios a function runs in one stage. */
export function scenariosFor(file: string, stage: Stage): Scenario[] {
  const all = SCENARIOS[file];
  if (!all)
    throw new Error(`no scenarios for functions/${file}.ts in test/contract/support/scenarios.ts`);
  return all.filter((s) => !s.stages || s.stages.includes(stage));
}
