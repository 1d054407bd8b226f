import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type ApprovalAction,
  ApprovalRefused,
  decideAsOperator,
  pendingApprovals,
  STAGES,
} from "@gantry/core";
import type { LocalControlPlane, WebRoute } from "../local-control-plane.ts";

/**
 * The operator's approval API of the local control plane, for `gantry approve` / `gantry reject`
 * at a terminal. In AWS the CLI calls the same approval service directly, authorised by IAM;
 * locally everything listens on 127.0.0.1 only and `.gantry/` is the operator's own.
 *
 *     GET  /operator/approvals[?execution=<arn>]   pending approvals (JSON)
 *     POST /operator/approvals/<id>                { action, operator, comment? } -> the decision (JSON)
 *
 * Errors are JSON `{ error, status, message }` with the status the approval pages would use.
 */
export const operatorApiRoute: WebRoute = async (
  req: IncomingMessage,
  res: ServerResponse,
  local: LocalControlPlane,
) => {
  const url = new URL(req.url ?? "/", "http://local");
  if (!url.pathname.startsWith("/operator/approvals")) return false;
  try {
    if (req.method === "GET" && url.pathname === "/operator/approvals") {
      const execution = url.searchParams.get("execution");
      const pending = [];
      for (const stage of STAGES) pending.push(...(await pendingApprovals(deps(local, stage))));
      json(res, 200, {
        approvals: pending.filter((a) => !execution || a.execution.id === execution),
      });
      return true;
    }
    const match = /^\/operator\/approvals\/([A-Za-z0-9_-]{1,64})$/.exec(url.pathname);
    if (req.method === "POST" && match?.[1]) {
      const body = (await readJson(req)) as {
        action?: unknown;
        operator?: unknown;
        comment?: unknown;
      };
      if (
        (body.action !== "approve" && body.action !== "reject") ||
        typeof body.operator !== "string"
      ) {
        throw new ApprovalRefused(
          400,
          "Bad request",
          "send { action: approve|reject, operator: <approver email>, comment? }",
        );
      }
      const request = {
        approvalId: match[1],
        action: body.action as ApprovalAction,
        operator: body.operator,
        ...(typeof body.comment === "string" ? { comment: body.comment } : {}),
      };
      const stage = await stageOfApproval(local, match[1]);
      const outcome = await decideAsOperator(request, deps(local, stage));
      json(res, 200, { decision: outcome.decision, execution: outcome.record.execution });
      return true;
    }
    json(res, 404, { error: "NotFound", status: 404, message: "unknown operator API path" });
  } catch (error) {
    if (error instanceof ApprovalRefused)
      json(res, error.status, { error: error.title, status: error.status, message: error.message });
    else
      json(res, 500, {
        error: "InternalError",
        status: 500,
        message: "internal error in the local control plane",
      });
  }
  return true;
};

function deps(local: LocalControlPlane, stage: (typeof STAGES)[number]) {
  const ports = local.world.portsFor(stage, local.plane);
  return {
    records: ports.records,
    workflows: local.plane,
    secrets: ports.secrets,
    clock: ports.clock,
  };
}

async function stageOfApproval(local: LocalControlPlane, id: string) {
  for (const stage of STAGES) {
    const ports = local.world.portsFor(stage, local.plane);
    if (await ports.records.get(`approvals/${id}.json`)) return stage;
  }
  return "prod" as const;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 8192) throw new ApprovalRefused(400, "Bad request", "request too large");
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
  } catch {
    throw new ApprovalRefused(400, "Bad request", "the body is not JSON");
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res
    .writeHead(status, { "content-type": "application/json", "cache-control": "no-store" })
    .end(JSON.stringify(body));
}
