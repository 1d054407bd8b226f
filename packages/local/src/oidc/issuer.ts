import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { VerifiedTrigger } from "@gantry/core";
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  SignJWT,
} from "jose";
import {
  DamagedFileError,
  type Quarantine,
  readSealedJson,
  writeSealedJson,
} from "../storage/durable-file.ts";

/**
 * The local control plane's OIDC issuer: it mints ID tokens shaped like GitHub Actions' for the
 * local plane only, so that `gantry deploy`, the demo and the tests go through the same
 * verification as AWS (discovery document, JWKS over HTTP, RS256 signature, iss/aud/exp). Its key
 * pair lives in `<GANTRY_HOME>/oidc-issuer.json`, owner-only, created on the plane's first start.
 */

/** The key file in the data directory. */
export const OIDC_ISSUER_FILE = "oidc-issuer.json";

/** The only algorithm the issuer signs with, and the only one the verifier accepts. */
export const LOCAL_ID_TOKEN_ALG = "RS256";

/** Where the issuer is served on the local web server: `<web endpoint>/oidc`. */
export const OIDC_PATH = "/oidc";

/** What `oidc-issuer.json` holds (sealed, mode 0600). */
export interface LocalIssuerKey {
  /** The RFC 7638 thumbprint of the public key: the tokens' `kid`. */
  readonly kid: string;
  readonly alg: typeof LOCAL_ID_TOKEN_ALG;
  /** The private key, as a JWK: never leaves the data directory. */
  readonly privateJwk: JWK;
  /** ISO 8601. */
  readonly createdAt: string;
}

const PRIVATE_PARTS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const;

function isIssuerKey(value: unknown): value is LocalIssuerKey {
  if (typeof value !== "object" || value === null) return false;
  const key = value as Partial<LocalIssuerKey>;
  const jwk = key.privateJwk as Record<string, unknown> | undefined;
  return (
    typeof key.kid === "string" &&
    key.alg === LOCAL_ID_TOKEN_ALG &&
    typeof key.createdAt === "string" &&
    typeof jwk === "object" &&
    jwk !== null &&
    jwk.kty === "RSA" &&
    typeof jwk.n === "string" &&
    typeof jwk.e === "string" &&
    typeof jwk.d === "string"
  );
}

/**
 * The issuer URL of a local control plane from its web endpoint.
 *
 * @example
 * ```ts
 * localIssuerUrl("http://127.0.0.1:8084"); // "http://127.0.0.1:8084/oidc"
 * ```
 */
export function localIssuerUrl(webEndpoint: string): string {
  return `${webEndpoint.replace(/\/+$/, "")}${OIDC_PATH}`;
}

/**
 * The issuer's key pair: read from `<home>/oidc-issuer.json`, or generated (RS256, 2048 bits) and
 * written durably, mode 0600, on the first start. A damaged file is moved to the quarantine,
 * reported and replaced: tokens signed with the old key then fail verification, as they should.
 *
 * @example
 * ```ts
 * const key = await ensureLocalIssuerKey(".gantry", quarantine);
 * key.kid; // "Xq3...": the thumbprint the tokens name
 * ```
 */
export async function ensureLocalIssuerKey(
  home: string,
  quarantine?: Quarantine,
): Promise<LocalIssuerKey> {
  const file = join(home, OIDC_ISSUER_FILE);
  if (existsSync(file)) {
    try {
      return readSealedJson(file, isIssuerKey);
    } catch (error) {
      if (!(error instanceof DamagedFileError)) throw error;
      quarantine?.put(file, `${error.reason}; replaced by a new issuer key`);
    }
  }
  const { privateKey } = await generateKeyPair(LOCAL_ID_TOKEN_ALG, {
    extractable: true,
    modulusLength: 2048,
  });
  const privateJwk = await exportJWK(privateKey);
  const key: LocalIssuerKey = {
    kid: await calculateJwkThumbprint(publicJwkOf(privateJwk)),
    alg: LOCAL_ID_TOKEN_ALG,
    privateJwk,
    createdAt: new Date().toISOString(),
  };
  writeSealedJson(file, key, 0o600);
  return key;
}

/**
 * Reads the issuer key a local control plane created; a clear error when there is none (the
 * plane never started with this data directory) or it is damaged. Never creates one: only the
 * plane that serves the JWKS may.
 */
export function readLocalIssuerKey(home: string): LocalIssuerKey {
  const file = join(home, OIDC_ISSUER_FILE);
  if (!existsSync(file)) {
    throw new LocalIssuerError(
      `${file} does not exist: start the local control plane with this data directory (GANTRY_HOME) first`,
    );
  }
  try {
    return readSealedJson(file, isIssuerKey);
  } catch (error) {
    if (error instanceof DamagedFileError) throw new LocalIssuerError(error.message);
    throw error;
  }
}

/** Why a local ID token could not be minted. Its message never holds key material. */
export class LocalIssuerError extends Error {
  override readonly name = "LocalIssuerError";
}

/** The public half of a JWK: what the JWKS publishes. */
export function publicJwkOf(jwk: JWK): JWK {
  const copy: Record<string, unknown> = { ...jwk };
  for (const part of PRIVATE_PARTS) delete copy[part];
  return copy as JWK;
}

/**
 * The JWKS document (`/oidc/.well-known/jwks`): the public key only.
 *
 * @example
 * ```ts
 * localJwks(key); // { keys: [{ kty: "RSA", n, e, kid, alg: "RS256", use: "sig" }] }
 * ```
 */
export function localJwks(key: LocalIssuerKey): { readonly keys: readonly JWK[] } {
  return {
    keys: [{ ...publicJwkOf(key.privateJwk), kid: key.kid, alg: key.alg, use: "sig" }],
  };
}

/** The claims a local ID token carries, as GitHub Actions names them. */
export const LOCAL_ID_TOKEN_CLAIMS = [
  "iss",
  "aud",
  "sub",
  "repository",
  "repository_id",
  "repository_owner",
  "ref",
  "sha",
  "actor",
  "workflow",
  "workflow_ref",
  "event_name",
  "environment",
  "run_id",
  "run_attempt",
  "iat",
  "nbf",
  "exp",
  "jti",
] as const;

/**
 * The discovery document (`/oidc/.well-known/openid-configuration`), shaped as GitHub's.
 *
 * @example
 * ```ts
 * openIdConfiguration("http://127.0.0.1:8084/oidc").jwks_uri; // "http://127.0.0.1:8084/oidc/.well-known/jwks"
 * ```
 */
export function openIdConfiguration(issuer: string) {
  return {
    issuer,
    jwks_uri: `${issuer}/.well-known/jwks`,
    subject_types_supported: ["public", "pairwise"],
    response_types_supported: ["id_token"],
    claims_supported: [...LOCAL_ID_TOKEN_CLAIMS],
    id_token_signing_alg_values_supported: [LOCAL_ID_TOKEN_ALG],
    scopes_supported: ["openid"],
  };
}

/**
 * What the caller says about the run: the claims of a {@link VerifiedTrigger} that describe it
 * (the issuer adds iss, aud, sub, iat, nbf, exp and jti). A token without `repositoryId` has no
 * `repository_id`.
 */
export type LocalIdTokenClaims = Omit<
  VerifiedTrigger,
  "issuer" | "audience" | "subject" | "issuedAt" | "expiresAt"
>;

export interface MintLocalIdTokenInput {
  /** The data directory of the local control plane (where `oidc-issuer.json` is). */
  readonly home: string;
  /** `<web endpoint>/oidc`: see {@link localIssuerUrl}. */
  readonly issuer: string;
  /** The stage's audience (`oidcSettingsOf(registry, stage).audience`). */
  readonly audience: string;
  readonly claims: LocalIdTokenClaims;
  /** Default 300 (GitHub's tokens last minutes too). Negative: an expired token, for tests. */
  readonly expiresInSeconds?: number;
  /** When it is issued; default now. */
  readonly issuedAt?: Date;
}

/**
 * Mints an ID token with the local issuer's key, GitHub-shaped (iss, aud, sub
 * `repo:<repository>:ref:<ref>`, repository, repository_id, repository_owner, ref, sha, actor,
 * workflow, workflow_ref, event_name, environment, run_id, run_attempt, iat, nbf, exp, jti),
 * RS256 with the key's `kid`. For the local control plane only: AWS never trusts this issuer.
 *
 * @example
 * ```ts
 * const idToken = await mintLocalIdToken({
 *   home: ".gantry",
 *   issuer: "http://127.0.0.1:8084/oidc",
 *   audience: "gantry-prod",
 *   claims: { repository: "acme/hello-service", ref: "refs/heads/local", sha, actor: "alice" },
 * });
 * ```
 */
export async function mintLocalIdToken(input: MintLocalIdTokenInput): Promise<string> {
  const key = readLocalIssuerKey(input.home);
  const { claims } = input;
  const iat = Math.floor((input.issuedAt ?? new Date()).getTime() / 1000);
  const payload: Record<string, string> = {
    repository: claims.repository,
    repository_owner: claims.repository.split("/")[0] ?? claims.repository,
    ref: claims.ref,
    sha: claims.sha,
    actor: claims.actor,
    ...(claims.repositoryId !== undefined ? { repository_id: claims.repositoryId } : {}),
    ...(claims.workflow !== undefined ? { workflow: claims.workflow } : {}),
    ...(claims.workflowRef !== undefined ? { workflow_ref: claims.workflowRef } : {}),
    ...(claims.eventName !== undefined ? { event_name: claims.eventName } : {}),
    ...(claims.environment !== undefined ? { environment: claims.environment } : {}),
    ...(claims.runId !== undefined ? { run_id: claims.runId } : {}),
    ...(claims.runAttempt !== undefined ? { run_attempt: claims.runAttempt } : {}),
  };
  const privateKey = await importJWK(key.privateJwk, key.alg);
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT" })
    .setIssuer(input.issuer)
    .setAudience(input.audience)
    .setSubject(`repo:${claims.repository}:ref:${claims.ref}`)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + (input.expiresInSeconds ?? 300))
    .setJti(randomUUID())
    .sign(privateKey);
}
