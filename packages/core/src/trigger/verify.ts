import {
  createRemoteJWKSet,
  customFetch,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import { ConfigurationError, GantryError, InvalidInput, TransientError } from "../errors.ts";
import type { TriggerTokenVerifier } from "../ports.ts";
import type { VerifiedTrigger } from "./claims.ts";

/** The field every token problem is reported on. */
export const ID_TOKEN_FIELD = "trigger.idToken";

/** The only signature algorithm accepted: GitHub and the local issuer both sign with RS256. */
const ALGORITHMS = ["RS256"];

/**
 * Each of the two fetches (discovery document, then keys) gives up after this long: both must
 * fit in ValidateInput's 10 s Task timeout with a cold start to spare, so that a slow issuer is
 * a TransientError the workflow retries, not a Task timeout it does not.
 */
const FETCH_TIMEOUT_MS = 3_000;

/** Claims a token must carry to say who deployed what from where. */
const REQUIRED_CLAIMS = ["iss", "aud", "sub", "iat", "exp", "repository", "ref", "sha", "actor"];

type FetchImpl = (url: string, init: RequestInit) => Promise<Response>;

export interface OidcTokenVerifierOptions {
  /** The `iss` a token must carry, e.g. `https://token.actions.githubusercontent.com`. */
  readonly issuer: string;
  /** The `aud` a token must carry, e.g. `gantry-prod`. */
  readonly audience: string;
  /** The issuer's keys; default: its JWKS, found through its discovery document and cached. */
  readonly jwks?: JWTVerifyGetKey;
  /** Default: the global `fetch`. */
  readonly fetchImpl?: FetchImpl;
  /** Allowed clock skew for exp, nbf and iat. Default 60. */
  readonly clockToleranceSeconds?: number;
}

/**
 * Key sets by issuer, for the life of the process: a warm Lambda reuses the keys it fetched
 * (jose refetches by itself when a token names a key it has not seen, at most every 30 s).
 */
const keySets = new Map<string, Promise<JWTVerifyGetKey>>();

/**
 * A {@link TriggerTokenVerifier} for one issuer and audience: checks the signature (RS256 only)
 * against the issuer's JWKS, the issuer, audience, expiry and not-before, and the claims a
 * trigger needs. Every refusal is `InvalidInput` on `trigger.idToken` naming why; the issuer
 * being unreachable is a `TransientError` (the workflow retries it). The token itself never
 * appears in an error.
 *
 * @example
 * ```ts
 * const verifier = oidcTokenVerifier({
 *   issuer: "https://token.actions.githubusercontent.com",
 *   audience: "gantry-prod",
 * });
 * const verified = await verifier.verify(request.trigger.idToken);
 * verified.repository; // "acme/hello-service"
 * ```
 */
export function oidcTokenVerifier(options: OidcTokenVerifierOptions): TriggerTokenVerifier {
  const { issuer, audience } = options;
  const clockTolerance = options.clockToleranceSeconds ?? 60;
  const keys = (): Promise<JWTVerifyGetKey> => {
    if (options.jwks) return Promise.resolve(options.jwks);
    // With a fetch of its own (tests, the local plane), the cache is this verifier's.
    const cacheKey = options.fetchImpl ? undefined : issuer;
    const cached = cacheKey === undefined ? ownKeys : keySets.get(cacheKey);
    if (cached) return cached;
    const loading = discoverKeys(issuer, options.fetchImpl);
    // A failed discovery is not remembered: the next attempt asks again.
    loading.catch(() => forget(cacheKey));
    if (cacheKey === undefined) ownKeys = loading;
    else keySets.set(cacheKey, loading);
    return loading;
  };
  let ownKeys: Promise<JWTVerifyGetKey> | undefined;
  const forget = (cacheKey: string | undefined) => {
    if (cacheKey === undefined) ownKeys = undefined;
    else keySets.delete(cacheKey);
  };

  return {
    async verify(token: string): Promise<VerifiedTrigger> {
      // Called by jose after it parsed the token and checked its alg: a malformed or HS256
      // token is refused without a request to the issuer.
      const getKey: JWTVerifyGetKey = async (header, input) => (await keys())(header, input);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          issuer,
          audience,
          algorithms: ALGORITHMS,
          clockTolerance,
          requiredClaims: REQUIRED_CLAIMS,
        }));
      } catch (error) {
        throw refusal(error, token, { issuer, audience });
      }
      // jose checks iat only together with a maximum age; a token from the future is refused.
      const iat = payload.iat as number;
      if (iat - clockTolerance > Date.now() / 1000) {
        throw new InvalidInput([
          { field: ID_TOKEN_FIELD, reason: `the ID token is not valid yet (iat ${isoOf(iat)})` },
        ]);
      }
      return verifiedTrigger(payload, audience);
    },
  };
}

/** Finds the issuer's JWKS through its discovery document; the keys are fetched on first use. */
async function discoverKeys(
  issuer: string,
  fetchImpl: FetchImpl = fetch,
): Promise<JWTVerifyGetKey> {
  const base = issuer.replace(/\/$/, "");
  const url = `${base}/.well-known/openid-configuration`;
  let response: Response;
  try {
    response = await fetchImpl(url, {
      method: "GET",
      redirect: "manual",
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
  } catch (error) {
    throw new TransientError(`cannot reach the OIDC issuer ${issuer}: ${messageOf(error)}`);
  }
  if (response.status >= 500 || response.status === 429) {
    throw new TransientError(`the OIDC issuer ${issuer} answered ${response.status} for ${url}`);
  }
  if (response.status !== 200) {
    throw new ConfigurationError(
      `the OIDC issuer ${issuer} has no discovery document (${response.status} for ${url})`,
    );
  }
  let document: unknown;
  try {
    document = await response.json();
  } catch {
    throw new ConfigurationError(`the OIDC issuer ${issuer}'s discovery document is not JSON`);
  }
  const jwksUri = (document as { jwks_uri?: unknown } | null)?.jwks_uri;
  if (typeof jwksUri !== "string") {
    throw new ConfigurationError(`the OIDC issuer ${issuer}'s discovery document has no jwks_uri`);
  }
  let jwksUrl: URL;
  try {
    jwksUrl = new URL(jwksUri);
  } catch {
    throw new ConfigurationError(`the OIDC issuer ${issuer}'s jwks_uri is not a URL`);
  }
  // Keys from anywhere else would let whoever serves them mint tokens for this issuer.
  if (jwksUrl.origin !== new URL(base).origin) {
    throw new ConfigurationError(
      `the OIDC issuer ${issuer} publishes its keys at ${jwksUrl.origin}, not on its own origin`,
    );
  }
  return createRemoteJWKSet(jwksUrl, {
    [customFetch]: fetchImpl,
    timeoutDuration: FETCH_TIMEOUT_MS,
  });
}

/** The error a failed verification is reported as: InvalidInput naming why, or TransientError. */
function refusal(
  error: unknown,
  token: string,
  expected: { readonly issuer: string; readonly audience: string },
): Error {
  // Discovery's own errors (TransientError, ConfigurationError) pass as they are.
  if (error instanceof GantryError) return error;
  const invalid = (reason: string) =>
    new InvalidInput([{ field: ID_TOKEN_FIELD, reason: `the ID token ${reason}` }]);
  if (error instanceof errors.JWTExpired) {
    return invalid(`expired at ${isoOf(error.payload.exp)}`);
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claim = error.claim;
    if (error.reason === "missing") return invalid(`has no "${claim}" claim`);
    if (claim === "nbf") {
      return invalid(`is not valid yet (${claim} ${isoOf(error.payload[claim])})`);
    }
    if (claim === "aud") {
      return invalid(`was issued for another audience (expected ${expected.audience})`);
    }
    if (claim === "iss") {
      return invalid(`was issued by another issuer (expected ${expected.issuer})`);
    }
    return invalid(`has an invalid "${claim}" claim`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return invalid(`is signed with ${algorithmOf(token)}; only RS256 is accepted`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return invalid("has a signature that does not verify against the issuer's keys");
  }
  if (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return invalid("is signed by a key the issuer does not publish");
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return invalid("is malformed (not a signed JWT)");
  }
  if (error instanceof errors.JOSENotSupported) {
    return invalid("uses a feature that is not supported");
  }
  // Left: the issuer's keys could not be fetched (network, timeout, non-200, not JSON).
  // A fetch that failed on the network (TypeError), or anything else jose did not name.
  return new TransientError(`cannot fetch the OIDC issuer's keys: ${messageOf(error)}`);
}

/** The token's claims as a VerifiedTrigger; InvalidInput when one it needs is not a string. */
function verifiedTrigger(payload: JWTPayload, audience: string): VerifiedTrigger {
  const required = (claim: string): string => {
    const value = payload[claim];
    if (typeof value !== "string" || value.length === 0) {
      throw new InvalidInput([
        { field: ID_TOKEN_FIELD, reason: `the ID token's "${claim}" claim is empty or not text` },
      ]);
    }
    return value;
  };
  const optional = (claim: string): string | undefined => {
    const value = payload[claim];
    if (typeof value === "string" && value.length > 0) return value;
    return Number.isSafeInteger(value) ? String(value) : undefined;
  };
  const trigger: VerifiedTrigger = {
    issuer: required("iss"),
    audience,
    subject: required("sub"),
    repository: required("repository"),
    repositoryId: optional("repository_id"),
    ref: required("ref"),
    sha: required("sha"),
    actor: required("actor"),
    workflow: optional("workflow"),
    workflowRef: optional("workflow_ref"),
    eventName: optional("event_name"),
    environment: optional("environment"),
    runId: optional("run_id"),
    runAttempt: optional("run_attempt"),
    issuedAt: isoOf(payload.iat),
    expiresAt: isoOf(payload.exp),
  };
  // Absent claims stay absent (no `undefined` members in the state's JSON).
  return Object.fromEntries(
    Object.entries(trigger).filter(([, value]) => value !== undefined),
  ) as unknown as VerifiedTrigger;
}

/** A NumericDate claim as ISO 8601 (jose has checked it is a number). */
function isoOf(seconds: unknown): string {
  return new Date((seconds as number) * 1000).toISOString();
}

/**
 * The header's alg, when it is a plain name; the token's own text is never repeated. Only
 * called after jose parsed the header and found its alg a string that is not RS256.
 */
function algorithmOf(token: string): string {
  const alg = String(decodeProtectedHeader(token).alg);
  return /^[A-Za-z0-9]{1,20}$/.test(alg) ? alg : "another algorithm";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
