import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import {
  oidcSettingsOf,
  oidcTokenVerifier,
  type Registry,
  reconcileAbandoned,
  STAGES,
  type Stage,
  stageOfStateMachine,
  type WorkflowCallbacks,
} from "@gantry/core";
import { LocalStepFunctions } from "./control-plane/local-step-functions.ts";
import type { RetentionPolicy } from "./control-plane/retention.ts";
import { handleS3Request } from "./control-plane/s3-http.ts";
import { handleSfnRequest } from "./control-plane/sfn-http.ts";
import { loadWorkflowDefinition } from "./engine/definition.ts";
import { TaskTokenRegistry } from "./engine/task-tokens.ts";
import { type FaultPlan, injectFaults } from "./faults.ts";
import { ensureLocalIssuerKey, localIssuerUrl } from "./oidc/issuer.ts";
import { handleOidcRequest } from "./oidc/routes.ts";
import { answerInternalError, guardServer } from "./server-guards.ts";
import { Quarantine } from "./storage/durable-file.ts";
import { isLoopbackHost, localPortOf } from "./web/loopback.ts";
import { ensureOperatorSecret } from "./web/operator-secret.ts";
import { handlersByArn, holdEventsHandler, workflowHandlers } from "./workflow-handlers.ts";
import { alarmStateChangeEvent } from "./world/alarms.ts";
import { LocalWorld, stateBucketOf } from "./world/local-world.ts";

/** Everything that shapes a local control plane; `main.ts` fills it from the environment. */
export interface LocalControlPlaneOptions {
  /** The data directory (`.gantry` at the project root by default). */
  readonly home: string;
  readonly registry: Registry;
  /** Port of the Step Functions (and S3) endpoint; 0 picks a free one. */
  readonly sfnPort: number;
  /** Port of the web (approval pages, outbox, console); 0 picks a free one. */
  readonly webPort: number;
  readonly timeScale: number;
  readonly trafficPerSecond?: number;
  readonly trafficEvents?: (service: string, stage: Stage) => readonly unknown[] | undefined;
  readonly canaryIntervalMs?: number;
  /** Also send every email to this SMTP server (a local mail catcher). */
  readonly smtpUrl?: string;
  /** Code to create each registered service's functions with, if they do not exist yet. */
  readonly initialCode?: (service: string, stage: Stage) => Uint8Array | undefined;
  /** Routes of the web server, tried in order before the 404 (approvals, outbox, console). */
  readonly webRoutes?: readonly WebRoute[];
  /** Log level of the functions' Powertools loggers (default WARN; they write to stdout). */
  readonly functionLogLevel?: "DEBUG" | "INFO" | "WARN" | "ERROR" | "SILENT";
  /** How long finished executions are kept (GANTRY_RETENTION_DAYS, GANTRY_RETENTION_COUNT). */
  readonly retention?: RetentionPolicy;
  /** Fault injection for test/faults (faults.ts); default: GANTRY_FAULTS, normally unset. */
  readonly faults?: FaultPlan;
  /**
   * Another ASL file for both stages' state machines, on the same functions (the bench's
   * polling baseline, test/bench/designs); default: state-machines/workflow.asl.json.
   */
  readonly workflowAslPath?: string;
}

/** A web handler: answers and returns true, or returns false to let the next one try. */
export type WebRoute = (
  req: IncomingMessage,
  res: ServerResponse,
  context: LocalControlPlane,
) => Promise<boolean>;

export interface LocalControlPlane {
  /** The data directory. */
  readonly home: string;
  /** What `gantry approve` must present to the operator API (`<home>/operator-secret`). */
  readonly operatorSecret: string;
  readonly stepFunctions: LocalStepFunctions;
  readonly world: LocalWorld;
  /** The damaged files found and moved under `<home>/quarantine/` since the start (console, /api/world). */
  readonly quarantine: Quarantine;
  readonly tokens: TaskTokenRegistry;
  /** e.g. http://127.0.0.1:8083 */
  readonly sfnEndpoint: string;
  /** e.g. http://127.0.0.1:8084 */
  readonly webEndpoint: string;
  /**
   * The local OIDC issuer, `<webEndpoint>/oidc`: its discovery document and JWKS are served on
   * the web server, its key is `<home>/oidc-issuer.json`. ValidateInput trusts this issuer only.
   */
  readonly oidcIssuer: string;
  readonly stateMachineArns: Readonly<Record<Stage, string>>;
  close(): Promise<void>;
}

const HOST = "127.0.0.1";

/**
 * Starts the embedded local control plane: the local world, both stages' state machines
 * (`gantry-preprod`, `gantry-prod`) on the same ASL and function factories as AWS, the Step
 * Functions + S3 endpoint and the web server, all on 127.0.0.1.
 *
 * @example
 * ```ts
 * const local = await startLocalControlPlane({ home: ".gantry", registry, sfnPort: 8083, webPort: 8084, timeScale: 0.05 });
 * // new SFNClient({ endpoint: local.sfnEndpoint, region: "us-east-1", credentials }) ...
 * await local.close();
 * ```
 */
export async function startLocalControlPlane(
  options: LocalControlPlaneOptions,
): Promise<LocalControlPlane> {
  const web = createServer();
  const sfn = createServer();
  guardServer(web, "web");
  guardServer(sfn, "aws");
  await listen(web, options.webPort);
  await listen(sfn, options.sfnPort);
  const webEndpoint = `http://${HOST}:${(web.address() as AddressInfo).port}`;
  const sfnEndpoint = `http://${HOST}:${(sfn.address() as AddressInfo).port}`;

  const quarantine = new Quarantine(options.home);
  // The issuer is served from the moment the plane knows its key, before the executions it
  // resumes can reach ValidateInput, which fetches the issuer's keys over HTTP as in AWS.
  const oidcIssuer = localIssuerUrl(webEndpoint);
  const oidcKey = await ensureLocalIssuerKey(options.home, quarantine);
  let started: LocalControlPlane | undefined;
  web.on("request", (req, res) => {
    req.on("error", () => {});
    void (async () => {
      if (!isLoopbackHost(req.headers.host, localPortOf(req))) {
        res
          .writeHead(403, { "content-type": "text/plain; charset=utf-8" })
          .end("Forbidden: address this server as 127.0.0.1 or localhost\n");
        return;
      }
      if (handleOidcRequest(req, res, { issuer: oidcIssuer, key: oidcKey })) return;
      if (!started) {
        res
          .writeHead(503, { "content-type": "text/plain; charset=utf-8", "retry-after": "1" })
          .end("The control plane is still starting\n");
        return;
      }
      for (const route of options.webRoutes ?? []) if (await route(req, res, started)) return;
      if (req.method === "GET" && req.url === "/health")
        return void res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("Not found\n");
    })().catch((error: unknown) => answerInternalError("web", req, res, error));
  });
  const world = await LocalWorld.open({
    home: options.home,
    quarantine,
    registry: options.registry,
    timeScale: options.timeScale,
    approvalBaseUrl: webEndpoint,
    ...(options.trafficPerSecond !== undefined
      ? { trafficPerSecond: options.trafficPerSecond }
      : {}),
    ...(options.trafficEvents ? { trafficEvents: options.trafficEvents } : {}),
    ...(options.canaryIntervalMs !== undefined
      ? { canaryIntervalMs: options.canaryIntervalMs }
      : {}),
    ...(options.smtpUrl ? { smtpUrl: options.smtpUrl } : {}),
  });
  if (options.initialCode)
    await createServiceFunctions(world, options.registry, options.initialCode);

  // The functions call back into the control plane, which needs the functions: late-bound.
  let stepFunctions: LocalStepFunctions | undefined;
  const callbacks: WorkflowCallbacks = {
    sendTaskSuccess: (token, output) => required(stepFunctions).sendTaskSuccess(token, output),
    sendTaskFailure: (token, error, cause) =>
      required(stepFunctions).sendTaskFailure(token, error, cause),
    executionStatus: (arn) => required(stepFunctions).executionStatus(arn),
  };
  const level = options.functionLogLevel ?? "WARN";
  const log = (name: string) =>
    new Logger({ serviceName: "gantry", logLevel: level, persistentKeys: { function: name } });
  const tokens = new TaskTokenRegistry();
  const stateMachines = STAGES.map((stage) => {
    const { definition, text } = loadWorkflowDefinition(stage, options.workflowAslPath);
    const ports = world.portsFor(stage, callbacks);
    const handlers = workflowHandlers(ports, {
      stage,
      registry: options.registry,
      timeScale: options.timeScale,
      log,
      // The local plane proves triggers with its own issuer only, whatever issuer the registry
      // names for AWS; the stage's audience is the registry's. A fetch of its own keeps the
      // keys cached per plane (a restarted plane on the same port may have another key).
      triggerVerifier: oidcTokenVerifier({
        issuer: oidcIssuer,
        audience: oidcSettingsOf(options.registry, stage).audience,
        fetchImpl: (url, init) => fetch(url, init),
      }),
    });
    // EventBridge's part: the stage's alarm state changes and hold schedules reach its
    // hold-events function, in process, as soon as they happen.
    const holdEvents = holdEventsHandler(ports, { stage, log });
    world.schedulers[stage].connect(holdEvents);
    // As the stack's rule does: only the alarms the stage's deployments watch.
    const watched = new Set(
      Object.values(options.registry.services).flatMap((service) => service.stages[stage].alarms),
    );
    world.alarms.onChange((change) => {
      if (!watched.has(change.name)) return;
      holdEvents(alarmStateChangeEvent(change)).catch((error: unknown) =>
        console.warn(`[hold-events] ${stage}: ${String(error)}`),
      );
    });
    return {
      name: `gantry-${stage}`,
      definition,
      definitionText: text,
      handlers: handlersByArn(stage, injectFaults(handlers, stage, options.faults)),
    };
  });
  stepFunctions = await LocalStepFunctions.open({
    dir: join(options.home, "sfn"),
    stateMachines,
    tokens,
    timeScale: options.timeScale,
    quarantine,
    ...(options.retention ? { retention: options.retention } : {}),
    onAbandoned: async (stateMachine, lastState, error, cause) => {
      const stage = stageOfStateMachine(stateMachine) as Stage;
      const result = await reconcileAbandoned(lastState as never, error, cause, {
        functions: world.functions,
        records: world.buckets.records(stateBucketOf(stage)),
        metrics: world.metrics,
        clock: { now: () => Date.now() },
      });
      // What the reconcile did beyond the usual (recorded a completed deployment, completed a
      // failed rollback) goes into the execution's cause too.
      return result.outcome?.note;
    },
  });
  world.start();

  const local: LocalControlPlane = {
    home: options.home,
    operatorSecret: ensureOperatorSecret(options.home, quarantine),
    stepFunctions,
    world,
    quarantine,
    tokens,
    sfnEndpoint,
    webEndpoint,
    oidcIssuer,
    stateMachineArns: {
      preprod:
        stepFunctions.listStateMachines().find((m) => m.name === "gantry-preprod")
          ?.stateMachineArn ?? "",
      prod:
        stepFunctions.listStateMachines().find((m) => m.name === "gantry-prod")?.stateMachineArn ??
        "",
    },
    async close() {
      await required(stepFunctions).shutdown();
      await Promise.all([closeServer(sfn), closeServer(web)]);
      await world.close();
    },
  };

  const artifactBuckets = new Set(
    STAGES.flatMap((stage) => [
      options.registry.stages[stage].sourceBucket,
      options.registry.stages[stage].artifactBucket,
    ]),
  );
  sfn.on("request", (req, res) => {
    // A client that aborts mid-body makes the request stream fail: the handler sees it.
    req.on("error", () => {});
    void (async () => {
      if (!isLoopbackHost(req.headers.host, localPortOf(req))) {
        res.writeHead(403, { "content-type": "application/json" }).end(
          JSON.stringify({
            __type: "AccessDeniedException",
            message:
              "the local control plane answers only requests addressed to 127.0.0.1 or localhost",
          }),
        );
        return;
      }
      if (await handleSfnRequest(local.stepFunctions, req, res)) return;
      if (await handleS3Request(world.buckets, artifactBuckets, req, res)) return;
      if (req.method === "GET" && req.url === "/health")
        return void res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      res.writeHead(404, { "content-type": "application/json" }).end(
        JSON.stringify({
          __type: "UnknownOperationException",
          message: "not a Step Functions or S3 request",
        }),
      );
    })().catch((error: unknown) => answerInternalError("aws", req, res, error));
  });
  started = local;
  return local;
}

/** Creates each service's function and alias in both stages from its initial code, once. */
async function createServiceFunctions(
  world: LocalWorld,
  registry: Registry,
  initialCode: (service: string, stage: Stage) => Uint8Array | undefined,
): Promise<void> {
  for (const [service, definition] of Object.entries(registry.services)) {
    for (const stage of STAGES) {
      const target = definition.stages[stage];
      if (world.functions.hasFunction(target.functionName)) continue;
      const code = initialCode(service, stage);
      if (code) await world.functions.createFunction(target.functionName, target.alias, code);
    }
  }
}

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Error("the control plane is still starting");
  return value;
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new Error(
              `port ${port} on ${HOST} is already in use (is another control plane running?)`,
            )
          : error,
      ),
    );
    server.listen(port, HOST, () => resolve());
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
