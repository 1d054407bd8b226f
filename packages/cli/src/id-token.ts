import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  type DeploymentRequest,
  executionName,
  oidcSettingsOf,
  type Registry,
  type Stage,
} from "@gantry/core";
import { localIssuerUrl, mintLocalIdToken, OIDC_ISSUER_FILE } from "@gantry/local/oidc";
import { CliError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { readLocalEndpoints, type Target } from "./target.ts";

/**
 * The OIDC ID token `gantry deploy` sends as `trigger.idToken`, the proof of who deployed what
 * from where: GitHub Actions' (in a job with `permissions: id-token: write`), or, against the
 * local control plane only, one minted with the plane's own issuer key. The token is a secret
 * for its few minutes of life: it is never printed, and neither is the request token that
 * fetches it.
 */

type Env = Readonly<Record<string, string | undefined>>;
type FetchImpl = (url: string, init: RequestInit) => Promise<Response>;

/** Where a token came from, with the actor it names (the request's actor must be the same). */
export type ObtainedIdToken =
  | {
      readonly source: "github-actions" | "local";
      readonly idToken: string;
      /** The token's `actor` claim, read without verifying (ValidateInput verifies). */
      readonly actor: string | undefined;
    }
  | {
      readonly source: "none";
      /** Why no token is sent, for a note on stderr. */
      readonly reason: string;
    };

export interface ObtainIdTokenInput {
  readonly env: Env;
  readonly target: Target;
  readonly registry: Registry;
  readonly stage: Stage;
  readonly request: DeploymentRequest;
  /** `--attempt`: part of the local token's run id, as it is of the execution's name. */
  readonly attempt?: number;
  /** Default: the global fetch. */
  readonly fetchImpl?: FetchImpl;
}

/** The ref a local token names: GANTRY_REF, else this, which says it is not a pushed branch. */
export const LOCAL_REF = "refs/heads/local";
/** The `workflow` claim of a local token. */
export const LOCAL_WORKFLOW = "gantry deploy (local)";

/**
 * The ID token for this deployment, if one can be had, for the stage's audience:
 * 1. against the local control plane whose data directory is the target's (its
 *    `oidc-issuer.json` and `endpoints.json`), one minted by its issuer, for a service whose
 *    registry entry names its `repository` (else none);
 * 2. against AWS in GitHub Actions (ACTIONS_ID_TOKEN_REQUEST_URL and
 *    ACTIONS_ID_TOKEN_REQUEST_TOKEN set, as they are in a job with `id-token: write`), GitHub's;
 * 3. otherwise none, with the reason.
 * A failure to get GitHub's token is an error (the job asked for one and it would otherwise
 * deploy unverified); the local plane's absence is not.
 *
 * @example
 * ```ts
 * const token = await obtainIdToken({ env: process.env, target, registry, stage: "prod", request });
 * if (token.source !== "none") request = { ...request, trigger: { ...request.trigger, idToken: token.idToken } };
 * ```
 */
export async function obtainIdToken(input: ObtainIdTokenInput): Promise<ObtainedIdToken> {
  const { env, target, registry, stage } = input;
  const audience = oidcSettingsOf(registry, stage).audience;
  // The local plane trusts its own issuer only: even inside a GitHub Actions job (a workflow
  // that tests against it), GitHub's token would be refused there.
  if (target.kind === "local") return localIdToken(input, audience);
  const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL?.trim();
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN?.trim();
  if (requestUrl && requestToken) {
    const idToken = await githubIdToken(requestUrl, requestToken, audience, input.fetchImpl);
    return { source: "github-actions", idToken, actor: actorOf(idToken) };
  }
  return {
    source: "none",
    reason:
      env.GITHUB_ACTIONS === "true"
        ? "this GitHub Actions job cannot request one (give it `permissions: id-token: write`)"
        : "not running in GitHub Actions",
  };
}

/** GitHub's token for `audience`, from the job's token request endpoint. */
async function githubIdToken(
  requestUrl: string,
  requestToken: string,
  audience: string,
  fetchImpl: FetchImpl = fetch,
): Promise<string> {
  const failed = (why: string) =>
    new CliError(
      ExitCode.Failed,
      `cannot get a GitHub Actions ID token for audience ${audience}: ${why}`,
      [
        "the job needs `permissions: id-token: write`",
        "or pass --no-id-token to deploy without one (the stage must allow unverified triggers)",
      ],
    );
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    throw failed("ACTIONS_ID_TOKEN_REQUEST_URL is not a URL");
  }
  url.searchParams.set("audience", audience);
  let response: Response;
  try {
    response = await fetchImpl(url.toString(), {
      method: "GET",
      headers: { authorization: `bearer ${requestToken}`, accept: "application/json" },
      redirect: "error",
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    // The cause's message names the host at most, never the request token (a header).
    throw failed(`the request failed (${error instanceof Error ? error.message : "network"})`);
  }
  // The body is not echoed: an error page may quote what it was sent.
  if (!response.ok) throw failed(`the token service answered ${response.status}`);
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw failed("the token service's answer is not JSON");
  }
  const value = (body as { value?: unknown } | null)?.value;
  if (typeof value !== "string" || value.split(".").length !== 3) {
    throw failed("the token service's answer has no token (`value`)");
  }
  return value;
}

/** A token minted by the local plane's issuer, or why there is none. */
async function localIdToken(input: ObtainIdTokenInput, audience: string): Promise<ObtainedIdToken> {
  const { env, target, registry, stage, request } = input;
  const service = registry.services[request.service];
  if (!service?.repository) {
    return {
      source: "none",
      reason: `the registry names no repository for ${request.service} (\`repository: "owner/name"\`)`,
    };
  }
  // Only the plane that owns the data directory has the key its JWKS publishes, and only its
  // own web endpoint is its issuer: a token for any other plane would be refused.
  const home = target.home;
  if (!home || !existsSync(join(home, OIDC_ISSUER_FILE))) {
    return {
      source: "none",
      reason: `no local control plane with an ID token issuer has run from ${home ?? "this data directory"}`,
    };
  }
  const running = readLocalEndpoints(home);
  let web: string | undefined;
  if (running?.alive) {
    if (!sameOrigin(running.endpoints.sfn, target.endpoint) || !running.endpoints.web) {
      return {
        source: "none",
        reason: `the control plane at ${target.endpoint} is not the one that runs from ${home} (set GANTRY_HOME to its data directory)`,
      };
    }
    web = running.endpoints.web;
  } else {
    // A plane started in-process (the demo, tests) writes no endpoints.json: its web endpoint
    // is the one given (GANTRY_WEB_ENDPOINT). Were it another plane's, ValidateInput refuses.
    web = target.webEndpoint;
  }
  if (!web) {
    return {
      source: "none",
      reason: `no control plane runs from ${home}, and no web endpoint is given (GANTRY_WEB_ENDPOINT)`,
    };
  }
  const actor = request.trigger.actor;
  const idToken = await mintLocalIdToken({
    home,
    issuer: localIssuerUrl(web),
    audience,
    claims: {
      repository: service.repository,
      ...(service.repositoryId ? { repositoryId: service.repositoryId } : {}),
      ref: env.GANTRY_REF?.trim() || LOCAL_REF,
      sha: request.version,
      actor,
      workflow: LOCAL_WORKFLOW,
      eventName: "local",
      environment: stage,
      // The execution's own name: the same for a retried deploy, so its claims are too.
      runId: executionName(request, input.attempt ?? 1),
      runAttempt: "1",
    },
  });
  return { source: "local", idToken, actor };
}

/**
 * The `actor` claim of a JWT, read without verifying it (only to check the request agrees;
 * ValidateInput verifies the token). Undefined when there is none.
 */
export function actorOf(token: string): string | undefined {
  try {
    const payload = token.split(".")[1] ?? "";
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as {
      actor?: unknown;
    };
    return typeof claims.actor === "string" ? claims.actor : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A request with `trigger.idToken` removed: what a retried job compares its input on (its new
 * token differs from the first run's, nothing else does).
 *
 * @example
 * ```ts
 * withoutIdToken({ trigger: { actor: "octocat", idToken: "eyJ..." } }); // { trigger: { actor: "octocat" } }
 * ```
 */
export function withoutIdToken(input: unknown): unknown {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return input;
  const { trigger, ...rest } = input as { trigger?: unknown };
  if (typeof trigger !== "object" || trigger === null || Array.isArray(trigger)) return input;
  const { idToken: _idToken, ...kept } = trigger as Record<string, unknown>;
  return { ...rest, trigger: kept };
}

function sameOrigin(a: string | undefined, b: string | undefined): boolean {
  try {
    return a !== undefined && b !== undefined && new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}
