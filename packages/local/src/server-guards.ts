import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { logInternalError } from "./control-plane/errors.ts";
import { sendS3InternalError } from "./control-plane/s3-http.ts";
import { sendSfnError } from "./control-plane/sfn-http.ts";
import { clientGone } from "./http-body.ts";

/**
 * What keeps an exception of an HTTP handler, or a client speaking bad HTTP, from reaching the
 * process: every failure is answered in the shape the client expects (Step Functions' JSON, S3's
 * XML, plain text on the web server) and logged without the request's contents.
 */
export type ServerKind = "aws" | "web";

/**
 * Answers malformed HTTP (`clientError`) with a 400 (431 for oversized headers, 408 for a
 * request that took too long) and closes the connection; logs server errors after start-up.
 */
export function guardServer(server: Server, kind: ServerKind): void {
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || error.code === "ECONNRESET") {
      socket.destroy();
      return;
    }
    const [status, reason] =
      error.code === "HPE_HEADER_OVERFLOW"
        ? [431, "Request Header Fields Too Large"]
        : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? [408, "Request Timeout"]
          : [400, "Bad Request"];
    const body =
      kind === "aws"
        ? JSON.stringify({
            __type: "MalformedHttpRequestException",
            message: `the request is not valid HTTP/1.1 (${error.code ?? "parse error"})`,
          })
        : `${reason}: the request is not valid HTTP/1.1\n`;
    const type = kind === "aws" ? "application/json" : "text/plain; charset=utf-8";
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  server.on("error", (error) => logInternalError(`the ${kind} server`, error));
}

/**
 * Answers a request whose handler threw: Step Functions' InternalFailure (JSON) for a request
 * with `X-Amz-Target`, S3's InternalError (XML) for any other request to the AWS endpoint, and
 * a plain-text 500 on the web server. Nothing is sent to a client that is gone.
 */
export function answerInternalError(
  kind: ServerKind,
  req: IncomingMessage,
  res: ServerResponse,
  error: unknown,
): void {
  if (clientGone(error, res)) return;
  logInternalError(
    `${kind === "aws" ? "the AWS endpoint" : "the web server"} (${req.method})`,
    error,
  );
  try {
    if (res.headersSent) {
      res.destroy();
    } else if (kind === "web") {
      res
        .writeHead(500, { "content-type": "text/plain; charset=utf-8" })
        .end("Internal error: see the control plane's log\n");
    } else if (req.headers["x-amz-target"] !== undefined) {
      sendSfnError(res, error);
    } else {
      sendS3InternalError(res, (req.url ?? "/").split("?")[0] ?? "/");
    }
  } catch {
    res.destroy();
  }
}
