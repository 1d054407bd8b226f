/**
 * Runs the real deployment ASL under aws-local-stepfunctions with the real function factories
 * over the in-memory world, and reports what the execution did.
 */
import {
  type AlarmStateChangeEvent,
  type AlarmStatus,
  type AnalysisPolicy,
  type ApprovalServiceDeps,
  currentRecordKeys,
  type DeploymentState,
  decideApproval,
  defineRegistry,
  type ExecutionStatus,
  executionName,
  type HoldCallbackEvent,
  type HoldEventResult,
  type ReconcileResult,
  type Registry,
  reconcileAbandoned,
  type SecretSource,
  type Stage,
  signingKeysFrom,
  unrecordedSuccess,
  validationKey,
  type WorkflowCallbacks,
  type WorkflowFunctionKey,
} from "@gantry/core";
import {
  MemoryAlarms,
  MemoryArtifacts,
  MemoryFunctions,
  MemoryMailer,
  MemoryMetrics,
  MemoryRecords,
  MemoryVersionMetrics,
} from "@gantry/core/testing";
import {
  type EngineEvent,
  handlersByArn,
  holdEventsHandler,
  LocalHoldScheduler,
  loadWorkflowDefinition,
  type TaskHandler,
  TaskTokenRegistry,
  WorkflowEngine,
  workflowHandlers,
} from "@gantry/local";

export const TIME_SCALE = 0.001;
export const PREPROD_BUCKET = "acme-artifacts-preprod";
export const PROD_BUCKET = "acme-artifacts-prod";

/**
 * A registry like a real one: prod verifies preprod, asks two approvers, three traffic steps.
 * `analysis` gives prod the version analysis (absent: alarms only, as before).
 */
export function testRegistry(
  overrides: { approvalTimeoutSeconds?: number; analysis?: AnalysisPolicy } = {},
): Registry {
  return defineRegistry({
    stages: {
      preprod: { sourceBucket: PREPROD_BUCKET, artifactBucket: PREPROD_BUCKET },
      prod: { sourceBucket: PREPROD_BUCKET, artifactBucket: PROD_BUCKET },
    },
    services: {
      "hello-service": {
        repositoryUrl: "https://github.com/acme/hello-service",
        repository: "acme/hello-service",
        canary: {
          checks: [
            {
              name: "GET /hello",
              event: { rawPath: "/hello" },
              expect: { statusCode: 200, bodyIncludes: "hello" },
            },
          ],
        },
        stages: {
          preprod: {
            functionName: "hello-preprod",
            alias: "live",
            alarms: ["hello-preprod-errors"],
            rollout: { steps: [50], stepWaitSeconds: 60, pollSeconds: 60, bakeSeconds: 120 },
            verifyPreprod: false,
            // The workflow tests start executions without ID tokens.
            allowUnverifiedTrigger: true,
          },
          prod: {
            functionName: "hello-prod",
            alias: "live",
            alarms: ["hello-prod-errors", "hello-prod-latency"],
            rollout: {
              steps: [10, 25, 50],
              stepWaitSeconds: 60,
              pollSeconds: 60,
              bakeSeconds: 600,
            },
            verifyPreprod: true,
            approval: {
              approvers: ["alice@example.com", "bob@example.com"],
              autoApprove: [{ actor: "dependabot[bot]" }],
              timeoutSeconds: overrides.approvalTimeoutSeconds ?? 3600,
            },
            allowUnverifiedTrigger: true,
            ...(overrides.analysis ? { analysis: overrides.analysis } : {}),
          },
        },
      },
    },
  });
}

export const GOOD_V1 = { statusCode: 200, body: "hello from v1" };
export const GOOD_V2 = { statusCode: 200, body: "hello from v2" };
export const BROKEN = { statusCode: 500, body: "internal error" };
/** Fine in preprod, broken under prod's conditions. */
export const BROKEN_IN_PROD = { ...GOOD_V2, onFunction: { "hello-prod": BROKEN } };

export interface RunReport {
  readonly status: ExecutionStatus;
  readonly error?: string;
  readonly cause?: string;
  readonly output?: unknown;
  /** Every state entered, in order (one Step Functions state transition each). */
  readonly states: string[];
  readonly events: EngineEvent[];
}

/** One execution's bookkeeping, as DescribeExecution would see it. */
interface Tracked {
  status: ExecutionStatus;
}

export class WorkflowHarness {
  readonly artifacts = new MemoryArtifacts();
  readonly functions = new MemoryFunctions(this.artifacts);
  readonly alarms = new MemoryAlarms();
  readonly metrics = new MemoryMetrics();
  /** Each version's own numbers (the `ExecutedVersion` series) for the version analysis. */
  readonly versionMetrics = new MemoryVersionMetrics();
  readonly mailer = new MemoryMailer();
  readonly records: Record<Stage, MemoryRecords> = {
    preprod: new MemoryRecords(),
    prod: new MemoryRecords(),
  };
  readonly tokens = new TaskTokenRegistry();
  /** Each stage's hold schedules (EventBridge Scheduler's part). */
  readonly schedulers: Record<Stage, LocalHoldScheduler> = {
    preprod: new LocalHoldScheduler(),
    prod: new LocalHoldScheduler(),
  };
  /** Each stage's hold-events function: alarm state changes and hold schedules reach it. */
  readonly holdEvents: Record<Stage, (event: HoldCallbackEvent) => Promise<HoldEventResult>>;
  /**
   * What happens to alarm state-change events: delivered at once (EventBridge), lost (a test of
   * the end-of-hold check), or delivered twice.
   */
  alarmEvents: "delivered" | "lost" | "duplicated" = "delivered";
  readonly executions = new Map<string, Tracked>();
  readonly engines: Record<Stage, WorkflowEngine>;
  readonly secrets: SecretSource = { signingKeys: async () => signingKeysFrom("x".repeat(40)) };
  readonly decisionKeys: SecretSource = {
    signingKeys: async () => signingKeysFrom("d".repeat(40)),
  };

  readonly registry: Registry;
  readonly workflows: WorkflowCallbacks;
  /**
   * When set, every prod approval is decided by this approver as soon as its email arrives,
   * through the real path: the emailed link's parameters, POSTed to the approval service.
   */
  approveAs: string | undefined;

  /**
   * Functions that fail for good (an error no Retry lists, named InjectedFault, as the fault
   * suite's `error`) on the calls `when` picks: e.g. Finish on `"result":"succeeded"` only.
   */
  readonly failing: Partial<Record<WorkflowFunctionKey, (event: string) => boolean>> = {};

  constructor(registry: Registry = testRegistry()) {
    this.registry = registry;
    const workflows: WorkflowCallbacks = {
      sendTaskSuccess: async (token, output) => this.tokens.succeed(token, output),
      sendTaskFailure: async (token, error, cause) => this.tokens.fail(token, error, cause),
      executionStatus: async (arn) => this.executions.get(arn)?.status,
    };
    this.workflows = workflows;
    const portsOf = (stage: Stage) => ({
      records: this.records[stage],
      artifacts: this.artifacts,
      functions: this.functions,
      alarms: this.alarms,
      metrics: this.metrics,
      versionMetrics: this.versionMetrics,
      mailer: this.mailer,
      workflows,
      secrets: this.secrets,
      decisionKeys: this.decisionKeys,
      clock: { now: () => Date.now() },
      scheduler: this.schedulers[stage],
      approvalBaseUrl: "http://127.0.0.1:8084",
      sender: "gantry@example.com",
    });
    this.holdEvents = {
      preprod: holdEventsHandler(portsOf("preprod"), { stage: "preprod" }),
      prod: holdEventsHandler(portsOf("prod"), { stage: "prod" }),
    };
    for (const stage of ["preprod", "prod"] as const)
      this.schedulers[stage].connect(this.holdEvents[stage]);
    this.alarms.onChange((status) => {
      if (this.alarmEvents === "lost") return;
      const times = this.alarmEvents === "duplicated" ? 2 : 1;
      for (let i = 0; i < times; i++) void this.sendAlarmEvent(status);
    });
    const engine = (stage: Stage) => {
      const handlers = workflowHandlers(portsOf(stage), {
        stage,
        registry,
        timeScale: TIME_SCALE,
      });
      for (const key of Object.keys(handlers) as WorkflowFunctionKey[]) {
        const real: TaskHandler = handlers[key];
        handlers[key] = async (event) => {
          if (this.failing[key]?.(JSON.stringify(event)))
            throw Object.assign(new Error(`${key} failed (injected)`), { name: "InjectedFault" });
          return real(event);
        };
      }
      return new WorkflowEngine({
        definition: loadWorkflowDefinition(stage).definition,
        handlers: handlersByArn(stage, handlers),
        timeScale: TIME_SCALE,
        tokens: this.tokens,
      });
    };
    this.engines = { preprod: engine("preprod"), prod: engine("prod") };
    this.functions.create("hello-preprod", "live", GOOD_V1);
    this.functions.create("hello-prod", "live", GOOD_V1);
    for (const alarm of ["hello-preprod-errors", "hello-prod-errors", "hello-prod-latency"])
      this.alarms.set(alarm, "OK");
  }

  /** Delivers one CloudWatch "Alarm State Change" event for `status` to both stages' hold-events. */
  async sendAlarmEvent(status: AlarmStatus): Promise<HoldEventResult[]> {
    const event: AlarmStateChangeEvent = {
      source: "aws.cloudwatch",
      "detail-type": "CloudWatch Alarm State Change",
      time: status.updatedAt,
      detail: {
        alarmName: status.name,
        state: { value: status.state, reason: status.reason, timestamp: status.updatedAt },
      },
    };
    return Promise.all([this.holdEvents.preprod(event), this.holdEvents.prod(event)]);
  }

  /** CI's part: publish an artifact to the preprod bucket; returns the request to start with. */
  publish(version: string, behaviour: object, actor = "octocat") {
    const key = `hello-service/${version}.zip`;
    const sha256 = this.artifacts.put({ bucket: PREPROD_BUCKET, key }, JSON.stringify(behaviour));
    return {
      service: "hello-service",
      version,
      artifact: { key, sha256 },
      trigger: { actor, ciRunUrl: "https://ci.example.com/run/1" },
    };
  }

  /** CI's part after preprod tests pass: the validation record. */
  validate(request: { version: string; artifact: { sha256: string } }) {
    this.artifacts.put(
      { bucket: PREPROD_BUCKET, key: validationKey("hello-service", request.version) },
      JSON.stringify({
        service: "hello-service",
        version: request.version,
        sha256: request.artifact.sha256,
        validatedAt: new Date().toISOString(),
        validatedBy: "ci",
      }),
    );
  }

  /** Starts an execution; `done` settles with its report. */
  start(
    stage: Stage,
    input: unknown,
    name?: string,
  ): { arn: string; name: string; done: Promise<RunReport>; stop: (reason: string) => void } {
    const request = input as Parameters<typeof executionName>[0];
    const execName =
      name ?? (request?.artifact?.sha256 ? executionName(request) : `invalid-${Date.now()}`);
    const arn = `arn:aws:states:us-east-1:000000000000:execution:gantry-${stage}:${execName}`;
    const tracked: Tracked = { status: "RUNNING" };
    this.executions.set(arn, tracked);
    const running = this.engines[stage].start(input, { executionArn: arn, name: execName });
    if (stage === "prod" && this.approveAs) {
      const approver = this.approveAs;
      void this.decide(execName, approver).catch(() => undefined);
    }
    const events: EngineEvent[] = [];
    const collected = (async () => {
      for await (const event of running.events) events.push(event);
    })();
    const done = running.result.then(
      async (output) => {
        await collected;
        tracked.status = output === null ? "ABORTED" : "SUCCEEDED";
        return report(tracked.status, events, { output });
      },
      async (error: Error) => {
        await collected;
        tracked.status = "FAILED";
        return report("FAILED", events, { error: error.name, cause: error.message });
      },
    );
    return { arn, name: execName, done, stop: (reason) => running.stop(reason) };
  }

  run(stage: Stage, input: unknown): Promise<RunReport> {
    return this.start(stage, input).done;
  }

  /** The approval service as the approval pages use it, over this stage's records. */
  approvalService(stage: Stage = "prod"): ApprovalServiceDeps {
    return {
      records: this.records[stage],
      workflows: this.workflows,
      secrets: this.secrets,
      decisionKeys: this.decisionKeys,
      clock: { now: () => Date.now() },
    };
  }

  /**
   * An approver's click on the link emailed to them for this execution, confirmed: the real
   * decision path (signature, approver list, sealed decision record, then SendTask*).
   */
  async decide(
    executionName: string,
    approver = "alice@example.com",
    action: "approve" | "reject" = "approve",
    comment?: string,
  ) {
    const label = action === "approve" ? "Approve" : "Reject";
    for (let i = 0; i < 400; i++) {
      const mail = this.mailer.outbox.find(
        (m) => m.to[0] === approver && m.text.includes(`Execution: ${executionName}`),
      );
      const link = mail && new RegExp(`^${label}: +(\\S+)$`, "m").exec(mail.text)?.[1];
      if (link) {
        const url = new URL(link);
        const q = url.searchParams;
        return decideApproval(
          {
            approvalId: url.pathname.split("/").at(-1) ?? "",
            action: q.get("action"),
            approver: q.get("approver"),
            exp: q.get("exp"),
            kid: q.get("kid"),
            sig: q.get("sig"),
            ...(comment ? { comment } : {}),
          },
          this.approvalService(),
        );
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`no approval email for ${executionName} reached ${approver}`);
  }

  /** The pending approval's task token, as the decision path would read it (server side). */
  async approvalToken(stage: Stage = "prod"): Promise<string> {
    for (let i = 0; i < 200; i++) {
      const keys = await this.records[stage].list("approval-tokens/");
      const key = keys[keys.length - 1];
      if (key)
        return (await this.records[stage].get<{ taskToken: string }>(key))?.value
          .taskToken as string;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error("no approval was requested");
  }

  /**
   * What the EventBridge rule and functions/reconcile.ts do in AWS once an execution ended: a
   * success is judged from its output, any other end from the last state it entered.
   */
  async reconcile(stage: Stage, ended: RunReport): Promise<ReconcileResult | undefined> {
    const deps = {
      functions: this.functions,
      records: this.records[stage],
      metrics: this.metrics,
      clock: { now: () => Date.now() },
    };
    if (ended.status === "SUCCEEDED") {
      if (!unrecordedSuccess(ended.output)) return undefined;
      return reconcileAbandoned(ended.output, "ExecutionSucceeded", "succeeded", deps);
    }
    const last = ended.events.findLast((e) => e.type === "StateEntered");
    const state = (
      last?.type === "StateEntered" ? last.state.input : {}
    ) as Partial<DeploymentState>;
    return reconcileAbandoned(state, ended.error ?? "ExecutionFailed", ended.cause ?? "", deps);
  }

  /**
   * This stage's deployment records: each execution's current one (records are append-only: a
   * later finish of an execution is an amendment beside its first record).
   */
  deploymentRecords(stage: Stage) {
    const keys = [...this.records[stage].data.keys()].filter((k) => k.startsWith("deployments/"));
    return currentRecordKeys(keys).map((key) =>
      JSON.parse(this.records[stage].data.get(key)?.json ?? ""),
    );
  }

  lock(stage: Stage) {
    return this.records[stage].data.get("locks/hello-service.json");
  }
}

function report(
  status: ExecutionStatus,
  events: EngineEvent[],
  extra: Partial<RunReport>,
): RunReport {
  const states = events.flatMap((e) => (e.type === "StateEntered" ? [e.state.name] : []));
  return { status, states, events, ...extra };
}
