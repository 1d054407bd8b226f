import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { SfnApiError } from "./errors.ts";

/**
 * Step Functions' paging: `maxResults` from 0 to 1,000 (0 or absent: the default page of 100;
 * more is a ValidationException) and an opaque `nextToken` that only continues the listing it
 * came from (anything else is InvalidToken). Tokens are signed with a key of this process, so
 * one that was not issued here (forged, edited, or from before a restart) is InvalidToken too,
 * as AWS's expire.
 */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** The page size a request asks for, or ValidationException. */
export function validateMaxResults(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_PAGE_SIZE;
  if (typeof value !== "number" || !Number.isInteger(value))
    throw new SfnApiError(
      "ValidationException",
      `1 validation error detected: Value '${String(value)}' at 'maxResults' failed to satisfy constraint: Member must be an integer`,
    );
  if (value > MAX_PAGE_SIZE)
    throw new SfnApiError(
      "ValidationException",
      `1 validation error detected: Value '${value}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${MAX_PAGE_SIZE}`,
    );
  if (value < 0)
    throw new SfnApiError(
      "ValidationException",
      `1 validation error detected: Value '${value}' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 0`,
    );
  return value === 0 ? DEFAULT_PAGE_SIZE : value;
}

const TOKEN_KEY = randomBytes(32);

function signature(scope: string, offset: number): Buffer {
  return createHmac("sha256", TOKEN_KEY).update(`${scope}\n${offset}`).digest().subarray(0, 18);
}

/** One page of `items`; `scope` names the listing, so a token only continues its own. */
export function pageOf<T>(
  items: readonly T[],
  request: { maxResults?: unknown; nextToken?: unknown },
  scope: string,
): { items: T[]; nextToken?: string } {
  const size = validateMaxResults(request.maxResults);
  let offset = 0;
  const token = request.nextToken;
  if (token !== undefined && token !== null) {
    if (typeof token !== "string" || token.length < 1 || token.length > 1024)
      throw new SfnApiError(
        "ValidationException",
        "1 validation error detected: Value at 'nextToken' failed to satisfy constraint: Member must have length between 1 and 1024",
      );
    offset = readToken(token, scope);
    if (offset > items.length) throw invalidToken();
  }
  const slice = items.slice(offset, offset + size);
  const next = offset + size < items.length ? writeToken(offset + size, scope) : undefined;
  return { items: slice, ...(next ? { nextToken: next } : {}) };
}

function writeToken(offset: number, scope: string): string {
  return `${offset}.${signature(scope, offset).toString("base64url")}`;
}

function readToken(token: string, scope: string): number {
  const match = /^(0|[1-9][0-9]{0,8})\.([A-Za-z0-9_-]{24})$/.exec(token);
  if (match) {
    const offset = Number(match[1]);
    const given = Buffer.from(match[2] ?? "", "base64url");
    const expected = signature(scope, offset);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return offset;
  }
  // Not one of ours, or not for this listing.
  throw invalidToken();
}

function invalidToken(): SfnApiError {
  return new SfnApiError(
    "InvalidToken",
    "Invalid Token: the nextToken does not continue this listing",
  );
}
