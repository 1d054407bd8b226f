import { etagMatches } from "../../world/object-conditions.ts";

/**
 * S3's conditional requests on an object (GetObject, HeadObject, and the copy source of
 * CopyObject / UploadPartCopy), evaluated in S3's order:
 *
 * 1. If-Match that fails: 412. (When it holds, If-Unmodified-Since is not looked at: S3 sends
 *    the object even if that one would fail.)
 * 2. If-Unmodified-Since that fails: 412.
 * 3. If-None-Match that fails (the ETag matches): 304 for a read, 412 for a copy source. (When
 *    it holds, If-Modified-Since is not looked at.)
 * 4. If-Modified-Since that fails (not modified since): 304 for a read, 412 for a copy source.
 *
 * Dates are HTTP dates compared at S3's one-second resolution; an unparseable date is ignored,
 * as is an If-Modified-Since in the future.
 */
export interface ConditionHeaders {
  readonly ifMatch?: string | undefined;
  readonly ifNoneMatch?: string | undefined;
  readonly ifModifiedSince?: string | undefined;
  readonly ifUnmodifiedSince?: string | undefined;
}

export type ConditionResult =
  | { readonly status: 200 }
  | { readonly status: 304 | 412; readonly condition: string };

export function evaluateConditions(
  headers: ConditionHeaders,
  object: { readonly etag: string; readonly lastModified: string },
  options: { readonly copySource?: boolean; readonly now?: number } = {},
): ConditionResult {
  const names = options.copySource
    ? {
        ifMatch: "x-amz-copy-source-If-Match",
        ifUnmodifiedSince: "x-amz-copy-source-If-Unmodified-Since",
        ifNoneMatch: "x-amz-copy-source-If-None-Match",
        ifModifiedSince: "x-amz-copy-source-If-Modified-Since",
      }
    : {
        ifMatch: "If-Match",
        ifUnmodifiedSince: "If-Unmodified-Since",
        ifNoneMatch: "If-None-Match",
        ifModifiedSince: "If-Modified-Since",
      };
  const notModified = options.copySource ? 412 : 304;
  const modified = seconds(Date.parse(object.lastModified));
  if (headers.ifMatch !== undefined) {
    if (!etagMatches(headers.ifMatch, object.etag))
      return { status: 412, condition: names.ifMatch };
  } else {
    const since = httpDate(headers.ifUnmodifiedSince);
    if (since !== undefined && modified > since)
      return { status: 412, condition: names.ifUnmodifiedSince };
  }
  if (headers.ifNoneMatch !== undefined) {
    if (etagMatches(headers.ifNoneMatch, object.etag))
      return { status: notModified, condition: names.ifNoneMatch };
  } else {
    const since = httpDate(headers.ifModifiedSince);
    const now = seconds(options.now ?? Date.now());
    if (since !== undefined && since <= now && modified <= since)
      return { status: notModified, condition: names.ifModifiedSince };
  }
  return { status: 200 };
}

function httpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : seconds(parsed);
}

function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}
