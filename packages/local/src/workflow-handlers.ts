import { randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import {
  type AlarmReader,
  type ArtifactStore,
  type Clock,
  type FunctionControl,
  type FunctionFile,
  type HoldCallbackEvent,
  type HoldEventResult,
  type HoldScheduler,
  type Mailer,
  type MetricsPublisher,
  type RecordStore,
  type Registry,
  type SecretSource,
  type Stage,
  type TriggerTokenVerifier,
  type VersionMetricsReader,
  WORKFLOW_FUNCTIONS,
  type WorkflowCallbacks,
  type WorkflowFunctionKey,
} from "@gantry/core";
import * as acquireLock from "@gantry/functions/acquire-lock";
import * as approvalGate from "@gantry/functions/approval-gate";
import * as canary from "@gantry/functions/canary";
import * as checkAlarms from "@gantry/functions/check-alarms";
import * as copyArtifact from "@gantry/functions/copy-artifact";
import * as deploy from "@gantry/functions/deploy";
import * as finish from "@gantry/functions/finish";
import * as hold from "@gantry/functions/hold";
import * as holdEvents from "@gantry/functions/hold-events";
import * as promote from "@gantry/functions/promote";
import * as rollback from "@gantry/functions/rollback";
import * as validateInput from "@gantry/functions/validate-input";
import * as verifyApproval from "@gantry/functions/verify-approval";
import * as verifyPreprod from "@gantry/functions/verify-preprod";
import type { Context } from "aws-lambda";
import { localFunctionArn, localFunctionArnOf } from "./engine/definition.ts";
import type { TaskHandler } from "./engine/workflow-engine.ts";

/** Everything the workflow's functions touch, for one stage. */
export interface WorkflowPorts {
  readonly records: RecordStore;
  readonly artifacts: ArtifactStore;
  readonly functions: FunctionControl;
  readonly alarms: AlarmReader;
  readonly metrics: MetricsPublisher;
  /** Each version's own metrics through the alias: CheckAlarms' version analysis reads them. */
  readonly versionMetrics: VersionMetricsReader;
  readonly mailer: Mailer;
  readonly workflows: WorkflowCallbacks;
  /** The approval link signing keys. */
  readonly secrets: SecretSource;
  /** The keys that seal approval decision records. */
  readonly decisionKeys: SecretSource;
  readonly clock: Clock;
  /** One-time schedules that end holds (EventBridge Scheduler's part). */
  readonly scheduler: HoldScheduler;
  readonly approvalBaseUrl: string;
  readonly sender: string;
  /** Read-only views of preprod for VerifyPreprod; defaults to the ports above (one world). */
  readonly preprod?: {
    readonly artifacts: ArtifactStore;
    readonly functions: FunctionControl;
    readonly alarms: AlarmReader;
  };
}

export interface WorkflowHandlerOptions {
  readonly stage: Stage;
  readonly registry: Registry;
  readonly timeScale: number;
  /** The Powertools logger each function gets as its `log`, by its catalogue name (default: silent). */
  readonly log?: (functionName: FunctionFile) => Logger;
  /**
   * How ValidateInput checks a request's ID token: the local plane passes a verifier for its own
   * issuer (`startLocalControlPlane`). Absent: a request carrying a token is refused
   * (ConfigurationError), one without is accepted only where the registry allows it.
   */
  readonly triggerVerifier?: TriggerTokenVerifier;
}

type AnyLambda = (event: never, context: Context) => Promise<unknown>;

/**
 * Builds the handler of every Task of the workflow from the same factories the
 * Lambdas use (`createHandler` in functions/*.ts), over the given ports. Each call goes through
 * a JSON round trip and a Lambda-like context, as it would in AWS. The map is keyed by the
 * catalogue's Task keys (`WORKFLOW_FUNCTIONS`): a Task without its factory, or a factory for no
 * Task, does not type-check.
 *
 * @example
 * ```ts
 * const handlers = workflowHandlers(ports, { stage: "prod", registry, timeScale: 0.01 });
 * const engine = new WorkflowEngine({ definition, handlers: byArn(handlers), timeScale: 0.01 });
 * ```
 */
export function workflowHandlers(
  ports: WorkflowPorts,
  options: WorkflowHandlerOptions,
): Record<WorkflowFunctionKey, TaskHandler> {
  const logOf = options.log ?? silentLogger;
  const preprod = ports.preprod ?? ports;
  /** The logger of a Task's function, named as the catalogue names it. */
  const log = (key: WorkflowFunctionKey) => logOf(WORKFLOW_FUNCTIONS[key]);
  const lambdas: { readonly [K in WorkflowFunctionKey]: AnyLambda } = {
    ValidateInput: validateInput.createHandler({
      registry: options.registry,
      stage: options.stage,
      timeScale: options.timeScale,
      ...(options.triggerVerifier ? { triggerVerifier: options.triggerVerifier } : {}),
      log: log("ValidateInput"),
    }),
    AcquireLock: acquireLock.createHandler({ ...ports, log: log("AcquireLock") }),
    VerifyPreprod: verifyPreprod.createHandler({ ...preprod, log: log("VerifyPreprod") }),
    ApprovalGate: approvalGate.createHandler({ ...ports, log: log("ApprovalGate") }),
    VerifyApproval: verifyApproval.createHandler({ ...ports, log: log("VerifyApproval") }),
    CopyArtifact: copyArtifact.createHandler({ ...ports, log: log("CopyArtifact") }),
    Deploy: deploy.createHandler({ ...ports, log: log("Deploy") }),
    Canary: canary.createHandler({ ...ports, log: log("Canary") }),
    CheckAlarms: checkAlarms.createHandler({ ...ports, log: log("CheckAlarms") }),
    Hold: hold.createHandler({ ...ports, log: log("Hold") }),
    Promote: promote.createHandler({ ...ports, log: log("Promote") }),
    Rollback: rollback.createHandler({ ...ports, log: log("Rollback") }),
    Finish: finish.createHandler({ ...ports, log: log("Finish") }),
  };

  const handlers = {} as Record<WorkflowFunctionKey, TaskHandler>;
  for (const key of Object.keys(lambdas) as WorkflowFunctionKey[]) {
    const lambda = lambdas[key];
    const arn = localFunctionArn(options.stage, key);
    handlers[key] = async (event) => {
      const result = await lambda(jsonRoundTrip(event) as never, lambdaContext(arn));
      return jsonRoundTrip(result);
    };
  }
  return handlers;
}

/**
 * The stage's hold-events function (not a Task: EventBridge's alarm state changes and the hold
 * schedules invoke it), over the same ports, with the same JSON round trip.
 *
 * @example
 * ```ts
 * const holdEvents = holdEventsHandler(ports, { stage: "prod" });
 * world.alarms.onChange((change) => void holdEvents(alarmStateChangeEvent(change)));
 * ```
 */
export function holdEventsHandler(
  ports: WorkflowPorts,
  options: Pick<WorkflowHandlerOptions, "stage" | "log">,
): (event: HoldCallbackEvent) => Promise<HoldEventResult> {
  const log = (options.log ?? silentLogger)("hold-events");
  const lambda = holdEvents.createHandler({ ...ports, log }) as AnyLambda;
  const arn = localFunctionArnOf(options.stage, "hold-events");
  return async (event) =>
    jsonRoundTrip(
      await lambda(jsonRoundTrip(event) as never, lambdaContext(arn)),
    ) as HoldEventResult;
}

/** The handlers keyed by the local ARNs the substituted definition uses. */
export function handlersByArn(
  stage: Stage,
  handlers: Record<WorkflowFunctionKey, TaskHandler>,
): Record<string, TaskHandler> {
  return Object.fromEntries(
    (Object.keys(handlers) as WorkflowFunctionKey[]).map((key) => [
      localFunctionArn(stage, key),
      handlers[key],
    ]),
  );
}

/** A function's logger when none is given: named as the catalogue names it, and silent. */
function silentLogger(name: FunctionFile): Logger {
  return new Logger({
    serviceName: "gantry",
    logLevel: "SILENT",
    persistentKeys: { function: name },
  });
}

/** Lambda payloads are JSON both ways: undefined fields vanish, dates become strings. */
function jsonRoundTrip(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

function lambdaContext(arn: string, timeoutMs = 900_000): Context {
  const deadline = Date.now() + timeoutMs;
  const functionName = arn.slice(arn.lastIndexOf(":") + 1);
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: arn,
    memoryLimitInMB: "256",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
