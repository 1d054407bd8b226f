import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  handleOperatorHttp,
  isApprovalId,
  LOCAL_OPERATOR,
  type OperatorApiDeps,
  type RecordStore,
  recordKeys,
  STAGES,
  type Stage,
} from "@gantry/core";
import type { LocalControlPlane, WebRoute } from "../local-control-plane.ts";
import { isOwnOrigin } from "./loopback.ts";

/**
 * The local control plane's operator API for `gantry approve` / `gantry reject`: the same
 * handler as the AWS operator function (`handleOperatorHttp`), behind a local proof of identity
 * instead of IAM. A request must
 *
 * - come from this machine's user: `Authorization: Bearer <secret>`, the secret being
 *   `<GANTRY_HOME>/operator-secret` (0600, created at start); the CLI reads and sends it;
 * - not come from a web page: an `Origin` other than this server's own, or a `Sec-Fetch-Site`
 *   other than same-origin, is refused (403); the Host check every web request passes first
 *   refuses DNS rebinding; the core refuses any body that is not `application/json` (415), so
 *   no form or `text/plain` request can post a decision.
 *
 * The identity it proves is {@link LOCAL_OPERATOR}; the registry's `operators` map it to the
 * approvers marked `local`.
 *
 *     GET  /operator/approvals         pending approvals (JSON)
 *     POST /operator/approvals/<id>    { action, as?, comment? } -> the decision (JSON)
 */
export const operatorApiRoute: WebRoute = async (
  req: IncomingMessage,
  res: ServerResponse,
  local: LocalControlPlane,
) => {
  const url = new URL(req.url ?? "/", "http://local");
  if (url.pathname !== "/operator/approvals" && !url.pathname.startsWith("/operator/approvals/"))
    return false;
  const refusal = refuse(req, local);
  if (refusal) {
    // Drain nothing: a refused request's body is never read.
    json(res, refusal.status, {
      error: refusal.error,
      status: refusal.status,
      message: refusal.message,
    });
    return true;
  }
  let body: string | undefined;
  try {
    body = req.method === "POST" ? await readBody(req) : undefined;
  } catch {
    json(res, 413, { error: "TooLarge", status: 413, message: "request too large" });
    return true;
  }
  const id = url.pathname.split("/")[3] ?? "";
  const stage = (await stageOfApproval(local, id)) ?? "prod";
  const contentType = req.headers["content-type"];
  const response = await handleOperatorHttp(
    {
      method: req.method ?? "GET",
      path: url.pathname,
      principal: LOCAL_OPERATOR,
      ...(contentType ? { contentType } : {}),
      ...(body !== undefined ? { body } : {}),
    },
    url.pathname === "/operator/approvals" ? allStages(local) : deps(local, stage),
  );
  res.writeHead(response.status, response.headers).end(response.body);
  return true;
};

/** Why a request may not use the operator API, or undefined when it may. */
function refuse(
  req: IncomingMessage,
  local: LocalControlPlane,
): { status: 401 | 403; error: string; message: string } | undefined {
  const origin = req.headers.origin;
  if (origin !== undefined && !isOwnOrigin(origin, local.webEndpoint)) {
    return { status: 403, error: "Forbidden", message: "cross-origin requests are refused" };
  }
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    return { status: 403, error: "Forbidden", message: "requests from web pages are refused" };
  }
  const given = /^Bearer ([A-Za-z0-9_-]{16,128})$/.exec(req.headers.authorization ?? "")?.[1];
  if (!given) {
    return {
      status: 401,
      error: "Unauthenticated",
      message: "send Authorization: Bearer <the secret in GANTRY_HOME/operator-secret>",
    };
  }
  const expected = Buffer.from(local.operatorSecret);
  const offered = Buffer.from(given);
  if (offered.length !== expected.length || !timingSafeEqual(offered, expected)) {
    return {
      status: 403,
      error: "Forbidden",
      message: "that is not this control plane's operator secret",
    };
  }
  return undefined;
}

function deps(local: LocalControlPlane, stage: Stage): OperatorApiDeps {
  const ports = local.world.portsFor(stage, local.stepFunctions);
  return {
    records: ports.records,
    workflows: local.stepFunctions,
    decisionKeys: ports.decisionKeys,
    clock: ports.clock,
    operators: local.world.registry.operators,
  };
}

/** Both stages' pending approvals: a read-only view over both state buckets. */
function allStages(local: LocalControlPlane): OperatorApiDeps {
  const stores = STAGES.map((stage) => local.world.portsFor(stage, local.stepFunctions).records);
  const readOnly = () => Promise.reject(new Error("listing approvals writes nothing"));
  const records: RecordStore = {
    list: async (prefix) => (await Promise.all(stores.map((s) => s.list(prefix)))).flat(),
    get: async <T>(key: string) => {
      for (const store of stores) {
        const found = await store.get<T>(key);
        if (found) return found;
      }
      return undefined;
    },
    create: readOnly,
    replace: readOnly,
    put: readOnly,
    delete: readOnly,
  };
  return { ...deps(local, "prod"), records };
}

async function stageOfApproval(local: LocalControlPlane, id: string): Promise<Stage | undefined> {
  if (!isApprovalId(id)) return undefined;
  for (const stage of STAGES) {
    const ports = local.world.portsFor(stage, local.stepFunctions);
    if (await ports.records.get(recordKeys.approval(id))) return stage;
  }
  return undefined;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 16 * 1024) throw new RangeError("request too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res
    .writeHead(status, { "content-type": "application/json", "cache-control": "no-store" })
    .end(JSON.stringify(body));
}
