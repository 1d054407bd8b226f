import type { IncomingMessage } from "node:http";
import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  checksumAlgorithmOf,
  checksumHeader,
  decodeChecksum,
  type FinishedDigests,
} from "../../world/checksums.ts";
import type { ContentHeaders } from "../../world/object-meta.ts";
import { decodeAwsChunked } from "./aws-chunked.ts";
import { S3Error } from "./errors.ts";

/** Where a path-style request points: `/<bucket>/<key>?<query>`. */
export interface S3Target {
  readonly bucket: string;
  readonly key: string;
  readonly query: URLSearchParams;
  /** `/<bucket>/<key>`, decoded: what S3 names as the error's Resource. */
  readonly resource: string;
}

/**
 * Splits a request URL path-style. The key is everything after `/<bucket>/`, percent-decoded
 * as a whole (so `%2F` is a slash, as in S3); the path is never normalized (`a/../b` is a key).
 * A percent-encoding that does not decode is InvalidURI.
 */
export function parseTarget(rawUrl: string): S3Target {
  const question = rawUrl.indexOf("?");
  let path = question < 0 ? rawUrl : rawUrl.slice(0, question);
  const query = new URLSearchParams(question < 0 ? "" : rawUrl.slice(question + 1));
  if (/^[a-z]+:\/\//i.test(path)) path = path.replace(/^[a-z]+:\/\/[^/]*/i, "");
  const rest = path.startsWith("/") ? path.slice(1) : path;
  const slash = rest.indexOf("/");
  const rawBucket = slash < 0 ? rest : rest.slice(0, slash);
  const rawKey = slash < 0 ? "" : rest.slice(slash + 1);
  const bucket = decode(rawBucket, path);
  const key = decode(rawKey, path);
  return { bucket, key, query, resource: `/${bucket}${key || slash >= 0 ? `/${key}` : ""}` };
}

function decode(text: string, path: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new S3Error("InvalidURI", "Couldn't parse the specified URI.", { URI: path });
  }
}

/**
 * A record without a prototype, for names that come from a request: `__proto__`,
 * `constructor` or `toString` are then keys like any other, never Object.prototype's.
 */
export function plainRecord(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}

/** A header's value (several values joined as HTTP joins them). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(", ") : value;
}

/** S3's limit on user metadata: names and values, 2 KB in all. */
const MAX_METADATA_BYTES = 2048;

/** `x-amz-meta-*` headers, names lower-cased (as S3 keeps them) without the prefix. */
export function userMetadata(req: IncomingMessage): Record<string, string> {
  const metadata = plainRecord();
  let bytes = 0;
  for (const [name, value] of Object.entries(req.headers)) {
    if (!name.startsWith("x-amz-meta-") || value === undefined) continue;
    const text = Array.isArray(value) ? value.join(",") : value;
    const short = name.slice("x-amz-meta-".length);
    metadata[short] = text;
    bytes += Buffer.byteLength(short) + Buffer.byteLength(text);
  }
  if (bytes > MAX_METADATA_BYTES) {
    throw new S3Error(
      "MetadataTooLarge",
      "Your metadata headers exceed the maximum allowed metadata size",
      { Size: String(bytes), MaxSizeAllowed: String(MAX_METADATA_BYTES) },
    );
  }
  return metadata;
}

/** The representation headers S3 keeps and returns with an object. */
export function contentHeaders(req: IncomingMessage): ContentHeaders {
  const encoding = (header(req, "content-encoding") ?? "")
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "" && e.toLowerCase() !== "aws-chunked")
    .join(",");
  const out: Record<string, string> = {};
  const set = (field: keyof ContentHeaders, value: string | undefined) => {
    if (value !== undefined && value !== "") out[field] = value;
  };
  set("contentType", header(req, "content-type"));
  set("contentEncoding", encoding);
  set("contentDisposition", header(req, "content-disposition"));
  set("contentLanguage", header(req, "content-language"));
  set("cacheControl", header(req, "cache-control"));
  set("expires", header(req, "expires"));
  return out;
}

/** `x-amz-tagging` (a query string of tags), validated as S3 does. */
export function tagging(value: string | undefined): Record<string, string> {
  if (value === undefined || value === "") return {};
  const tags = plainRecord();
  const params = new URLSearchParams(value);
  for (const [key, tagValue] of params) {
    if (key.length === 0 || key.length > 128 || tagValue.length > 256 || key in tags)
      throw new S3Error("InvalidTag", `The tag ${JSON.stringify(key)} is not valid`);
    tags[key] = tagValue;
  }
  if (Object.keys(tags).length > 10)
    throw new S3Error("InvalidTag", "Object tags cannot be greater than 10");
  return tags;
}

/**
 * What a request with a body says about its checksum: at most one `x-amz-checksum-<algorithm>`
 * header, or a trailer named by `x-amz-trailer` (aws-chunked bodies), plus Content-MD5. The
 * values are checked for shape here; the bytes against them once they are in ({@link verifyBody}).
 */
export interface ChecksumClaims {
  readonly algorithm?: ChecksumAlgorithm;
  /** The value from the header, when it came as a header. */
  readonly value?: string;
  /** The trailer to read the value from, when it comes after the body. */
  readonly trailer?: string;
  readonly contentMd5?: string;
}

export function checksumClaims(req: IncomingMessage): ChecksumClaims {
  const present = CHECKSUM_ALGORITHMS.filter((a) => req.headers[checksumHeader(a)] !== undefined);
  const trailerHeader = header(req, "x-amz-trailer");
  if (present.length + (trailerHeader ? 1 : 0) > 1) {
    throw new S3Error(
      "InvalidRequest",
      "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
    );
  }
  let algorithm: ChecksumAlgorithm | undefined;
  let value: string | undefined;
  let trailer: string | undefined;
  if (present[0]) {
    algorithm = present[0];
    value = header(req, checksumHeader(algorithm)) ?? "";
    if (!decodeChecksum(algorithm, value))
      throw new S3Error(
        "InvalidRequest",
        `Value for ${checksumHeader(algorithm)} header is invalid.`,
      );
  } else if (trailerHeader) {
    trailer = trailerHeader.trim().toLowerCase();
    algorithm = checksumAlgorithmOf(trailer);
    if (!algorithm || !trailer.startsWith("x-amz-checksum-"))
      throw new S3Error(
        "InvalidRequest",
        "The value specified in the x-amz-trailer header is not supported",
      );
    if (!isChunked(req))
      throw new S3Error(
        "InvalidRequest",
        "x-amz-trailer is only valid with an aws-chunked (STREAMING-...) payload",
      );
  }
  const sdkAlgorithm = header(req, "x-amz-sdk-checksum-algorithm");
  if (sdkAlgorithm !== undefined) {
    const named = checksumAlgorithmOf(sdkAlgorithm);
    if (!named)
      throw new S3Error(
        "InvalidRequest",
        "Value for x-amz-sdk-checksum-algorithm header is invalid.",
      );
    if (!algorithm)
      throw new S3Error(
        "InvalidRequest",
        "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.",
      );
    if (named !== algorithm)
      throw new S3Error(
        "InvalidRequest",
        `Value for x-amz-sdk-checksum-algorithm header (${named}) does not match the checksum header (${algorithm}).`,
      );
  }
  const contentMd5 = header(req, "content-md5");
  if (contentMd5 !== undefined) {
    const digest = Buffer.from(contentMd5, "base64");
    if (digest.length !== 16 || digest.toString("base64") !== contentMd5.trim())
      throw new S3Error("InvalidDigest", "The Content-MD5 you specified is not valid.", {
        "Content-MD5": contentMd5,
      });
  }
  return {
    ...(algorithm ? { algorithm } : {}),
    ...(value !== undefined ? { value } : {}),
    ...(trailer ? { trailer } : {}),
    ...(contentMd5 !== undefined ? { contentMd5: contentMd5.trim() } : {}),
  };
}

const STREAMING = new Set([
  "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
  "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
  "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
  "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
  "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
]);

function isChunked(req: IncomingMessage): boolean {
  const encoding = (header(req, "content-encoding") ?? "").toLowerCase();
  const sha = header(req, "x-amz-content-sha256") ?? "";
  return encoding.split(",").some((e) => e.trim() === "aws-chunked") || STREAMING.has(sha);
}

/** A request's payload, decoded (aws-chunked) and bounded, with what it claims about itself. */
export interface RequestBody {
  readonly source: AsyncIterable<Uint8Array>;
  /** Trailing headers of an aws-chunked body, once it has been read. */
  readonly trailers: Record<string, string>;
  /** The payload length the request declared (Content-Length, or x-amz-decoded-content-length). */
  readonly declaredLength?: number;
  /** A hex SHA-256 of the payload the request was signed with (x-amz-content-sha256). */
  readonly contentSha256?: string;
}

/**
 * The request's payload as a stream. A declared length over `maxBytes` is EntityTooLarge before
 * a byte is read (the rest of the body is read and dropped by the server, so the client gets
 * the answer, not a reset); an undeclared one is counted as it streams.
 */
export function requestBody(
  req: IncomingMessage,
  maxBytes: number,
  options: { readonly requireLength?: boolean } = {},
): RequestBody {
  const chunked = isChunked(req);
  const sha = header(req, "x-amz-content-sha256");
  let contentSha256: string | undefined;
  if (sha !== undefined && sha !== "UNSIGNED-PAYLOAD" && !STREAMING.has(sha)) {
    if (!/^[0-9a-fA-F]{64}$/.test(sha) || chunked)
      throw new S3Error(
        "InvalidArgument",
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
        { ArgumentName: "x-amz-content-sha256", ArgumentValue: sha },
      );
    contentSha256 = sha.toLowerCase();
  }
  const lengthHeader = chunked
    ? header(req, "x-amz-decoded-content-length")
    : header(req, "content-length");
  let declaredLength: number | undefined;
  if (lengthHeader !== undefined) {
    if (!/^\d+$/.test(lengthHeader.trim()))
      throw new S3Error("InvalidArgument", `Invalid length ${JSON.stringify(lengthHeader)}`);
    declaredLength = Number(lengthHeader.trim());
  } else if (options.requireLength && (chunked || header(req, "transfer-encoding") === undefined)) {
    throw new S3Error("MissingContentLength", "You must provide the Content-Length HTTP header.");
  }
  if (declaredLength !== undefined && declaredLength > maxBytes) {
    throw new S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", {
      ProposedSize: String(declaredLength),
      MaxSizeAllowed: String(maxBytes),
    });
  }
  const trailers = plainRecord();
  return {
    source: chunked ? decodeAwsChunked(req, trailers) : req,
    trailers,
    ...(declaredLength !== undefined ? { declaredLength } : {}),
    ...(contentSha256 ? { contentSha256 } : {}),
  };
}

/**
 * Checks a body, once read and hashed, against everything the request said about it: its
 * length, its signed SHA-256, Content-MD5 and the x-amz-checksum header or trailer.
 */
export function verifyBody(
  body: Pick<RequestBody, "trailers" | "declaredLength" | "contentSha256">,
  claims: ChecksumClaims,
  digests: FinishedDigests,
): void {
  if (body.declaredLength !== undefined && digests.size !== body.declaredLength) {
    throw new S3Error(
      "IncompleteBody",
      "You did not provide the number of bytes specified by the Content-Length HTTP header",
    );
  }
  if (body.contentSha256 && body.contentSha256 !== digests.sha256Hex) {
    throw new S3Error(
      "XAmzContentSHA256Mismatch",
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
      {
        ClientComputedContentSHA256: body.contentSha256,
        S3ComputedContentSHA256: digests.sha256Hex,
      },
    );
  }
  if (claims.contentMd5 !== undefined && claims.contentMd5 !== digests.md5Base64) {
    throw new S3Error(
      "BadDigest",
      "The Content-MD5 you specified did not match what we received.",
      { ExpectedDigest: claims.contentMd5, CalculatedDigest: digests.md5Base64 },
    );
  }
  if (!claims.algorithm) return;
  let stated = claims.value;
  if (claims.trailer) {
    stated = body.trailers[claims.trailer];
    if (stated === undefined)
      throw new S3Error(
        "InvalidRequest",
        `The ${claims.trailer} trailer named by x-amz-trailer was not sent.`,
      );
    if (!decodeChecksum(claims.algorithm, stated))
      throw new S3Error(
        "InvalidRequest",
        `Value for ${claims.trailer} trailing header is invalid.`,
      );
  }
  if (stated !== digests.checksums[claims.algorithm]) {
    throw new S3Error(
      "BadDigest",
      `The ${claims.algorithm} you specified did not match the calculated checksum.`,
    );
  }
}
