/**
 * OIDC ID tokens for the local control plane, as the verified-trigger suites need them: genuine
 * ones from the plane's own issuer (`mintLocalIdToken`, the key in its GANTRY_HOME), and what an
 * adversary would bring instead: a token signed by another key under the issuer's `kid`.
 */

import {
  type LocalIdTokenClaims,
  localIssuerUrl,
  mintLocalIdToken,
  OIDC_JWKS_PATH,
} from "@gantry/local/oidc";
import { generateKeyPair, SignJWT } from "jose";
import type { LocalProcess } from "./local-process.ts";

/** The audience a stage's tokens carry: the registry default, `gantry-<stage>`. */
export const AUDIENCE = { preprod: "gantry-preprod", prod: "gantry-prod" } as const;

/** The repository the suites' registries (test/support/registries/verified-triggers.ts) name. */
export const REPOSITORY = "acme/hello-service";

/**
 * What a GitHub Actions release job of hello-service would say about itself, for a commit.
 *
 * @example
 * ```ts
 * const claims = releaseClaims(built.version, { actor: "dependabot[bot]" });
 * ```
 */
export function releaseClaims(
  sha: string,
  overrides: Partial<LocalIdTokenClaims> = {},
): LocalIdTokenClaims {
  return {
    repository: REPOSITORY,
    repositoryId: "123456789",
    ref: "refs/heads/main",
    sha,
    actor: "octocat",
    workflow: "release",
    workflowRef: `${REPOSITORY}/.github/workflows/release.yml@refs/heads/main`,
    eventName: "push",
    runId: "4242",
    runAttempt: "1",
    ...overrides,
  };
}

/**
 * A genuine token of the plane's own issuer (the default stage is prod).
 *
 * @example
 * ```ts
 * const idToken = await localIdToken(local, releaseClaims(version));
 * ```
 */
export function localIdToken(
  local: LocalProcess,
  claims: LocalIdTokenClaims,
  options: { audience?: string; expiresInSeconds?: number; issuedAt?: Date } = {},
): Promise<string> {
  return mintLocalIdToken({
    home: local.home,
    issuer: localIssuerUrl(local.webEndpoint),
    audience: options.audience ?? AUDIENCE.prod,
    claims,
    ...(options.expiresInSeconds !== undefined
      ? { expiresInSeconds: options.expiresInSeconds }
      : {}),
    ...(options.issuedAt ? { issuedAt: options.issuedAt } : {}),
  });
}

/**
 * A forgery: the same claims, issuer, audience and header as a genuine token (the `kid` the
 * plane publishes unless `kid` names another, RS256), signed by a key pair of the forger's own.
 *
 * @example
 * ```ts
 * const forged = await forgedIdToken(local, releaseClaims(version));
 * ```
 */
export async function forgedIdToken(
  local: LocalProcess,
  claims: LocalIdTokenClaims,
  options: { kid?: string } = {},
): Promise<string> {
  const jwks = (await (await fetch(`${local.webEndpoint}${OIDC_JWKS_PATH}`)).json()) as {
    keys: { kid: string }[];
  };
  const kid = options.kid ?? jwks.keys[0]?.kid;
  if (!kid) throw new Error("the local issuer publishes no key");
  const { privateKey } = await generateKeyPair("RS256");
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    repository: claims.repository,
    repository_owner: claims.repository.split("/")[0],
    ref: claims.ref,
    sha: claims.sha,
    actor: claims.actor,
  })
    .setProtectedHeader({ alg: "RS256", kid, typ: "JWT" })
    .setIssuer(localIssuerUrl(local.webEndpoint))
    .setAudience(AUDIENCE.prod)
    .setSubject(`repo:${claims.repository}:ref:${claims.ref}`)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 300)
    .sign(privateKey);
}
