import { TransientError } from "@gantry/core";

/**
 * AWS errors that mean "try again later". They all surface as one name, TransientError, which
 * the state machine retries with backoff; every other error keeps its own name and meaning.
 */
const TRANSIENT_NAMES = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "ProvisionedThroughputExceededException",
  "PriorRequestNotComplete",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "InternalError",
  "InternalFailure",
  "InternalServerError",
  "ServiceException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  // Lambda: "The operation cannot be performed at this time. An update is in progress."
  "ResourceConflictException",
  // S3: two conditional writes to one key at the same moment; the loser may retry.
  "ConditionalRequestConflict",
]);

const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "ECONNABORTED",
]);

interface AwsErrorShape {
  name?: string;
  code?: string;
  $fault?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** True for throttling, 5xx and network faults. */
export function isTransient(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as AwsErrorShape;
  const status = e.$metadata?.httpStatusCode;
  return (
    (e.name !== undefined && TRANSIENT_NAMES.has(e.name)) ||
    (e.code !== undefined && NETWORK_CODES.has(e.code)) ||
    e.$retryable !== undefined ||
    e.$fault === "server" ||
    (status !== undefined && status >= 500)
  );
}

/** The HTTP status of an AWS error, if it has one. */
export function httpStatusOf(error: unknown): number | undefined {
  return (error as AwsErrorShape | undefined)?.$metadata?.httpStatusCode;
}

/** The error's name, for matching specific AWS errors. */
export function errorName(error: unknown): string | undefined {
  return (error as AwsErrorShape | undefined)?.name;
}

/**
 * Runs one AWS call and turns transient failures into {@link TransientError} (keeping the
 * original as `cause`). Other errors pass through untouched.
 *
 * @example
 * ```ts
 * const head = await aws("HeadObject", () => s3.send(new HeadObjectCommand(input)));
 * ```
 */
export async function aws<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isTransient(error)) {
      const name = errorName(error) ?? "Error";
      const message = error instanceof Error ? error.message : String(error);
      throw new TransientError(`${operation} failed transiently (${name}: ${message})`, {
        cause: error,
      });
    }
    throw error;
  }
}
