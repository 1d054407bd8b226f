/**
 * Test-only: an RS256 issuer in memory (a real key pair from jose), GitHub-shaped claims, and
 * tokens signed by it or by a stranger. Used by the verifier's and ValidateInput's tests.
 *
 * @example
 * ```ts
 * const issuer = await testIssuer();
 * const token = await issuer.mint({ sha: "3f2a9c1" });
 * ```
 */
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  type JWTPayload,
  type JWTVerifyGetKey,
  SignJWT,
} from "jose";
import type { VerifiedTrigger } from "../trigger/claims.ts";

export const TEST_ISSUER = "https://token.actions.githubusercontent.com";
export const TEST_AUDIENCE = "gantry-prod";
/** The fixtures' VERSION: a token for the commit the test requests deploy. */
export const TEST_SHA = "3f2a9c1e0b7d4a5f6e8c9b0a1d2e3f4a5b6c7d8e";

/** Claims as GitHub Actions writes them (strings, including the ids). */
export function githubClaims(overrides: Record<string, unknown> = {}): JWTPayload {
  return {
    sub: "repo:acme/hello-service:ref:refs/heads/main",
    repository: "acme/hello-service",
    repository_id: "123456789",
    repository_owner: "acme",
    ref: "refs/heads/main",
    sha: TEST_SHA,
    actor: "octocat",
    workflow: "release",
    workflow_ref: "acme/hello-service/.github/workflows/release.yml@refs/heads/main",
    event_name: "push",
    environment: "prod",
    run_id: "42",
    run_attempt: "1",
    ...overrides,
  };
}

/**
 * What ValidateInput puts in the state after checking a GitHub Actions ID token for
 * `TEST_SHA`: the claims every token has (no optional ones unless `overrides` gives them),
 * issued at 11:59 and expiring at 12:04 on the fixtures' day (T0 is 12:00). `overrides`
 * replace any field.
 *
 * @example
 * ```ts
 * const verified = verifiedTrigger({ actor: "dependabot[bot]", runId: "42" });
 * const request = { ...testRequest(), trigger: { actor: "dependabot[bot]", verified } };
 * ```
 */
export function verifiedTrigger(overrides: Partial<VerifiedTrigger> = {}): VerifiedTrigger {
  return {
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    subject: "repo:acme/hello-service:ref:refs/heads/main",
    repository: "acme/hello-service",
    ref: "refs/heads/main",
    sha: TEST_SHA,
    actor: "octocat",
    issuedAt: "2026-11-01T11:59:00.000Z",
    expiresAt: "2026-11-01T12:04:00.000Z",
    ...overrides,
  };
}

export interface TestIssuer {
  readonly jwks: JWTVerifyGetKey;
  /** The public key set, as an issuer serves it. */
  readonly publicJwks: { keys: object[] };
  /**
   * A token signed by this issuer. `claims` replace GitHub's defaults (`undefined` removes
   * one); `iss`, `aud`, `iat`, `exp` may be overridden too.
   */
  mint(claims?: Record<string, unknown>, options?: MintOptions): Promise<string>;
}

export interface MintOptions {
  /** Sign with this other issuer's key instead (a forgery), keeping this issuer's kid. */
  readonly signer?: CryptoKey;
  readonly alg?: string;
  readonly kid?: string;
}

/** A fresh RS256 issuer. */
export async function testIssuer(): Promise<TestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair("RS256");
  const publicJwk = { ...(await exportJWK(publicKey)), kid: "key-1", alg: "RS256", use: "sig" };
  const publicJwks = { keys: [publicJwk] };
  return {
    jwks: createLocalJWKSet(publicJwks),
    publicJwks,
    async mint(claims = {}, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      const payload: Record<string, unknown> = {
        iss: TEST_ISSUER,
        aud: TEST_AUDIENCE,
        iat: now,
        nbf: now,
        exp: now + 300,
        ...githubClaims(),
        ...claims,
      };
      for (const [key, value] of Object.entries(payload))
        if (value === undefined) delete payload[key];
      return new SignJWT(payload)
        .setProtectedHeader({ alg: options.alg ?? "RS256", kid: options.kid ?? "key-1" })
        .sign(options.signer ?? privateKey);
    },
  };
}

/** A private key nobody publishes: what a forger signs with. */
export async function strangerKey(): Promise<CryptoKey> {
  return (await generateKeyPair("RS256")).privateKey;
}

/** An HS256 token over the same claims (a classic algorithm-confusion attempt). */
export async function hmacToken(claims: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: TEST_ISSUER,
    aud: TEST_AUDIENCE,
    iat: now,
    exp: now + 300,
    ...githubClaims(),
    ...claims,
  })
    .setProtectedHeader({ alg: "HS256", kid: "key-1" })
    .sign(new TextEncoder().encode("a shared secret of at least 32 bytes!!"));
}

/** An unsigned (`alg: none`) token over GitHub's claims. */
export function unsignedToken(claims: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none" })}.${part({ iss: TEST_ISSUER, aud: TEST_AUDIENCE, iat: now, exp: now + 300, ...githubClaims(), ...claims })}.`;
}
