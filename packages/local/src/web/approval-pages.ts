import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Logger } from "@aws-lambda-powertools/logger";
import { isApprovalId, recordKeys, STAGES, type Stage } from "@gantry/core";
import * as approvalHttp from "@gantry/functions/approval-http";
import type { Context, LambdaFunctionURLEvent } from "aws-lambda";
import { readLimitedBody } from "../http-body.ts";
import type { LocalControlPlane, WebRoute } from "../local-control-plane.ts";
import { stateBucketOf } from "../world/local-world.ts";

/**
 * /approvals/<id>: the approval pages, served by the same Lambda handler as in AWS
 * (functions/approval-http.ts), given a Function URL event built from the local request. Each
 * stage keeps its approvals in its own state bucket; the approval's id says which.
 */
const MAX_BODY = 16 * 1024;

/** The approval handler's answers are always structured (status, headers, body). */
type Handler = (
  event: LambdaFunctionURLEvent,
  context: Context,
) => Promise<{ statusCode: number; headers: Record<string, string>; body: string }>;

export function approvalRoute(): WebRoute {
  const handlers = new Map<Stage, Handler>();
  const handlerFor = (stage: Stage, local: LocalControlPlane): Handler => {
    let handler = handlers.get(stage);
    if (!handler) {
      const ports = local.world.portsFor(stage, local.stepFunctions);
      handler = approvalHttp.createHandler({
        records: ports.records,
        workflows: local.stepFunctions,
        secrets: ports.secrets,
        decisionKeys: ports.decisionKeys,
        clock: ports.clock,
        log: new Logger({
          serviceName: "gantry",
          logLevel: "WARN",
          persistentKeys: { function: "approval-http" },
        }),
      }) as unknown as Handler;
      handlers.set(stage, handler);
    }
    return handler;
  };

  return async (req: IncomingMessage, res: ServerResponse, local: LocalControlPlane) => {
    const url = new URL(req.url ?? "/", "http://local");
    if (!url.pathname.startsWith("/approvals/")) return false;
    const id = url.pathname.split("/")[2] ?? "";
    const stage = (await stageOf(id, local)) ?? "prod";
    let body: string;
    try {
      body = await readBody(req);
    } catch {
      res
        .writeHead(413, { "content-type": "text/plain; charset=utf-8" })
        .end("Request too large\n");
      return true;
    }
    const result = await handlerFor(stage, local)(
      functionUrlEvent(req, url, body),
      lambdaContext(),
    );
    res.writeHead(result.statusCode, result.headers);
    res.end(result.body);
    return true;
  };
}

/** The stage whose state bucket holds this approval. */
async function stageOf(id: string, local: LocalControlPlane): Promise<Stage | undefined> {
  if (!isApprovalId(id)) return undefined;
  for (const stage of STAGES) {
    const head = await local.world.buckets.head({
      bucket: stateBucketOf(stage),
      key: recordKeys.approval(id),
    });
    if (head) return stage;
  }
  return undefined;
}

function functionUrlEvent(req: IncomingMessage, url: URL, body: string): LambdaFunctionURLEvent {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === "string") headers[name] = value;
  }
  const now = new Date();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(url.search ? { queryStringParameters: Object.fromEntries(url.searchParams) } : {}),
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      domainName: headers.host ?? "127.0.0.1",
      domainPrefix: "local",
      http: {
        method: req.method ?? "GET",
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body ? { body } : {}),
    isBase64Encoded: false,
  };
}

function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: "gantry-local-approval-http",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:gantry-local-approval-http",
    memoryLimitInMB: "256",
    awsRequestId: randomUUID(),
    logGroupName: "/aws/lambda/gantry-local-approval-http",
    logStreamName: "local",
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  // Reads an oversized body to its end (discarding it), so the client sees the 413.
  const read = await readLimitedBody(req, MAX_BODY);
  if (!read.ok) throw new Error("too large");
  return read.body.toString("utf8");
}
