import { S3Error } from "./errors.ts";

/**
 * Decodes an `aws-chunked` body as it streams in (`Content-Encoding: aws-chunked`, what the
 * SDKs send with `x-amz-content-sha256: STREAMING-...`):
 *
 *     <hex size>[;chunk-signature=<sig>]\r\n<bytes>\r\n   ...repeated
 *     0[;chunk-signature=<sig>]\r\n
 *     x-amz-checksum-crc32:<base64>\r\n                     trailers (x-amz-trailer), if any
 *     [x-amz-trailer-signature:<sig>\r\n]
 *     \r\n
 *
 * Yields the payload bytes; fills `trailers` (lower-case names) once the body has ended. Chunk
 * signatures are not verified (the local endpoint does not check SigV4). A body that ends
 * early or breaks the framing is an S3 error (IncompleteBody / InvalidRequest).
 */
const MAX_LINE = 4096;
const MAX_TRAILERS = 16 * 1024;

export async function* decodeAwsChunked(
  source: AsyncIterable<Uint8Array>,
  trailers: Record<string, string>,
): AsyncGenerator<Buffer> {
  let pending: Buffer = Buffer.alloc(0);
  let state: "size" | "data" | "data-end" | "trailers" | "done" = "size";
  let remaining = 0;

  for await (const input of source) {
    const bytes = Buffer.isBuffer(input)
      ? input
      : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    pending = pending.length === 0 ? bytes : Buffer.concat([pending, bytes]);
    for (;;) {
      if (state === "size") {
        const end = pending.indexOf("\r\n");
        if (end < 0) {
          if (pending.length > MAX_LINE) throw framing("a chunk header line is too long");
          break;
        }
        remaining = chunkSize(pending.subarray(0, end).toString("latin1"));
        pending = pending.subarray(end + 2);
        state = remaining === 0 ? "trailers" : "data";
      } else if (state === "data") {
        if (pending.length === 0) break;
        const take = Math.min(remaining, pending.length);
        yield pending.subarray(0, take);
        pending = pending.subarray(take);
        remaining -= take;
        if (remaining === 0) state = "data-end";
        else break;
      } else if (state === "data-end") {
        if (pending.length < 2) break;
        if (pending[0] !== 0x0d || pending[1] !== 0x0a)
          throw framing("a chunk does not end with CRLF where its size says");
        pending = pending.subarray(2);
        state = "size";
      } else if (state === "trailers") {
        if (pending.length > MAX_TRAILERS) throw framing("the trailers are too long");
        const text = pending.toString("latin1");
        // The trailer section ends with an empty line: right away ("\r\n"), or after the trailers.
        if (text.startsWith("\r\n")) {
          state = "done";
          pending = Buffer.alloc(0);
          break;
        }
        const end = text.indexOf("\r\n\r\n");
        if (end < 0) break;
        readTrailers(text.slice(0, end), trailers);
        state = "done";
        pending = Buffer.alloc(0);
        break;
      } else {
        // Bytes after the final empty line are ignored.
        pending = Buffer.alloc(0);
        break;
      }
    }
  }
  if (state === "trailers") {
    // Some clients end the body right after the last trailer line, without the empty line.
    const text = pending.toString("latin1");
    if (text.length > 0 && !text.endsWith("\r\n"))
      throw new S3Error("IncompleteBody", "The request body terminated unexpectedly");
    readTrailers(text, trailers);
    state = "done";
  }
  if (state !== "done")
    throw new S3Error("IncompleteBody", "The request body terminated unexpectedly");
}

function chunkSize(line: string): number {
  const hex = (line.split(";")[0] ?? "").trim();
  if (!/^[0-9A-Fa-f]{1,12}$/.test(hex)) throw framing(`bad chunk size ${JSON.stringify(hex)}`);
  return Number.parseInt(hex, 16);
}

function readTrailers(text: string, trailers: Record<string, string>): void {
  for (const line of text.split("\r\n")) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0) throw framing("a trailer line without a name");
    trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
}

function framing(detail: string): S3Error {
  return new S3Error("InvalidRequest", `Malformed aws-chunked body: ${detail}`);
}
