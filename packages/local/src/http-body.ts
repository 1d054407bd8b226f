import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * Request bodies with a size limit, read so that a client sending too much still sees the
 * answer: the rest of an oversized body is read and thrown away before the caller answers
 * (closing a socket with unread bytes in it makes the kernel send a TCP reset, and the client
 * reports ECONNRESET instead of the 413). Past {@link DRAIN_LIMIT_BYTES} of discarded bytes
 * the connection is given up on.
 */
export const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

export type LimitedBody =
  | { readonly ok: true; readonly body: Buffer }
  | { readonly ok: false; readonly tooLarge: true; readonly bytes: number };

/** The client went away in the middle of its request: there is nobody left to answer. */
export class RequestAborted extends Error {
  override readonly name = "RequestAborted";
}

/**
 * Reads the whole body if it is at most `limit` bytes; otherwise reads and discards the rest
 * (up to {@link DRAIN_LIMIT_BYTES}) and says it was too large. A client that aborts mid-body
 * rejects with {@link RequestAborted}.
 *
 * @example
 * ```ts
 * const read = await readLimitedBody(req, 1024 * 1024);
 * if (!read.ok) return answer413(res);
 * const text = read.body.toString("utf8");
 * ```
 */
export async function readLimitedBody(req: IncomingMessage, limit: number): Promise<LimitedBody> {
  const declared = Number(req.headers["content-length"]);
  const chunks: Buffer[] = [];
  let bytes = 0;
  let tooLarge = Number.isFinite(declared) && declared > limit;
  try {
    for await (const chunk of req) {
      const buffer = chunk as Buffer;
      bytes += buffer.length;
      if (!tooLarge && bytes > limit) {
        tooLarge = true;
        chunks.length = 0;
      }
      if (tooLarge) {
        // Leaving the loop destroys the request and its socket: the client gets a reset.
        if (bytes > DRAIN_LIMIT_BYTES) break;
        continue;
      }
      chunks.push(buffer);
    }
  } catch (error) {
    throw new RequestAborted(error instanceof Error ? error.message : "request aborted");
  }
  if (tooLarge) return { ok: false, tooLarge: true, bytes };
  if (req.readableAborted || (req as { aborted?: boolean }).aborted)
    throw new RequestAborted("request aborted");
  return { ok: true, body: Buffer.concat(chunks) };
}

/**
 * True when answering is pointless: the client aborted its request or the connection is gone.
 * (A request destroyed after a parse error may still be answered: its response keeps the
 * socket.)
 */
export function clientGone(error: unknown, res: ServerResponse): boolean {
  return error instanceof RequestAborted || !res.socket || res.socket.destroyed;
}
