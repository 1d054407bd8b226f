import type { ObjectRef } from "@gantry/core";
import { BucketError, noSuchKey } from "./bucket-errors.ts";
import type { StoredObjectMeta } from "./object-meta.ts";

/** S3's conditional-write headers, as a write is committed under them. */
export interface CommitConditions {
  /** S3's If-None-Match: * — refuse if the key exists. */
  readonly ifNoneMatch?: "*";
  /** S3's If-Match: <etag> — refuse unless the object still has this ETag. */
  readonly ifMatch?: string;
}

/** S3's rule for an ETag condition: `*`, or one of a comma-separated list, quotes optional. */
export function etagMatches(condition: string, etag: string): boolean {
  const bare = unquote(etag);
  return condition
    .split(",")
    .map((c) => c.trim())
    .some((c) => c === "*" || unquote(c.replace(/^W\//, "")) === bare);
}

function unquote(etag: string): string {
  return etag.replace(/^"(.*)"$/, "$1");
}

/** Just the conditions of a write's options (the rest of them is not the commit's business). */
export function conditionsOf(options: CommitConditions): CommitConditions {
  return {
    ...(options.ifNoneMatch ? { ifNoneMatch: options.ifNoneMatch } : {}),
    ...(options.ifMatch !== undefined ? { ifMatch: options.ifMatch } : {}),
  };
}

/** Refuses, as S3 does, a write whose conditions the current object (or its absence) fails. */
export function checkConditions(
  ref: ObjectRef,
  current: StoredObjectMeta | undefined,
  conditions: CommitConditions,
): void {
  if (conditions.ifNoneMatch === "*" && current) {
    throw new BucketError(
      "PreconditionFailed",
      `At least one of the pre-conditions you specified did not hold: s3://${ref.bucket}/${ref.key} already exists`,
      { Condition: "If-None-Match" },
    );
  }
  if (conditions.ifMatch !== undefined) {
    // S3: If-Match on a key with no object is 404 NoSuchKey; on another ETag, 412.
    if (!current) throw noSuchKey(ref.key);
    if (!etagMatches(conditions.ifMatch, current.etag)) {
      throw new BucketError(
        "PreconditionFailed",
        `At least one of the pre-conditions you specified did not hold: s3://${ref.bucket}/${ref.key} changed`,
        { Condition: "If-Match" },
      );
    }
  }
}
