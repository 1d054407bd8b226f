import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  handleOperatorHttp,
  isApprovalId,
  LOCAL_OPERATOR,
  LOCK_PATH,
  type OperatorApiDeps,
  type RecordBytesReader,
  type RecordStore,
  recordKeys,
  STAGES,
  type Stage,
} from "@gantry/core";
import { readLimitedBody } from "../http-body.ts";
import type { LocalControlPlane, WebRoute } from "../local-control-plane.ts";
import { stateBucketOf } from "../world/local-world.ts";
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
 *     GET  /operator/locks/<stage>/<service>   the lock, inspected (`gantry unlock`)
 *     POST /operator/locks/<stage>/<service>   { reason, etag?, forceDamaged? } -> broken, audited
 */
export const operatorApiRoute: WebRoute = async (
  req: IncomingMessage,
  res: ServerResponse,
  local: LocalControlPlane,
) => {
  const url = new URL(req.url ?? "/", "http://local");
  if (
    url.pathname !== "/operator/approvals" &&
    !url.pathname.startsWith("/operator/approvals/") &&
    !url.pathname.startsWith("/operator/locks/")
  )
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
  const lock = LOCK_PATH.exec(url.pathname);
  const id = url.pathname.split("/")[3] ?? "";
  const stage = lock
    ? (STAGES as readonly string[]).includes(lock[1] ?? "")
      ? (lock[1] as Stage)
      : "prod" // the core refuses a stage this deps does not serve
    : ((await stageOfApproval(local, id)) ?? "prod");
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
    bytes: stateBucketBytes(local, stage),
    stage,
    workflows: local.stepFunctions,
    decisionKeys: ports.decisionKeys,
    clock: ports.clock,
    operators: local.world.registry.operators,
  };
}

/** The stage's state bucket, read as bytes (a damaged lock is not JSON). */
function stateBucketBytes(local: LocalControlPlane, stage: Stage): RecordBytesReader {
  const bucket = stateBucketOf(stage);
  return {
    async getBytes(key) {
      const object = await local.world.buckets.get({ bucket, key });
      return object && { bytes: object.bytes, etag: object.meta.etag };
    },
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
  // Reads an oversized body to its end (discarding it), so the client sees the 413.
  const read = await readLimitedBody(req, 16 * 1024);
  if (!read.ok) throw new RangeError("request too large");
  return read.body.toString("utf8");
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res
    .writeHead(status, { "content-type": "application/json", "cache-control": "no-store" })
    .end(JSON.stringify(body));
}
