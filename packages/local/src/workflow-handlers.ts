import { randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import type {
  AlarmReader,
  ArtifactStore,
  Clock,
  FunctionControl,
  Mailer,
  MetricsPublisher,
  RecordStore,
  Registry,
  SecretSource,
  Stage,
  WorkflowCallbacks,
  WorkflowFunctionKey,
} from "@gantry/core";
import type { Context } from "aws-lambda";
import * as acquireLock from "../../../functions/acquire-lock.ts";
import * as canary from "../../../functions/canary.ts";
import * as checkAlarms from "../../../functions/check-alarms.ts";
import * as copyArtifact from "../../../functions/copy-artifact.ts";
import * as deploy from "../../../functions/deploy.ts";
import * as finish from "../../../functions/finish.ts";
import * as promote from "../../../functions/promote.ts";
import * as requestApproval from "../../../functions/request-approval.ts";
import * as rollback from "../../../functions/rollback.ts";
import * as validateInput from "../../../functions/validate-input.ts";
import * as verifyApproval from "../../../functions/verify-approval.ts";
import * as verifyPreprod from "../../../functions/verify-preprod.ts";
import { localFunctionArn } from "./engine/definition.ts";
import type { TaskHandler } from "./engine/workflow-engine.ts";

/** Everything the workflow's functions touch, for one stage. */
export interface WorkflowPorts {
  readonly records: RecordStore;
  readonly artifacts: ArtifactStore;
  readonly functions: FunctionControl;
  readonly alarms: AlarmReader;
  readonly metrics: MetricsPublisher;
  readonly mailer: Mailer;
  readonly workflows: WorkflowCallbacks;
  /** The approval link signing keys. */
  readonly secrets: SecretSource;
  /** The keys that seal approval decision records. */
  readonly decisionKeys: SecretSource;
  readonly clock: Clock;
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
  /** The Powertools logger each function gets (default: silent). */
  readonly logger?: (functionName: string) => Logger;
}

type AnyLambda = (event: never, context: Context) => Promise<unknown>;

/**
 * Builds the handler of every Task of the deployment workflow from the same factories the
 * Lambdas use (`createHandler` in functions/*.ts), over the given ports. Each call goes through
 * a JSON round trip and a Lambda-like context, as it would in AWS.
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
  const logger =
    options.logger ??
    ((name: string) =>
      new Logger({
        serviceName: "gantry",
        logLevel: "SILENT",
        persistentKeys: { function: name },
      }));
  const preprod = ports.preprod ?? ports;
  const lambdas: Record<WorkflowFunctionKey, AnyLambda> = {
    ValidateInput: validateInput.createHandler({
      registry: options.registry,
      stage: options.stage,
      timeScale: options.timeScale,
      logger: logger("validate-input"),
    }),
    AcquireLock: acquireLock.createHandler({ ...ports, logger: logger("acquire-lock") }),
    VerifyPreprod: verifyPreprod.createHandler({ ...preprod, logger: logger("verify-preprod") }),
    RequestApproval: requestApproval.createHandler({
      ...ports,
      logger: logger("request-approval"),
    }),
    VerifyApproval: verifyApproval.createHandler({
      ...ports,
      logger: logger("verify-approval"),
    }),
    CopyArtifact: copyArtifact.createHandler({ ...ports, logger: logger("copy-artifact") }),
    Deploy: deploy.createHandler({ ...ports, logger: logger("deploy") }),
    Canary: canary.createHandler({ ...ports, logger: logger("canary") }),
    CheckAlarms: checkAlarms.createHandler({ ...ports, logger: logger("check-alarms") }),
    Promote: promote.createHandler({ ...ports, logger: logger("promote") }),
    Rollback: rollback.createHandler({ ...ports, logger: logger("rollback") }),
    Finish: finish.createHandler({ ...ports, logger: logger("finish") }),
  } as Record<WorkflowFunctionKey, AnyLambda>;

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
