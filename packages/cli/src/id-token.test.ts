/**
 * The ID token `gantry deploy` sends: GitHub's in a job that may request one (for the stage's
 * audience, secrets never in an error), the local issuer's against the local plane that owns the
 * data directory, and none otherwise, with the reason.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DeploymentRequest, defineRegistry, executionName, type Registry } from "@gantry/core";
import { ensureLocalIssuerKey } from "@gantry/local/oidc";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CliError } from "./errors.ts";
import { actorOf, LOCAL_REF, obtainIdToken, withoutIdToken } from "./id-token.ts";
import type { Target } from "./target.ts";

const SHA = "3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39";
const REQUEST: DeploymentRequest = {
  service: "hello-service",
  version: SHA,
  artifact: { key: "hello-service/3f2a9c1/a.zip", sha256: "ab".repeat(32) },
  trigger: { actor: "alice" },
};

function registry(repository?: string): Registry {
  const stage = (functionName: string) => ({
    functionName,
    alias: "live",
    alarms: [],
    rollout: { steps: [50], stepWaitSeconds: 1, pollSeconds: 1, bakeSeconds: 1 },
    verifyPreprod: false,
  });
  return defineRegistry({
    stages: {
      preprod: { sourceBucket: "b-preprod", artifactBucket: "b-preprod" },
      prod: {
        sourceBucket: "b-preprod",
        artifactBucket: "b-prod",
        oidc: { audience: "acme-prod" },
      },
    },
    services: {
      "hello-service": {
        ...(repository ? { repository, repositoryId: "123" } : {}),
        canary: { checks: [{ name: "ping", event: {}, expect: { statusCode: 200 } }] },
        stages: { preprod: stage("hello-preprod"), prod: stage("hello-prod") },
      },
    },
  });
}

function target(
  kind: "local" | "aws",
  home?: string,
  endpoint?: string,
  webEndpoint?: string,
): Target {
  return {
    kind,
    sfn: undefined as never,
    s3: undefined as never,
    ...(endpoint ? { endpoint } : {}),
    ...(webEndpoint ? { webEndpoint } : {}),
    ...(home ? { home } : {}),
    chosenBy: "test",
    stateMachineArn: () => "arn",
    knownStages: () => [],
  };
}

/** A JWT's claims, unverified. */
function decodeJwt(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
}

/** A token-shaped string with these claims (unsigned: only its shape matters to the CLI). */
function jwt(claims: object): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "RS256" })}.${part(claims)}.c2ln`;
}

describe("in GitHub Actions, against AWS", () => {
  const env = {
    GITHUB_ACTIONS: "true",
    ACTIONS_ID_TOKEN_REQUEST_URL: "https://token.example/idtoken?api-version=2.0",
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: "request-secret-123",
  };

  it("requests the stage's audience with the request token and returns GitHub's token", async () => {
    const token = jwt({ actor: "octocat" });
    const fetchImpl = vi.fn(async () => Response.json({ value: token }));
    const got = await obtainIdToken({
      env,
      target: target("aws"),
      registry: registry("acme/hello-service"),
      stage: "prod",
      request: REQUEST,
      fetchImpl,
    });
    expect(got).toEqual({ source: "github-actions", idToken: token, actor: "octocat" });
    const [url, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("https://token.example/idtoken?api-version=2.0&audience=acme-prod");
    expect((init.headers as Record<string, string>).authorization).toBe(
      "bearer request-secret-123",
    );
  });

  it("fails clearly, naming neither secret, when the token service refuses", async () => {
    const fetchImpl = vi.fn(async () => new Response("denied request-secret-123", { status: 403 }));
    const error = await obtainIdToken({
      env,
      target: target("aws"),
      registry: registry(),
      stage: "preprod",
      request: REQUEST,
      fetchImpl,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    const text = `${(error as CliError).message} ${(error as CliError).hints.join(" ")}`;
    expect(text).toContain("gantry-preprod");
    expect(text).toContain("403");
    expect(text).toContain("id-token: write");
    expect(text).not.toContain("request-secret-123");
  });

  it("fails when the answer carries no token", async () => {
    const fetchImpl = vi.fn(async () => Response.json({ nope: true }));
    await expect(
      obtainIdToken({
        env,
        target: target("aws"),
        registry: registry(),
        stage: "prod",
        request: REQUEST,
        fetchImpl,
      }),
    ).rejects.toThrow(/no token/);
  });

  it("sends none outside GitHub Actions, or in a job without id-token: write", async () => {
    const without = await obtainIdToken({
      env: { GITHUB_ACTIONS: "true" },
      target: target("aws"),
      registry: registry(),
      stage: "prod",
      request: REQUEST,
    });
    expect(without).toMatchObject({ source: "none", reason: expect.stringContaining("id-token") });
    const elsewhere = await obtainIdToken({
      env: {},
      target: target("aws"),
      registry: registry(),
      stage: "prod",
      request: REQUEST,
    });
    expect(elsewhere.source).toBe("none");
  });
});

describe("against the local control plane", () => {
  let home: string;
  const endpoint = "http://127.0.0.1:18083";
  beforeEach(async () => {
    home = mkdtempSync(join(tmpdir(), "gantry-cli-id-token-"));
    await ensureLocalIssuerKey(home);
    writeFileSync(
      join(home, "endpoints.json"),
      JSON.stringify({ sfn: endpoint, web: "http://127.0.0.1:18084", pid: process.pid }),
    );
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it("mints a token of the plane's issuer with the request's actor and commit", async () => {
    const got = await obtainIdToken({
      // Even in a GitHub job: the local plane trusts its own issuer only.
      env: { ACTIONS_ID_TOKEN_REQUEST_URL: "https://x", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "y" },
      target: target("local", home, endpoint),
      registry: registry("acme/hello-service"),
      stage: "prod",
      request: REQUEST,
    });
    expect(got.source).toBe("local");
    if (got.source === "none") return;
    expect(got.actor).toBe("alice");
    expect(decodeJwt(got.idToken)).toMatchObject({
      iss: "http://127.0.0.1:18084/oidc",
      aud: "acme-prod",
      repository: "acme/hello-service",
      repository_id: "123",
      sha: SHA,
      actor: "alice",
      ref: LOCAL_REF,
      event_name: "local",
      environment: "prod",
      run_id: executionName(REQUEST),
    });
  });

  it("keeps the same claims for a retried deploy (only iat, exp and jti change)", async () => {
    const input = {
      env: { GANTRY_REF: "refs/heads/feature" },
      target: target("local", home, endpoint),
      registry: registry("acme/hello-service"),
      stage: "prod" as const,
      request: REQUEST,
      attempt: 2,
    };
    const claimsOf = async () => {
      const got = await obtainIdToken(input);
      if (got.source === "none") throw new Error(got.reason);
      const { iat: _iat, nbf: _nbf, exp: _exp, jti: _jti, ...rest } = decodeJwt(got.idToken);
      return rest;
    };
    const first = await claimsOf();
    expect(first).toMatchObject({ ref: "refs/heads/feature", run_id: executionName(REQUEST, 2) });
    expect(await claimsOf()).toEqual(first);
  });

  it("sends none for a service without a registered repository", async () => {
    const got = await obtainIdToken({
      env: {},
      target: target("local", home, endpoint),
      registry: registry(),
      stage: "prod",
      request: REQUEST,
    });
    expect(got).toMatchObject({ source: "none", reason: expect.stringContaining("repository") });
  });

  it("sends none to a plane that does not run from the data directory", async () => {
    const got = await obtainIdToken({
      env: {},
      target: target("local", home, "http://127.0.0.1:19999"),
      registry: registry("acme/hello-service"),
      stage: "prod",
      request: REQUEST,
    });
    expect(got).toMatchObject({ source: "none", reason: expect.stringContaining("GANTRY_HOME") });
    rmSync(join(home, "endpoints.json"));
    const stopped = await obtainIdToken({
      env: {},
      target: target("local", home, endpoint),
      registry: registry("acme/hello-service"),
      stage: "prod",
      request: REQUEST,
    });
    expect(stopped).toMatchObject({
      source: "none",
      reason: expect.stringContaining("GANTRY_WEB_ENDPOINT"),
    });
  });

  it("mints for a plane started in-process (no endpoints.json) at the given web endpoint", async () => {
    rmSync(join(home, "endpoints.json"));
    const got = await obtainIdToken({
      env: {},
      target: target("local", home, endpoint, "http://127.0.0.1:18085"),
      registry: registry("acme/hello-service"),
      stage: "prod",
      request: REQUEST,
    });
    expect(got.source).toBe("local");
    if (got.source === "none") return;
    expect(decodeJwt(got.idToken)).toMatchObject({ iss: "http://127.0.0.1:18085/oidc" });
  });

  it("sends none where no plane has ever run from the data directory (no issuer key)", async () => {
    rmSync(join(home, "oidc-issuer.json"));
    const got = await obtainIdToken({
      env: {},
      target: target("local", home, endpoint, "http://127.0.0.1:18085"),
      registry: registry("acme/hello-service"),
      stage: "prod",
      request: REQUEST,
    });
    expect(got).toMatchObject({ source: "none", reason: expect.stringContaining("has run from") });
  });
});

describe("helpers", () => {
  it("reads a token's actor without verifying it", () => {
    expect(actorOf(jwt({ actor: "octocat" }))).toBe("octocat");
    expect(actorOf(jwt({}))).toBeUndefined();
    expect(actorOf("not a token")).toBeUndefined();
  });

  it("drops only trigger.idToken", () => {
    expect(withoutIdToken({ service: "s", trigger: { actor: "a", idToken: "t" } })).toEqual({
      service: "s",
      trigger: { actor: "a" },
    });
    expect(withoutIdToken({ service: "s" })).toEqual({ service: "s" });
    expect(withoutIdToken("x")).toBe("x");
  });
});
