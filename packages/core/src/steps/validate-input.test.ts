import { beforeAll, describe, expect, it, vi } from "vitest";
import { ConfigurationError, InvalidInput, TransientError } from "../errors.ts";
import type { TriggerTokenVerifier } from "../ports.ts";
import type { Registry, ServiceDefinition, StageTarget } from "../registry.ts";
import type { ExecutionRef } from "../state.ts";
import { testExecution, testRegistry, testRequest, VERSION } from "../testing/fixtures.ts";
import {
  hmacToken,
  strangerKey,
  TEST_AUDIENCE,
  TEST_ISSUER,
  type TestIssuer,
  testIssuer,
  unsignedToken,
} from "../testing/id-tokens.ts";
import { rejectionOf } from "../testing/rejection.ts";
import { oidcTokenVerifier } from "../trigger/verify.ts";
import { type ValidateInputDeps, validateInput } from "./validate-input.ts";

/** The test registry with hello-service's prod target and definition changed. */
function registryWith(
  prod: Partial<StageTarget> = {},
  service: Partial<ServiceDefinition> = {},
): Registry {
  const base = testRegistry();
  const hello = base.services["hello-service"] as ServiceDefinition;
  return {
    ...base,
    services: {
      ...base.services,
      "hello-service": {
        ...hello,
        ...service,
        stages: { ...hello.stages, prod: { ...hello.stages.prod, ...prod } },
      },
    },
  };
}

let issuer: TestIssuer;
let verifier: TriggerTokenVerifier;
beforeAll(async () => {
  issuer = await testIssuer();
  verifier = oidcTokenVerifier({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: issuer.jwks });
});

/** Prod requires a verified trigger here (the shared fixture allows unverified ones). */
const strict = (overrides: Partial<ValidateInputDeps> = {}): ValidateInputDeps => ({
  registry: registryWith({ allowUnverifiedTrigger: false }),
  stage: "prod",
  triggerVerifier: verifier,
  ...overrides,
});
const deps = { registry: testRegistry(), stage: "prod" as const };

/** A request for VERSION by octocat carrying `idToken`. */
function withToken(idToken: string, overrides: Parameters<typeof testRequest>[0] = {}) {
  const request = testRequest(overrides);
  return { ...request, trigger: { ...request.trigger, idToken } };
}

/** The reason of the single trigger.idToken issue a validation is refused with. */
async function tokenRefusalOf(promise: Promise<unknown>): Promise<string> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(InvalidInput);
  const issues = (error as InvalidInput).issues;
  expect(issues).toHaveLength(1);
  expect(issues[0]?.field).toBe("trigger.idToken");
  return issues[0]?.reason ?? "";
}

describe("validateInput", () => {
  it("returns the request, the execution and the plan for the stage", async () => {
    const execution = testExecution();
    const result = await validateInput({ input: testRequest(), execution }, deps);
    expect(result.request).toEqual(testRequest());
    expect(result.execution).toBe(execution);
    expect(result.plan).toMatchObject({ stage: "prod", service: "hello-service", timeScale: 1 });
  });

  it("applies the time scale it is given", async () => {
    const result = await validateInput(
      { input: testRequest(), execution: testExecution() },
      { ...deps, timeScale: 0.5 },
    );
    expect(result.plan.rollout.stepWaitSeconds).toBe(30);
  });

  it("refuses a malformed request with InvalidInput", async () => {
    await expect(
      validateInput({ input: { ...testRequest(), bucket: "x" }, execution: testExecution() }, deps),
    ).rejects.toThrow(new InvalidInput([{ field: "bucket", reason: "is not a known field" }]));
  });

  it.each([
    ["no execution", undefined],
    ["no id", { ...testExecution(), id: "" }],
    ["no name", { ...testExecution(), name: "" }],
    ["no start time", { ...testExecution(), startedAt: "" }],
  ])("refuses a request when the execution context is missing (%s)", async (_, execution) => {
    await expect(
      validateInput({ input: testRequest(), execution: execution as ExecutionRef }, deps),
    ).rejects.toThrow(
      new InvalidInput([{ field: "(execution)", reason: "the execution context is missing" }]),
    );
  });

  it("refuses an unregistered service with InvalidInput", async () => {
    await expect(
      validateInput(
        { input: testRequest({ service: "nope", key: "nope/x.zip" }), execution: testExecution() },
        deps,
      ),
    ).rejects.toThrow(
      new InvalidInput([{ field: "service", reason: "is not a registered service (nope)" }]),
    );
  });
});

describe("validateInput with an ID token", () => {
  it("puts the verified claims in the request's trigger, and never the token", async () => {
    const token = await issuer.mint();
    const result = await validateInput(
      { input: withToken(token), execution: testExecution() },
      strict(),
    );
    expect(result.request).toEqual({
      ...testRequest(),
      trigger: {
        actor: "octocat",
        ciRunUrl: "https://ci.example.com/runs/42",
        verified: expect.objectContaining({
          issuer: TEST_ISSUER,
          audience: TEST_AUDIENCE,
          repository: "acme/hello-service",
          repositoryId: "123456789",
          ref: "refs/heads/main",
          sha: VERSION,
          actor: "octocat",
        }),
      },
    });
    expect(Object.keys(result.request.trigger)).not.toContain("idToken");
    expect(JSON.stringify(result)).not.toContain(token.split(".")[1]);
    expect(result.plan).toMatchObject({ stage: "prod", service: "hello-service" });
  });

  it("verifies a token even where unverified triggers are allowed, and refuses a bad one", async () => {
    const loose = strict({ registry: registryWith({ allowUnverifiedTrigger: true }) });
    const good = await validateInput(
      { input: withToken(await issuer.mint()), execution: testExecution() },
      loose,
    );
    expect(good.request.trigger.verified?.actor).toBe("octocat");
    const forged = await issuer.mint({}, { signer: await strangerKey() });
    expect(
      await tokenRefusalOf(
        validateInput({ input: withToken(forged), execution: testExecution() }, loose),
      ),
    ).toBe("the ID token has a signature that does not verify against the issuer's keys");
  });

  it.each<[string, () => Promise<string>, string]>([
    [
      "forged (signed by another key)",
      async () => issuer.mint({}, { signer: await strangerKey() }),
      "the ID token has a signature that does not verify against the issuer's keys",
    ],
    [
      "expired",
      () => issuer.mint({ iat: 1_700_000_000, nbf: 1_700_000_000, exp: 1_700_000_300 }),
      "the ID token expired at 2023-11-14T22:18:20.000Z",
    ],
    [
      "for another audience",
      () => issuer.mint({ aud: "gantry-preprod" }),
      "the ID token was issued for another audience (expected gantry-prod)",
    ],
    [
      "from another issuer",
      () => issuer.mint({ iss: "https://evil.example.com" }),
      `the ID token was issued by another issuer (expected ${TEST_ISSUER})`,
    ],
    ["HS256", () => hmacToken(), "the ID token is signed with HS256; only RS256 is accepted"],
    [
      "unsigned (alg none)",
      async () => unsignedToken(),
      "the ID token is signed with none; only RS256 is accepted",
    ],
    [
      "from another repository",
      () => issuer.mint({ repository: "evil/hello-service" }),
      "the ID token is from repository evil/hello-service, but hello-service deploys from acme/hello-service",
    ],
    [
      "for another commit",
      () => issuer.mint({ sha: "b".repeat(40) }),
      `the ID token is for commit ${"b".repeat(40)}, not the requested version ${VERSION}`,
    ],
    [
      "for another actor than the request claims",
      () => issuer.mint({ actor: "dependabot[bot]" }),
      "the ID token names actor dependabot[bot], but the request claims octocat",
    ],
  ])("refuses a token %s as InvalidInput", async (_, mint, reason) => {
    const token = await mint();
    expect(
      await tokenRefusalOf(
        validateInput({ input: withToken(token), execution: testExecution() }, strict()),
      ),
    ).toBe(reason);
  });

  it("refuses a short version for a token's full commit, saying to give the full SHA", async () => {
    const input = withToken(await issuer.mint(), { version: VERSION.slice(0, 7) });
    expect(
      await tokenRefusalOf(validateInput({ input, execution: testExecution() }, strict())),
    ).toBe(
      `the ID token is for commit ${VERSION}, not the requested version ${VERSION.slice(0, 7)} ` +
        "(give the full 40-character SHA)",
    );
  });

  it("refuses a token for a service whose registry entry names no repository", async () => {
    const registry = registryWith({ allowUnverifiedTrigger: false }, { repository: undefined });
    expect(
      await tokenRefusalOf(
        validateInput(
          { input: withToken(await issuer.mint()), execution: testExecution() },
          strict({ registry }),
        ),
      ),
    ).toBe(
      "the ID token cannot be checked: the registry names no repository for hello-service " +
        "(set its repository to owner/name)",
    );
  });

  it("checks the repository id when the registry sets one", async () => {
    const registry = registryWith({}, { repositoryId: "123456789" });
    const ok = await validateInput(
      { input: withToken(await issuer.mint()), execution: testExecution() },
      strict({ registry }),
    );
    expect(ok.request.trigger.verified?.repositoryId).toBe("123456789");

    const other = await issuer.mint({ repository_id: "999" });
    expect(
      await tokenRefusalOf(
        validateInput(
          { input: withToken(other), execution: testExecution() },
          strict({ registry }),
        ),
      ),
    ).toBe(
      "the ID token is from repository id 999, but acme/hello-service is registered with id " +
        "123456789 (was the repository deleted and recreated?)",
    );

    const none = await issuer.mint({ repository_id: undefined });
    expect(
      await tokenRefusalOf(
        validateInput({ input: withToken(none), execution: testExecution() }, strict({ registry })),
      ),
    ).toContain("the ID token is from repository id (none), but acme/hello-service");
  });

  it("accepts any repository id when the registry sets none", async () => {
    const token = await issuer.mint({ repository_id: "999" });
    const result = await validateInput(
      { input: withToken(token), execution: testExecution() },
      strict(),
    );
    expect(result.request.trigger.verified?.repositoryId).toBe("999");
  });

  it("fails with ConfigurationError when a token arrives and no verifier is configured", async () => {
    const token = await issuer.mint();
    const error = await rejectionOf(
      validateInput(
        { input: withToken(token), execution: testExecution() },
        strict({ triggerVerifier: undefined }),
      ),
    );
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toBe(
      "the prod stage cannot verify ID tokens: ValidateInput has no trigger verifier",
    );
  });

  it("passes the verifier's TransientError on (the workflow retries it)", async () => {
    const failing = { verify: vi.fn(async () => Promise.reject(new TransientError("down"))) };
    const error = await rejectionOf(
      validateInput(
        { input: withToken("a.b.c"), execution: testExecution() },
        strict({ triggerVerifier: failing }),
      ),
    );
    expect(error).toBeInstanceOf(TransientError);
    expect(failing.verify).toHaveBeenCalledWith("a.b.c");
  });

  it.each<[string, unknown, ExecutionRef | undefined, string]>([
    ["a malformed request", { ...withToken("a.b.c"), bucket: "x" }, testExecution(), "bucket"],
    ["no execution context", withToken("a.b.c"), undefined, "(execution)"],
    [
      "an unregistered service",
      withToken("a.b.c", { service: "nope", key: "nope/x.zip" }),
      testExecution(),
      "service",
    ],
    [
      "an artifact outside the service's prefix",
      withToken("a.b.c", { key: "billing/x.zip" }),
      testExecution(),
      "artifact.key",
    ],
  ])("refuses %s before asking the verifier", async (_, input, execution, field) => {
    const spy = { verify: vi.fn(verifier.verify) };
    const error = await rejectionOf(
      validateInput(
        { input, execution: execution as ExecutionRef },
        strict({ triggerVerifier: spy }),
      ),
    );
    expect((error as InvalidInput).issues[0]?.field).toBe(field);
    expect(spy.verify).not.toHaveBeenCalled();
  });
});

describe("validateInput without an ID token", () => {
  it.each<[string, boolean | undefined]>([
    ["absent", undefined],
    ["false", false],
  ])(
    "refuses the request when the target's allowUnverifiedTrigger is %s",
    async (_, allowUnverifiedTrigger) => {
      const registry = registryWith({ allowUnverifiedTrigger });
      const spy = { verify: vi.fn(verifier.verify) };
      expect(
        await tokenRefusalOf(
          validateInput(
            { input: testRequest(), execution: testExecution() },
            strict({ registry, triggerVerifier: spy }),
          ),
        ),
      ).toBe(
        "the ID token is required: hello-service's prod target does not set " +
          "allowUnverifiedTrigger in the registry, so only a trigger proven by an OIDC ID token " +
          "may deploy (docs/ci.md)",
      );
      expect(spy.verify).not.toHaveBeenCalled();
    },
  );

  it("accepts it where the stage's target allows unverified triggers, with no verified claims", async () => {
    const result = await validateInput(
      { input: testRequest(), execution: testExecution() },
      strict({ registry: registryWith({ allowUnverifiedTrigger: true }) }),
    );
    expect(result.request.trigger).toEqual({
      actor: "octocat",
      ciRunUrl: "https://ci.example.com/runs/42",
    });
  });

  it("reads the setting of the stage it runs in", async () => {
    // Prod is strict here; preprod allows unverified triggers in the fixture.
    const registry = registryWith({ allowUnverifiedTrigger: false });
    const preprod = await validateInput(
      { input: testRequest(), execution: testExecution() },
      { registry, stage: "preprod" },
    );
    expect(preprod.plan.stage).toBe("preprod");
    expect(preprod.request.trigger.verified).toBeUndefined();
    await expect(
      validateInput(
        { input: testRequest(), execution: testExecution() },
        { registry, stage: "prod" },
      ),
    ).rejects.toThrow(InvalidInput);
  });
});
