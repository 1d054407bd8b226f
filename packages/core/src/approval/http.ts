import {
  ApprovalRefused,
  type ApprovalServiceDeps,
  decideApproval,
  inspectApprovalLink,
} from "./decide.ts";
import { confirmationPage, decidedPage, notFoundPage, refusedPage } from "./pages.ts";

/**
 * The approval endpoint as plain HTTP: GET (or HEAD) of a link shows the confirmation page and
 * never decides; POST of that page's form decides. The Lambda behind the Function URL and the
 * local web server both translate their requests to this and back.
 */
export interface ApprovalHttpRequest {
  readonly method: string;
  /** The path, e.g. `/approvals/<id>`. */
  readonly path: string;
  /** The raw query string, without `?`. */
  readonly query: string;
  readonly contentType?: string;
  readonly body?: string;
}

export interface ApprovalHttpResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const MAX_QUERY_LENGTH = 2048;
const MAX_BODY_LENGTH = 8192;
const PATH = /^\/approvals\/([^/]{1,64})\/?$/;

/** Headers every approval response carries: no scripts, no framing, no referrer (the URL is a capability). */
export const APPROVAL_PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

/**
 * Answers one request to the approval endpoint.
 *
 * @example
 * ```ts
 * const response = await handleApprovalHttp({ method: "GET", path: "/approvals/abc…", query: "action=approve&…" }, deps);
 * response.status; // 200, 400, 403, 404, 409 or 410
 * ```
 */
export async function handleApprovalHttp(
  request: ApprovalHttpRequest,
  deps: ApprovalServiceDeps,
): Promise<ApprovalHttpResponse> {
  const match = PATH.exec(request.path);
  if (!match?.[1]) return respond(404, notFoundPage());
  const approvalId = match[1];
  const method = request.method.toUpperCase();
  try {
    if (method === "GET" || method === "HEAD") {
      if (request.query.length > MAX_QUERY_LENGTH)
        throw new ApprovalRefused(400, "Bad link", "This link is too long to be one of Gantry's.");
      const params = linkParameters(approvalId, new URLSearchParams(request.query));
      const view = await inspectApprovalLink(params, deps);
      const body = confirmationPage(view, request.path, {
        // Stryker disable next-line StringLiteral: unreachable; inspectApprovalLink refuses a link without a kid
        kid: params.kid ?? "",
        // Stryker disable next-line StringLiteral: unreachable; inspectApprovalLink refuses a link without a sig
        sig: params.sig ?? "",
      });
      return respond(200, method === "HEAD" ? "" : body);
    }
    if (method === "POST") {
      if (!request.contentType?.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
        throw new ApprovalRefused(
          400,
          "Bad request",
          "Decisions are sent by the confirmation page's form.",
        );
      }
      // Stryker disable next-line StringLiteral: equivalent; any short stand-in for a missing body parses to no link parameters, refused the same way
      const body = request.body ?? "";
      if (body.length > MAX_BODY_LENGTH)
        throw new ApprovalRefused(400, "Bad request", "The form is too large.");
      const form = new URLSearchParams(body);
      const outcome = await decideApproval(
        { ...linkParameters(approvalId, form), comment: form.get("comment") },
        deps,
      );
      return respond(200, decidedPage(outcome));
    }
    return {
      ...respond(405, notFoundPage()),
      headers: { ...APPROVAL_PAGE_HEADERS, allow: "GET, HEAD, POST" },
    };
  } catch (error) {
    if (error instanceof ApprovalRefused)
      return respond(error.status, method === "HEAD" ? "" : refusedPage(error));
    throw error;
  }
}

function linkParameters(approvalId: string, params: URLSearchParams) {
  for (const name of ["action", "approver", "exp", "kid", "sig"]) {
    if (params.getAll(name).length > 1)
      throw new ApprovalRefused(400, "Bad link", `The link names ${name} twice.`);
  }
  return {
    approvalId,
    action: params.get("action"),
    approver: params.get("approver"),
    exp: params.get("exp"),
    kid: params.get("kid"),
    sig: params.get("sig"),
  };
}

function respond(status: number, body: string): ApprovalHttpResponse {
  return { status, headers: { ...APPROVAL_PAGE_HEADERS }, body };
}
