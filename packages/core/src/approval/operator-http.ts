import type { RecordBytesReader } from "../ports.ts";
import type { Registry } from "../registry.ts";
import { breakLock, inspectLock, LockBreakRefused } from "../steps/break-lock.ts";
import {
  ApprovalRefused,
  type DecisionDeps,
  decideAsOperator,
  pendingApprovals,
} from "./decide.ts";
import type { ApprovalAction } from "./links.ts";

/**
 * The operator's approval API, for `gantry approve` / `gantry reject` at a terminal, as plain
 * HTTP with JSON bodies. The transport authenticates the caller first and passes the identity
 * it proved: in AWS an `AWS_IAM` Function URL (the caller's IAM principal ARN, from a
 * SigV4-signed request); locally the operator secret in GANTRY_HOME (`local`). Nothing in the
 * request body says who is deciding, except which of the principal's approvers to act as.
 *
 *     GET  /operator/approvals               pending approvals
 *     POST /operator/approvals/<id>          { action: approve|reject, as?, comment? } -> the decision
 *     GET  /operator/locks/<stage>/<service> the service's lock, inspected (`gantry unlock`)
 *     POST /operator/locks/<stage>/<service> { reason, etag?, forceDamaged? } -> the lock broken, audited
 *
 * Breaking a lock is for registered operators only (the registry's `operators`), and only on
 * the stage this endpoint serves: a path naming another stage is refused (404), so an operator
 * pointed at the wrong stage's endpoint breaks nothing. See `breakLock` for the rules.
 *
 * Errors are `{ error, status, message }` with the status the approval pages would use; a
 * body that is not `application/json` is refused (415), so no HTML form can post here.
 */
export interface OperatorHttpRequest {
  readonly method: string;
  readonly path: string;
  readonly contentType?: string;
  readonly body?: string;
  /** Who the transport authenticated. */
  readonly principal: string;
}

export interface OperatorHttpResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export type OperatorApiDeps = DecisionDeps & {
  readonly operators: Registry["operators"];
  /** The stage whose state bucket `records` is. */
  readonly stage: string;
  /** The state bucket's raw bytes, to inspect a lock that is not JSON. */
  readonly bytes: RecordBytesReader;
};

const MAX_BODY_LENGTH = 8192;
const DECIDE_PATH = /^\/operator\/approvals\/([A-Za-z0-9_-]{1,64})$/;
/** `/operator/locks/<stage>/<service>`; the service is checked by the step. */
export const LOCK_PATH = /^\/operator\/locks\/([a-z]{1,16})\/([^/]{1,64})$/;

/**
 * Answers one request to the operator API.
 *
 * @example
 * ```ts
 * const response = await handleOperatorHttp({ method: "GET", path: "/operator/approvals", principal }, deps);
 * JSON.parse(response.body).approvals; // the pending approvals
 * ```
 */
export async function handleOperatorHttp(
  request: OperatorHttpRequest,
  deps: OperatorApiDeps,
): Promise<OperatorHttpResponse> {
  try {
    if (request.path === "/operator/approvals") {
      if (request.method !== "GET") return problem(405, "MethodNotAllowed", "use GET");
      return json(200, { approvals: await pendingApprovals(deps) });
    }
    const lock = LOCK_PATH.exec(request.path);
    if (lock?.[1] && lock[2]) return await lockRoute(request, lock[1], lock[2], deps);
    const match = DECIDE_PATH.exec(request.path);
    if (!match?.[1]) return problem(404, "NotFound", "unknown operator API path");
    if (request.method !== "POST") return problem(405, "MethodNotAllowed", "use POST");
    if (!isJson(request.contentType))
      return problem(415, "UnsupportedMediaType", "send the decision as application/json");
    const body = parseBody(request.body);
    // The body goes first: who decides, and on what, come from the path and the signed request.
    const outcome = await decideAsOperator(
      { ...body, approvalId: match[1], principal: request.principal },
      deps,
    );
    return json(200, { decision: outcome.decision, execution: outcome.record.execution });
  } catch (error) {
    if (error instanceof ApprovalRefused) return problem(error.status, error.title, error.message);
    if (error instanceof LockBreakRefused)
      return json(error.status, {
        error: error.title,
        status: error.status,
        message: error.message,
        ...(error.inspection ? { lock: error.inspection } : {}),
      });
    deps.log?.error("operator API failed", { error: (error as Error).name });
    return problem(
      500,
      "InternalError",
      LOCK_PATH.test(request.path)
        ? "the operator API failed; check its logs and the lock before trying again"
        : "the approval service failed; nothing was decided",
    );
  }
}

async function lockRoute(
  request: OperatorHttpRequest,
  stage: string,
  service: string,
  deps: OperatorApiDeps,
): Promise<OperatorHttpResponse> {
  if (request.method !== "GET" && request.method !== "POST")
    return problem(405, "MethodNotAllowed", "use GET to inspect, POST to break");
  if (stage !== deps.stage)
    return problem(
      404,
      "NotFound",
      `this operator endpoint serves the ${deps.stage} stage, not ${stage}: use that stage's endpoint`,
    );
  if (request.method === "GET") {
    const lock = await inspectLock({ service, principal: request.principal }, deps);
    return json(200, { lock });
  }
  if (!isJson(request.contentType))
    return problem(415, "UnsupportedMediaType", "send the request as application/json");
  const body = parseUnlockBody(request.body);
  const outcome = await breakLock({ ...body, service, principal: request.principal }, deps);
  return json(200, outcome);
}

/** Whether a Content-Type names JSON; parameters such as a charset are allowed. */
function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  // Stryker disable next-line OptionalChaining: split always returns at least one element
  return contentType.split(";")[0]?.trim().toLowerCase() === "application/json";
}

/** The body as a JSON object, or `refuse(message)` thrown, saying what is wrong with it. */
function readObject(
  text: string | undefined,
  usage: string,
  refuse: (message: string) => Error,
): Record<string, unknown> {
  if (text === undefined || text.length > MAX_BODY_LENGTH)
    throw refuse("send a JSON body of at most 8 KiB");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw refuse("the body is not JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw refuse(usage);
  return body as Record<string, unknown>;
}

/** The usage line of a refused body, naming the fields it should not have. */
function usageWith(usage: string, extra: readonly string[]): string {
  return extra.length > 0 ? `${usage}; unknown fields: ${extra.join(", ")}` : usage;
}

const UNLOCK_USAGE =
  "send { reason: <why>, etag?: <the inspected lock's ETag>, forceDamaged?: boolean }";

function parseUnlockBody(text: string | undefined): {
  reason: string;
  etag?: string | undefined;
  forceDamaged?: boolean | undefined;
} {
  const refuse = (message: string) => new LockBreakRefused(400, "Bad request", message);
  const { reason, etag, forceDamaged, ...rest } = readObject(text, UNLOCK_USAGE, refuse);
  const extra = Object.keys(rest);
  if (
    typeof reason !== "string" ||
    (etag !== undefined && typeof etag !== "string") ||
    (forceDamaged !== undefined && typeof forceDamaged !== "boolean") ||
    extra.length > 0
  )
    throw refuse(usageWith(UNLOCK_USAGE, extra));
  return { reason, etag, forceDamaged };
}

const DECIDE_USAGE = 'send { action: "approve" | "reject", as?: <approver email>, comment? }';

function parseBody(text: string | undefined): {
  action: ApprovalAction;
  as?: string | undefined;
  comment?: string | undefined;
} {
  const refuse = (message: string) => new ApprovalRefused(400, "Bad request", message);
  const { action, as, comment, ...rest } = readObject(text, DECIDE_USAGE, refuse);
  const extra = Object.keys(rest);
  if (
    (action !== "approve" && action !== "reject") ||
    (as !== undefined && typeof as !== "string") ||
    (comment !== undefined && typeof comment !== "string") ||
    extra.length > 0
  )
    throw refuse(usageWith(DECIDE_USAGE, extra));
  return { action, as, comment };
}

function json(status: number, body: unknown): OperatorHttpResponse {
  return {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
    body: JSON.stringify(body),
  };
}

function problem(status: number, error: string, message: string): OperatorHttpResponse {
  return json(status, { error, status, message });
}
