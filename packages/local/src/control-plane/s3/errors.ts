import { randomBytes } from "node:crypto";
import { BucketError } from "../../world/bucket-errors.ts";
import { escapeXml } from "./xml.ts";

/**
 * S3's errors: the HTTP status and code S3 answers with, in S3's XML shape:
 *
 *     <Error><Code>NoSuchKey</Code><Message>...</Message><Key>...</Key>
 *       <Resource>/bucket/key</Resource><RequestId>...</RequestId><HostId>...</HostId></Error>
 *
 * SDKs read the code to choose the exception they raise, so the codes are S3's own.
 */
const ERRORS: Record<string, { status: number; message: string }> = {
  AccessControlListNotSupported: { status: 400, message: "The bucket does not allow ACLs" },
  AccessDenied: { status: 403, message: "Access Denied" },
  BadDigest: {
    status: 400,
    message: "The Content-MD5 you specified did not match what we received.",
  },
  BucketAlreadyExists: {
    status: 409,
    message:
      "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
  },
  BucketAlreadyOwnedByYou: {
    status: 409,
    message: "Your previous request to create the named bucket succeeded and you already own it.",
  },
  EntityTooLarge: {
    status: 400,
    message: "Your proposed upload exceeds the maximum allowed size",
  },
  EntityTooSmall: {
    status: 400,
    message: "Your proposed upload is smaller than the minimum allowed size",
  },
  IncompleteBody: {
    status: 400,
    message: "You did not provide the number of bytes specified by the Content-Length HTTP header",
  },
  InternalError: {
    status: 500,
    message: "We encountered an internal error. Please try again.",
  },
  InvalidArgument: { status: 400, message: "Invalid Argument" },
  InvalidDigest: { status: 400, message: "The Content-MD5 you specified is not valid." },
  InvalidKey: { status: 400, message: "Invalid key" },
  InvalidPart: {
    status: 400,
    message:
      "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
  },
  InvalidPartNumber: { status: 416, message: "The requested partnumber is not satisfiable" },
  InvalidPartOrder: {
    status: 400,
    message: "The list of parts was not in ascending order. Parts must be ordered by part number.",
  },
  InvalidRange: { status: 416, message: "The requested range is not satisfiable" },
  InvalidRequest: { status: 400, message: "Invalid Request" },
  InvalidURI: { status: 400, message: "Couldn't parse the specified URI." },
  KeyTooLongError: { status: 400, message: "Your key is too long" },
  MalformedXML: {
    status: 400,
    message:
      "The XML you provided was not well-formed or did not validate against our published schema",
  },
  MetadataTooLarge: {
    status: 400,
    message: "Your metadata headers exceed the maximum allowed metadata size",
  },
  MethodNotAllowed: {
    status: 405,
    message: "The specified method is not allowed against this resource.",
  },
  MissingContentLength: {
    status: 411,
    message: "You must provide the Content-Length HTTP header.",
  },
  NoSuchBucket: { status: 404, message: "The specified bucket does not exist" },
  NoSuchKey: { status: 404, message: "The specified key does not exist." },
  NoSuchUpload: {
    status: 404,
    message:
      "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
  },
  NoSuchVersion: { status: 404, message: "The specified version does not exist." },
  NotImplemented: {
    status: 501,
    message: "A header or query you provided implies functionality that is not implemented.",
  },
  PreconditionFailed: {
    status: 412,
    message: "At least one of the pre-conditions you specified did not hold",
  },
  XAmzContentSHA256Mismatch: {
    status: 400,
    message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
  },
};

export class S3Error extends Error {
  readonly status: number;
  readonly code: string;
  /** Extra elements S3 adds to this error (Key, BucketName, UploadId, Condition, ...). */
  readonly details: Readonly<Record<string, string>>;
  constructor(code: string, message?: string, details: Record<string, string> = {}) {
    const known = ERRORS[code];
    super(message ?? known?.message ?? code);
    this.name = code;
    this.code = code;
    this.status = known?.status ?? 400;
    this.details = details;
  }
}

/** Anything thrown while answering, as the S3 error to send. */
export function toS3Error(error: unknown): S3Error {
  if (error instanceof S3Error) return error;
  if (error instanceof BucketError) {
    if (error.name === "InvalidKey") return new S3Error("InvalidArgument", error.message);
    return new S3Error(error.name, error.message, { ...error.details });
  }
  return new S3Error("InternalError");
}

/** A request's ids: `x-amz-request-id` (16 hex) and `x-amz-id-2` (S3's HostId). */
export function requestIds(): { requestId: string; hostId: string } {
  return {
    requestId: randomBytes(8).toString("hex").toUpperCase(),
    hostId: randomBytes(48).toString("base64"),
  };
}

export function errorXml(
  error: S3Error,
  resource: string,
  ids: { requestId: string; hostId: string },
): string {
  const details = Object.entries(error.details)
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join("");
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message>${details}<Resource>${escapeXml(resource)}</Resource><RequestId>${ids.requestId}</RequestId><HostId>${ids.hostId}</HostId></Error>`;
}
