/** The S3 error names the local buckets refuse with (what the S3 API answers, as its `Code`). */
export type BucketErrorName =
  | "NoSuchBucket"
  | "NoSuchKey"
  | "NoSuchVersion"
  | "NoSuchUpload"
  | "PreconditionFailed"
  | "BadDigest"
  | "InvalidDigest"
  | "InvalidKey"
  | "KeyTooLongError"
  | "EntityTooLarge"
  | "EntityTooSmall"
  | "InvalidPart"
  | "InvalidPartOrder"
  | "InvalidRequest"
  | "InvalidArgument"
  | "MalformedXML"
  | "XAmzContentSHA256Mismatch"
  | "IncompleteBody"
  | "NotImplemented";

/** Why a bucket operation was refused, with the S3 error name. */
export class BucketError extends Error {
  readonly details: Readonly<Record<string, string>>;
  constructor(name: BucketErrorName, message: string, details: Record<string, string> = {}) {
    super(message);
    this.name = name;
    this.details = details;
  }
}

// The refusals several operations share, worded as S3 words them.

export function noSuchBucket(bucket: string): BucketError {
  return new BucketError("NoSuchBucket", "The specified bucket does not exist", {
    BucketName: bucket,
  });
}

export function noSuchKey(key: string): BucketError {
  return new BucketError("NoSuchKey", "The specified key does not exist.", { Key: key });
}

export function noSuchVersion(key: string, versionId: string): BucketError {
  return new BucketError("NoSuchVersion", "The specified version does not exist.", {
    Key: key,
    VersionId: versionId,
  });
}
