/**
 * ValidateInput's real exported `handler` (functions/testing.ts): the stage it reads from
 * GANTRY_STAGE, the plan it resolves from the project registry without any AWS call, and the
 * requests it refuses.
 */
import { rejectionOf, type TestIssuer, testIssuer } from "@gantry/core/testing";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  ARTIFACT_KEY,
  cloudwatch,
  context,
  EXECUTION,
  lambda,
  REQUEST,
  s3,
  ses,
  setUpHandlerTests,
  sfn,
} from "./testing.ts";
import { handler as validateInput } from "./validate-input.ts";

// Before the function module is imported (functions/testing.ts).
await vi.hoisted(async () => (await import("./testing.ts")).isolateEnvironment());

setUpHandlerTests();

describe("validate-input", () => {
  const event = { input: { ...REQUEST }, execution: EXECUTION };

  it("fails with ConfigurationError when GANTRY_STAGE is not set", async () => {
    const error = await rejectionOf(validateInput(event, context));
    expect(error.name).toBe("ConfigurationError");
    expect(error.message).toContain("GANTRY_STAGE");
  });

  it("fails with ConfigurationError when GANTRY_STAGE is not a stage", async () => {
    vi.stubEnv("GANTRY_STAGE", "staging");
    const error = await rejectionOf(validateInput(event, context));
    expect(error.name).toBe("ConfigurationError");
    expect(error.message).toContain("got staging");
  });

  it("resolves the hello-service plan for the stage GANTRY_STAGE names, without any AWS call", async () => {
    vi.stubEnv("GANTRY_STAGE", "prod");
    const result = await validateInput(event, context);
    expect(result.request).toEqual(REQUEST);
    expect(result.execution).toEqual(EXECUTION);
    expect(result.plan).toMatchObject({
      stage: "prod",
      service: "hello-service",
      target: { functionName: "hello-service-prod", alias: "live" },
      source: { bucket: "acme-gantry-artifacts-preprod", key: ARTIFACT_KEY },
      destination: { bucket: "acme-gantry-artifacts-prod", key: ARTIFACT_KEY },
      alarms: ["hello-service-prod-errors"],
      rollout: { steps: [10, 25, 50], stepWaitSeconds: 60, pollSeconds: 60, bakeSeconds: 600 },
      preprod: { bucket: "acme-gantry-artifacts-preprod", functionName: "hello-service-preprod" },
      approval: { required: true, approvers: ["alice@example.com", "bob@example.com"] },
      timeScale: 1,
    });
    for (const mock of [s3, sfn, lambda, cloudwatch, ses]) expect(mock.calls()).toHaveLength(0);
  });

  it("refuses an artifact key outside the service's prefix with InvalidInput", async () => {
    vi.stubEnv("GANTRY_STAGE", "prod");
    const input = { ...REQUEST, artifact: { ...REQUEST.artifact, key: "billing/x.zip" } };
    const error = await rejectionOf(validateInput({ input, execution: EXECUTION }, context));
    expect(error.name).toBe("InvalidInput");
    expect(error.message).toContain("artifact.key: must start with hello-service/");
  });

  it("refuses a malformed request with InvalidInput", async () => {
    vi.stubEnv("GANTRY_STAGE", "prod");
    const input = { ...REQUEST, artifact: { ...REQUEST.artifact, sha256: "not-a-digest" } };
    const error = await rejectionOf(validateInput({ input, execution: EXECUTION }, context));
    expect(error.name).toBe("InvalidInput");
    expect(error.message).toContain("artifact.sha256");
  });

  it.each([
    [null, "null"],
    [false, "boolean"],
    [0, "number"],
    ["", "string"],
    [["a"], "array"],
  ])("names a StartExecution input that is not an object (%j)", async (input, kind) => {
    vi.stubEnv("GANTRY_STAGE", "prod");
    const error = await rejectionOf(validateInput({ input, execution: EXECUTION }, context));
    expect(error.name).toBe("InvalidInput");
    expect(error.message).toContain(`the input must be a JSON object, got ${kind}`);
  });

  it.each(["constructor", "hasOwnProperty", "valueof", "isprototypeof"])(
    "refuses service %s as unregistered, never reading Object.prototype",
    async (service) => {
      vi.stubEnv("GANTRY_STAGE", "prod");
      const input = {
        ...REQUEST,
        service,
        artifact: { ...REQUEST.artifact, key: `${service}/x.zip` },
      };
      const error = await rejectionOf(validateInput({ input, execution: EXECUTION }, context));
      expect(error.name).toBe("InvalidInput");
      expect(error.message).toMatch(
        /service: (is not a registered service|must be a service name)/,
      );
    },
  );
});

describe("validate-input with a GitHub Actions ID token", () => {
  const GITHUB = "https://token.actions.githubusercontent.com";
  const DISCOVERY = `${GITHUB}/.well-known/openid-configuration`;
  const JWKS = `${GITHUB}/.well-known/jwks`;
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await testIssuer();
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  /** GitHub's discovery document and keys, served by a stubbed global fetch. */
  function stubGitHub(up = true) {
    const fetch = vi.fn(async (url: string | URL) => {
      if (!up) throw new TypeError("fetch failed");
      const body =
        String(url) === DISCOVERY ? { issuer: GITHUB, jwks_uri: JWKS } : issuer.publicJwks;
      return new Response(JSON.stringify(body), { status: 200 });
    });
    vi.stubGlobal("fetch", fetch);
    return fetch;
  }
  const withToken = (idToken: string) => ({
    input: { ...REQUEST, trigger: { ...REQUEST.trigger, idToken } },
    execution: EXECUTION,
  });
  const mint = (claims: Record<string, unknown> = {}) =>
    issuer.mint({ sha: REQUEST.version, actor: REQUEST.trigger.actor, ...claims });

  it("reports GitHub's keys being out of reach as TransientError (the workflow retries it)", async () => {
    vi.stubEnv("GANTRY_STAGE", "prod");
    stubGitHub(false);
    const error = await rejectionOf(validateInput(withToken(await mint()), context));
    expect(error.name).toBe("TransientError");
    expect(error.message).toContain(`cannot reach the OIDC issuer ${GITHUB}`);
  });

  it("verifies the token against GitHub's published keys for audience gantry-<stage>", async () => {
    vi.stubEnv("GANTRY_STAGE", "prod");
    const fetch = stubGitHub();
    const token = await mint();
    const result = await validateInput(withToken(token), context);
    expect(result.request.trigger).toEqual({
      ...REQUEST.trigger,
      verified: expect.objectContaining({
        issuer: GITHUB,
        audience: "gantry-prod",
        repository: "acme/hello-service",
        sha: REQUEST.version,
      }),
    });
    expect(JSON.stringify(result)).not.toContain(token);
    expect(fetch.mock.calls.map(([url]) => String(url))).toEqual([DISCOVERY, JWKS]);
    for (const mock of [s3, sfn, lambda, cloudwatch, ses]) expect(mock.calls()).toHaveLength(0);
  });

  it("refuses a token minted for the other stage's audience with InvalidInput", async () => {
    vi.stubEnv("GANTRY_STAGE", "prod");
    stubGitHub();
    const error = await rejectionOf(
      validateInput(withToken(await mint({ aud: "gantry-preprod" })), context),
    );
    expect(error.name).toBe("InvalidInput");
    expect(error.message).toBe(
      "trigger.idToken: the ID token was issued for another audience (expected gantry-prod)",
    );
  });
});
