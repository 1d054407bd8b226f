/**
 * The thin layer every function adds around its core step, checked for all of them at once:
 * `createHandler(deps)` hands the event and the same deps to the step and returns exactly what
 * the step returns (the workflow's ResultPath stores it), and `awsDeps()` builds the AWS adapters
 * the step's ports need. The steps are replaced by spies here: their behaviour is tested in
 * packages/core, and over mocked SDK clients in each function's own test.
 *
 * Both are called inside the tests, not at import: every function module also builds its
 * `handler` when it is imported, which is not where a broken factory would show.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import {
  CloudWatchAlarms,
  CloudWatchVersionMetrics,
  EmfMetrics,
  EventBridgeHoldScheduler,
  LambdaFunctionControl,
  S3ArtifactStore,
  S3RecordStore,
  SesMailer,
  SfnWorkflowCallbacks,
} from "@gantry/aws";
import * as core from "@gantry/core";
import { rejectionOf } from "@gantry/core/testing";
import type { LambdaFunctionURLEvent } from "aws-lambda";
import { beforeEach, describe, expect, it, vi } from "vitest";
import registry from "../gantry.registry.ts";
import * as approvalGate from "./approval-gate.ts";
import * as approvalHttp from "./approval-http.ts";
import * as approvalOperator from "./approval-operator.ts";
import * as canary from "./canary.ts";
import * as checkAlarms from "./check-alarms.ts";
import * as copyArtifact from "./copy-artifact.ts";
import * as deploy from "./deploy.ts";
import * as finish from "./finish.ts";
import * as hold from "./hold.ts";
import * as holdEvents from "./hold-events.ts";
import * as promote from "./promote.ts";
import * as rollback from "./rollback.ts";
import * as scheduledCanary from "./scheduled-canary.ts";
import { context, rolloutOf, STATE, STATE_BUCKET, setUpHandlerTests } from "./testing.ts";
import * as validateInput from "./validate-input.ts";
import * as verifyApproval from "./verify-approval.ts";
import * as verifyPreprod from "./verify-preprod.ts";

await vi.hoisted(async () => (await import("./testing.ts")).isolateEnvironment());

vi.mock("@gantry/core", async (original) => {
  const actual = await original<typeof import("@gantry/core")>();
  const spy = () => vi.fn(async (..._args: unknown[]): Promise<unknown> => undefined);
  return {
    ...actual,
    approvalGate: spy(),
    handleApprovalHttp: spy(),
    handleOperatorHttp: spy(),
    canary: spy(),
    checkAlarms: spy(),
    copyArtifact: spy(),
    deploy: spy(),
    finish: spy(),
    onHoldEvent: spy(),
    promote: spy(),
    rollback: spy(),
    runScheduledCanary: spy(),
    startHold: spy(),
    validateInput: spy(),
    verifyApproval: spy(),
    verifyPreprod: spy(),
  };
});

setUpHandlerTests();
// Each test counts its own calls of the step spies.
beforeEach(() => {
  vi.clearAllMocks();
});

type Step = ReturnType<typeof vi.fn>;
const stepOf = (step: unknown) => step as Step;
/** A silent logger that records what the function logs itself. */
const testLog = () => {
  const log = new Logger({ serviceName: "gantry", logLevel: "SILENT" });
  vi.spyOn(log, "info");
  return log;
};
/** Deps a handler passes on untouched; only the logger is used by the handler shape itself. */
const depsWith = (log: Logger) => ({ log, marker: "deps" }) as never;
const RESULT = { from: "the step" };
const HOLD_EVENT = { ...STATE, rollout: rolloutOf(), taskToken: "token" };
const HOLD_END = { kind: "hold-end", executionArn: STATE.execution.id, holdId: "steps-0-t" };

describe("createHandler", () => {
  const finishEvent = (result: string) => ({ result, state: STATE });
  it.each([
    ["approval-gate", approvalGate.createHandler, core.approvalGate, STATE, [STATE]],
    ["canary", canary.createHandler, core.canary, STATE, [STATE]],
    ["check-alarms", checkAlarms.createHandler, core.checkAlarms, STATE, [STATE]],
    ["copy-artifact", copyArtifact.createHandler, core.copyArtifact, STATE, [STATE]],
    ["deploy", deploy.createHandler, core.deploy, STATE, [STATE]],
    ["hold", hold.createHandler, core.startHold, HOLD_EVENT, [HOLD_EVENT]],
    ["hold-events", holdEvents.createHandler, core.onHoldEvent, HOLD_END, [HOLD_END]],
    ["promote", promote.createHandler, core.promote, STATE, [STATE]],
    ["rollback", rollback.createHandler, core.rollback, STATE, [STATE]],
    ["validate-input", validateInput.createHandler, core.validateInput, STATE, [STATE]],
    ["verify-approval", verifyApproval.createHandler, core.verifyApproval, STATE, [STATE]],
    ["verify-preprod", verifyPreprod.createHandler, core.verifyPreprod, STATE, [STATE]],
    [
      "finish (succeeded)",
      finish.createHandler,
      core.finish,
      finishEvent("succeeded"),
      [STATE, "succeeded"],
    ],
    [
      "finish (failed)",
      finish.createHandler,
      core.finish,
      finishEvent("failed"),
      [STATE, "failed"],
    ],
  ] as const)(
    "%s hands the event and its deps to the step and returns the step's result",
    async (_name, create, step, event, args) => {
      stepOf(step).mockResolvedValueOnce(RESULT);
      const deps = depsWith(testLog());
      const handler = (create as (deps: never) => (e: unknown, c: typeof context) => unknown)(deps);
      await expect(handler(event, context)).resolves.toBe(RESULT);
      expect(stepOf(step).mock.calls).toEqual([[...args, deps]]);
    },
  );

  it("scheduled-canary runs the stage's services and totals their failures", async () => {
    const results = [
      { service: "a", failures: 1 },
      { service: "b", failures: 2 },
    ];
    stepOf(core.runScheduledCanary).mockResolvedValueOnce(results);
    const deps = { log: testLog(), registry, stage: "prod" } as never;
    const outcome = await scheduledCanary.createHandler(deps)({}, context);
    expect(outcome).toEqual({ failures: 3, services: results });
    expect(stepOf(core.runScheduledCanary).mock.calls).toEqual([[registry, "prod", deps]]);
  });
});

/** A Function URL event; `overrides` replace or (as undefined) remove its fields. */
function urlEvent(overrides: Record<string, unknown> = {}): LambdaFunctionURLEvent {
  const event: Record<string, unknown> = {
    version: "2.0",
    routeKey: "$default",
    rawPath: "/approvals/abc",
    rawQueryString: "sig=s",
    headers: {},
    requestContext: {
      http: { method: "POST" },
      authorizer: { iam: { userArn: "arn:aws:iam::123456789012:user/alice" } },
    },
    isBase64Encoded: false,
    ...overrides,
  };
  for (const [key, value] of Object.entries(overrides)) if (value === undefined) delete event[key];
  return event as unknown as LambdaFunctionURLEvent;
}
const FORM = "action=approve&comment=ok";
const RESPONSE = { status: 200, headers: { "content-type": "text/html" }, body: "<p>done</p>" };

describe("the Function URL handlers map the Lambda event to the core request", () => {
  // What both handlers read from the event the same way. `undefined`: no such field.
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    [
      "a base64 form body, decoded, with its content type",
      {
        body: Buffer.from(FORM).toString("base64"),
        isBase64Encoded: true,
        headers: { "content-type": "application/x-www-form-urlencoded" },
      },
      { method: "POST", body: FORM, contentType: "application/x-www-form-urlencoded" },
    ],
    [
      "a plain body as it is, and a capitalised Content-Type header",
      { body: FORM, headers: { "Content-Type": "application/json" } },
      { method: "POST", body: FORM, contentType: "application/json" },
    ],
    [
      "no body even when flagged base64, no headers, no method: a GET of /",
      {
        isBase64Encoded: true,
        headers: undefined,
        rawPath: undefined,
        requestContext: {
          authorizer: { iam: { userArn: "arn:aws:iam::123456789012:user/alice" } },
        },
      },
      { method: "GET", path: "/" },
    ],
  ];

  it.each(cases)("approval-http: %s", async (_name, overrides, expected) => {
    stepOf(core.handleApprovalHttp).mockResolvedValueOnce(RESPONSE);
    const log = testLog();
    const deps = depsWith(log);
    const result = await approvalHttp.createHandler(deps)(urlEvent(overrides), context);
    expect(result).toEqual({ statusCode: 200, headers: RESPONSE.headers, body: RESPONSE.body });
    expect(stepOf(core.handleApprovalHttp).mock.calls).toStrictEqual([
      [{ path: "/approvals/abc", query: "sig=s", ...expected }, deps],
    ]);
    // Logged without the query or body (they carry the link's signature), with the method as
    // sent: none when the event has none.
    expect(log.info).toHaveBeenCalledWith("approval request", {
      method: expected.method === "GET" ? undefined : expected.method,
      status: 200,
    });
  });

  it("approval-http: a request without a query string or request context", async () => {
    stepOf(core.handleApprovalHttp).mockResolvedValueOnce(RESPONSE);
    const deps = depsWith(testLog());
    await approvalHttp.createHandler(deps)(
      urlEvent({ rawQueryString: undefined, requestContext: undefined }),
      context,
    );
    expect(stepOf(core.handleApprovalHttp).mock.calls[0]?.[0]).toStrictEqual({
      method: "GET",
      path: "/approvals/abc",
      query: "",
    });
  });

  it.each(cases)("approval-operator: %s", async (_name, overrides, expected) => {
    stepOf(core.handleOperatorHttp).mockResolvedValueOnce(RESPONSE);
    const log = testLog();
    const deps = depsWith(log);
    const result = await approvalOperator.createHandler(deps)(urlEvent(overrides), context);
    expect(result).toEqual({ statusCode: 200, headers: RESPONSE.headers, body: RESPONSE.body });
    const principal = "arn:aws:iam::123456789012:user/alice";
    expect(stepOf(core.handleOperatorHttp).mock.calls).toStrictEqual([
      [{ path: "/approvals/abc", principal, ...expected }, deps],
    ]);
    expect(log.info).toHaveBeenCalledWith("operator request", {
      method: expected.method,
      principal,
      status: 200,
    });
  });

  it.each([
    ["no authorizer", { requestContext: { http: { method: "POST" } } }],
    ["no request context", { requestContext: undefined }],
  ])(
    "approval-operator refuses a request with %s (no IAM principal), telling the caller to sign it",
    async (_name, overrides) => {
      const result = await approvalOperator.createHandler(depsWith(testLog()))(
        urlEvent(overrides),
        context,
      );
      expect(result).toEqual({
        statusCode: 401,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          error: "Unauthenticated",
          status: 401,
          message: "sign the request with SigV4",
        }),
      });
      expect(core.handleOperatorHttp).not.toHaveBeenCalled();
    },
  );
});

describe("awsDeps", () => {
  const URL_BASE = "https://approve.example.com";
  const SENDER = "gantry@example.com";
  /** The ports each function reads from its settings and builds (reading one builds it). */
  const wiring: [string, () => object, Record<string, unknown>][] = [
    [
      "approval-gate",
      approvalGate.awsDeps,
      {
        records: expect.any(S3RecordStore),
        mailer: expect.any(SesMailer),
        workflows: expect.any(SfnWorkflowCallbacks),
        clock: core.systemClock,
        approvalBaseUrl: URL_BASE,
        sender: SENDER,
      },
    ],
    [
      "approval-http",
      approvalHttp.awsDeps,
      {
        records: expect.any(S3RecordStore),
        workflows: expect.any(SfnWorkflowCallbacks),
        clock: core.systemClock,
      },
    ],
    [
      "approval-operator",
      approvalOperator.awsDeps,
      {
        records: expect.any(S3RecordStore),
        workflows: expect.any(SfnWorkflowCallbacks),
        operators: registry.operators,
        stage: "prod",
        clock: core.systemClock,
      },
    ],
    [
      "canary",
      canary.awsDeps,
      { functions: expect.any(LambdaFunctionControl), clock: core.systemClock },
    ],
    [
      "check-alarms",
      checkAlarms.awsDeps,
      {
        alarms: expect.any(CloudWatchAlarms),
        versionMetrics: expect.any(CloudWatchVersionMetrics),
        functions: expect.any(LambdaFunctionControl),
        clock: core.systemClock,
      },
    ],
    [
      "copy-artifact",
      copyArtifact.awsDeps,
      { artifacts: expect.any(S3ArtifactStore), clock: core.systemClock },
    ],
    [
      "deploy",
      deploy.awsDeps,
      { functions: expect.any(LambdaFunctionControl), clock: core.systemClock },
    ],
    [
      "finish",
      finish.awsDeps,
      {
        records: expect.any(S3RecordStore),
        metrics: expect.any(EmfMetrics),
        clock: core.systemClock,
      },
    ],
    [
      "hold",
      hold.awsDeps,
      {
        records: expect.any(S3RecordStore),
        alarms: expect.any(CloudWatchAlarms),
        scheduler: expect.any(EventBridgeHoldScheduler),
        clock: core.systemClock,
      },
    ],
    [
      "hold-events",
      holdEvents.awsDeps,
      {
        records: expect.any(S3RecordStore),
        workflows: expect.any(SfnWorkflowCallbacks),
        scheduler: expect.any(EventBridgeHoldScheduler),
        clock: core.systemClock,
      },
    ],
    [
      "promote",
      promote.awsDeps,
      { functions: expect.any(LambdaFunctionControl), clock: core.systemClock },
    ],
    [
      "rollback",
      rollback.awsDeps,
      { functions: expect.any(LambdaFunctionControl), clock: core.systemClock },
    ],
    [
      "scheduled-canary",
      scheduledCanary.awsDeps,
      {
        functions: expect.any(LambdaFunctionControl),
        metrics: expect.any(EmfMetrics),
        registry,
        stage: "prod",
      },
    ],
    [
      "validate-input",
      validateInput.awsDeps,
      {
        registry,
        stage: "prod",
        timeScale: 1,
        triggerVerifier: { verify: expect.any(Function) },
      },
    ],
    [
      "verify-approval",
      verifyApproval.awsDeps,
      { records: expect.any(S3RecordStore), clock: core.systemClock },
    ],
    [
      "verify-preprod",
      verifyPreprod.awsDeps,
      {
        artifacts: expect.any(S3ArtifactStore),
        functions: expect.any(LambdaFunctionControl),
        alarms: expect.any(CloudWatchAlarms),
      },
    ],
  ];

  it.each(wiring)("%s builds its AWS adapters", (name, awsDeps, expected) => {
    vi.stubEnv("GANTRY_STATE_BUCKET", STATE_BUCKET);
    vi.stubEnv("GANTRY_STAGE", "prod");
    vi.stubEnv("GANTRY_APPROVAL_URL", URL_BASE);
    vi.stubEnv("GANTRY_SENDER", SENDER);
    vi.stubEnv("GANTRY_HOLD_SCHEDULE_GROUP", "gantry-prod-holds");
    vi.stubEnv(
      "GANTRY_HOLD_EVENTS_ARN",
      "arn:aws:lambda:us-east-1:1:function:gantry-prod-hold-events",
    );
    vi.stubEnv("GANTRY_HOLD_SCHEDULER_ROLE_ARN", "arn:aws:iam::1:role/gantry-prod-hold-scheduler");
    const deps = awsDeps() as Record<string, unknown>;
    expect(deps).toMatchObject(expected);
    expect((deps.log as Logger).getPersistentLogAttributes()).toMatchObject({ function: name });
  });

  it("approval-operator reads the lock's bytes from the same state-bucket store as its records", () => {
    vi.stubEnv("GANTRY_STATE_BUCKET", STATE_BUCKET);
    const deps = approvalOperator.awsDeps();
    expect(deps.bytes).toBeInstanceOf(S3RecordStore);
    expect(deps.bytes).toBe(deps.records);
  });

  // Which secret each key source reads shows in the setting a missing one names.
  it.each([
    ["approval-gate", "secrets", "GANTRY_LINK_KEYS_SECRET", approvalGate.awsDeps],
    ["approval-http", "secrets", "GANTRY_LINK_KEYS_SECRET", approvalHttp.awsDeps],
    ["approval-http", "decisionKeys", "GANTRY_DECISION_KEYS_SECRET", approvalHttp.awsDeps],
    ["approval-operator", "decisionKeys", "GANTRY_DECISION_KEYS_SECRET", approvalOperator.awsDeps],
    ["verify-approval", "decisionKeys", "GANTRY_DECISION_KEYS_SECRET", verifyApproval.awsDeps],
  ] as const)("%s's %s come from the secret %s names", async (_name, port, setting, awsDeps) => {
    const source = (awsDeps() as unknown as Record<string, core.SecretSource>)[port];
    const error = await rejectionOf(source?.signingKeys() as Promise<unknown>);
    expect(error.name).toBe("ConfigurationError");
    expect(error.message).toBe(`${setting} is not set`);
  });

  it.each([
    ["approval-gate", approvalGate.awsDeps],
    ["approval-http", approvalHttp.awsDeps],
    ["approval-operator", approvalOperator.awsDeps],
    ["finish", finish.awsDeps],
    ["hold", hold.awsDeps],
    ["hold-events", holdEvents.awsDeps],
    ["verify-approval", verifyApproval.awsDeps],
  ] as const)("%s's records need GANTRY_STATE_BUCKET", (_name, awsDeps) => {
    expect(() => awsDeps().records).toThrow("GANTRY_STATE_BUCKET is not set");
  });
});
