/**
 * The local OIDC issuer: its key is created once, owner-only, and survives restarts; a damaged
 * key file is quarantined and replaced; tokens it mints carry GitHub's claims and verify over
 * HTTP, through its discovery document and JWKS, as GitHub's do.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Quarantine } from "../storage/durable-file.ts";
import {
  ensureLocalIssuerKey,
  LocalIssuerError,
  localIssuerUrl,
  localJwks,
  mintLocalIdToken,
  OIDC_ISSUER_FILE,
  readLocalIssuerKey,
} from "./issuer.ts";
import { handleOidcRequest, OIDC_DISCOVERY_PATH, OIDC_JWKS_PATH } from "./routes.ts";

const SHA = "3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39";
const CLAIMS = {
  repository: "acme/hello-service",
  ref: "refs/heads/local",
  sha: SHA,
  actor: "alice",
  workflow: "gantry deploy (local)",
  eventName: "local",
  environment: "prod",
  runId: "local-1",
  runAttempt: "1",
};

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "gantry-oidc-"));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

describe("the issuer key", () => {
  it("is created once, mode 0600, and read back the same", async () => {
    const first = await ensureLocalIssuerKey(home);
    const file = join(home, OIDC_ISSUER_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await ensureLocalIssuerKey(home);
    expect(again).toEqual(first);
    expect(readLocalIssuerKey(home).kid).toBe(first.kid);
  });

  it("publishes the public half only", async () => {
    const key = await ensureLocalIssuerKey(home);
    const [jwk] = localJwks(key).keys;
    expect(jwk).toMatchObject({ kty: "RSA", kid: key.kid, alg: "RS256", use: "sig" });
    for (const part of ["d", "p", "q", "dp", "dq", "qi"]) expect(jwk).not.toHaveProperty(part);
  });

  it("is replaced when damaged, and the damaged file is quarantined", async () => {
    const first = await ensureLocalIssuerKey(home);
    writeFileSync(join(home, OIDC_ISSUER_FILE), "{ torn");
    const lines: string[] = [];
    const quarantine = new Quarantine(home, (line) => lines.push(line));
    const second = await ensureLocalIssuerKey(home, quarantine);
    expect(second.kid).not.toBe(first.kid);
    expect(quarantine.files).toHaveLength(1);
    expect(lines.join("\n")).not.toContain('"d"');
  });

  it("is never created by a reader: minting without a plane's key is a clear error", async () => {
    await expect(
      mintLocalIdToken({ home, issuer: "http://127.0.0.1:1/oidc", audience: "a", claims: CLAIMS }),
    ).rejects.toThrow(LocalIssuerError);
    await expect(
      mintLocalIdToken({ home, issuer: "http://127.0.0.1:1/oidc", audience: "a", claims: CLAIMS }),
    ).rejects.toThrow(/start the local control plane/);
  });
});

describe("mintLocalIdToken", () => {
  it("mints a GitHub-shaped RS256 token with the key's kid", async () => {
    const key = await ensureLocalIssuerKey(home);
    const issuer = "http://127.0.0.1:8084/oidc";
    const token = await mintLocalIdToken({
      home,
      issuer,
      audience: "gantry-prod",
      claims: CLAIMS,
      issuedAt: new Date("2026-01-01T00:00:00Z"),
    });
    expect(decodeProtectedHeader(token)).toEqual({ alg: "RS256", kid: key.kid, typ: "JWT" });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      iss: issuer,
      aud: "gantry-prod",
      sub: "repo:acme/hello-service:ref:refs/heads/local",
      repository: "acme/hello-service",
      repository_owner: "acme",
      ref: "refs/heads/local",
      sha: SHA,
      actor: "alice",
      workflow: "gantry deploy (local)",
      event_name: "local",
      environment: "prod",
      run_id: "local-1",
      run_attempt: "1",
      iat: 1767225600,
      nbf: 1767225600,
      exp: 1767225600 + 300,
    });
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims).not.toHaveProperty("repository_id");
  });

  it("honours expiresInSeconds (negative: already expired, for tests)", async () => {
    await ensureLocalIssuerKey(home);
    const token = await mintLocalIdToken({
      home,
      issuer: "http://x/oidc",
      audience: "a",
      claims: { ...CLAIMS, repositoryId: "42" },
      expiresInSeconds: -10,
    });
    const claims = decodeJwt(token);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(-10);
    expect(claims.repository_id).toBe("42");
  });
});

describe("the issuer over HTTP", () => {
  let server: Server;
  let issuer: string;

  beforeEach(async () => {
    const key = await ensureLocalIssuerKey(home);
    server = createServer((req, res) => {
      if (!handleOidcRequest(req, res, { issuer, key })) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    issuer = localIssuerUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("serves a discovery document whose JWKS verifies the tokens it mints", async () => {
    const discovery = (await (
      await fetch(`${issuer}/.well-known/openid-configuration`)
    ).json()) as {
      issuer: string;
      jwks_uri: string;
      id_token_signing_alg_values_supported: string[];
      claims_supported: string[];
    };
    expect(discovery.issuer).toBe(issuer);
    expect(discovery.jwks_uri).toBe(`${issuer}/.well-known/jwks`);
    expect(discovery.id_token_signing_alg_values_supported).toEqual(["RS256"]);
    expect(discovery.claims_supported).toContain("repository");

    const token = await mintLocalIdToken({ home, issuer, audience: "gantry-prod", claims: CLAIMS });
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(discovery.jwks_uri)), {
      issuer,
      audience: "gantry-prod",
      algorithms: ["RS256"],
    });
    expect(payload.actor).toBe("alice");
  });

  it("never serves the private key", async () => {
    const text = await (await fetch(`${issuer}/.well-known/jwks`)).text();
    const privateJwk = JSON.parse(readFileSync(join(home, OIDC_ISSUER_FILE), "utf8")).value
      .privateJwk as { d: string };
    expect(text).not.toContain(privateJwk.d);
    expect(text).not.toContain('"d"');
  });

  it("answers only its two paths, and only GET or HEAD", async () => {
    const base = issuer.slice(0, -"/oidc".length);
    expect((await fetch(`${base}/oidc/.well-known/other`)).status).toBe(404);
    expect((await fetch(`${base}${OIDC_JWKS_PATH}`, { method: "POST" })).status).toBe(405);
    expect((await fetch(`${base}${OIDC_DISCOVERY_PATH}`, { method: "HEAD" })).status).toBe(200);
  });
});
