import { ExitCode } from "./exit-codes.ts";

/**
 * An error the command reports as it is: a message, what to do next, and the exit code. Every
 * failure a user can cause or fix ends up as one of these (see {@link explainError}).
 */
export class CliError extends Error {
  override readonly name = "CliError";
  readonly exitCode: ExitCode;
  /** What to do next, one line per suggestion. */
  readonly hints: readonly string[];
  /** Machine-readable details for `--json` (e.g. the invalid fields). */
  readonly details?: Readonly<Record<string, unknown>>;

  constructor(
    exitCode: ExitCode,
    message: string,
    hints: readonly string[] = [],
    details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.exitCode = exitCode;
    this.hints = hints;
    if (details) this.details = details;
  }
}

/** A usage error: bad or missing flags. Exit 2, with the command's usage printed after it. */
export class UsageError extends CliError {
  /** The command whose usage should be shown ("deploy", "artifact publish"...); "" for the top level. */
  readonly command: string;
  constructor(command: string, message: string, hints: readonly string[] = []) {
    super(ExitCode.Usage, message, hints);
    this.command = command;
  }
}

/** What the error happened while doing, to make the explanation specific. */
export interface ErrorContext {
  /** The Step Functions / S3 endpoint of a local control plane, when that is the target. */
  readonly endpoint?: string | undefined;
  /** True when the target is AWS. */
  readonly aws?: boolean | undefined;
  /** The execution or state machine the command was about. */
  readonly subject?: string | undefined;
}

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** The network error code (ECONNREFUSED...) anywhere in an error's cause chain. */
export function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const shape = current as ErrorShape;
    if (typeof shape.code === "string" && /^E[A-Z]+$/.test(shape.code)) return shape.code;
    // AggregateError (happy-eyeballs connects to several addresses)
    if (Array.isArray(shape.errors)) {
      for (const inner of shape.errors) {
        const code = networkCode(inner);
        if (code) return code;
      }
    }
    current = shape.cause;
  }
  return undefined;
}

function nameOf(error: unknown): string {
  const name = (error as ErrorShape | undefined)?.name;
  return typeof name === "string" ? name : "Error";
}

function messageOf(error: unknown): string {
  const message = (error as ErrorShape | undefined)?.message;
  return typeof message === "string" && message ? message : String(error);
}

/**
 * Turns any error into a {@link CliError} with what to do next: missing AWS credentials, a
 * control plane that is not running, an execution or state machine that does not exist, AWS
 * refusing access, and otherwise the error as it came (exit 5).
 *
 * @example
 * ```ts
 * const explained = explainError(error, { endpoint: "http://127.0.0.1:8083" });
 * console.error(explained.message, explained.hints);
 * ```
 */
export function explainError(error: unknown, context: ErrorContext = {}): CliError {
  if (error instanceof CliError) return error;
  const name = nameOf(error);
  const message = messageOf(error);
  const code = networkCode(error);

  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(message)) {
    return new CliError(
      ExitCode.Failed,
      "no AWS credentials were found (the SDK's default credential chain came up empty)",
      [
        "in CI: assume a role first (GitHub Actions: aws-actions/configure-aws-credentials with role-to-assume; see docs/ci.md)",
        "at a terminal: `aws sso login` or set AWS_PROFILE",
        "for the local control plane instead: start it with `npm start`, or pass --endpoint URL",
      ],
    );
  }
  if (code === "ECONNREFUSED" || code === "ECONNRESET" || code === "EHOSTUNREACH") {
    const where = context.endpoint ?? "the control plane";
    return new CliError(
      ExitCode.Failed,
      `cannot reach ${where} (${code}): the control plane is not running there`,
      context.aws
        ? ["check your network and the AWS region (--region / AWS_REGION)"]
        : [
            "start the local control plane with `npm start` (in another terminal)",
            "or pass --endpoint URL where one is running (GANTRY_ENDPOINT)",
          ],
    );
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return new CliError(ExitCode.Failed, `cannot resolve the endpoint's host (${code})`, [
      "check --endpoint / GANTRY_ENDPOINT, or the AWS region (--region / AWS_REGION)",
    ]);
  }
  if (name === "ExecutionDoesNotExist") {
    return new CliError(
      ExitCode.Usage,
      `no such execution${context.subject ? `: ${context.subject}` : ""}`,
      [
        "list recent executions with `gantry list --stage <stage>`",
        "an execution name needs the stage it ran in (--stage preprod|prod), or pass its full ARN",
      ],
    );
  }
  if (name === "StateMachineDoesNotExist") {
    return new CliError(
      ExitCode.Usage,
      `no such state machine${context.subject ? `: ${context.subject}` : ""}`,
      [
        "check --state-machine-arn / GANTRY_<STAGE>_STATE_MACHINE_ARN (the ARN `sst deploy` prints)",
        "and that your credentials are for the account and region Gantry is deployed in",
      ],
    );
  }
  if (name === "InvalidArn") {
    return new CliError(ExitCode.Usage, `not a valid ARN: ${message}`, [
      "pass an execution name with --stage, or a full execution ARN",
    ]);
  }
  if (
    name === "AccessDenied" ||
    name === "AccessDeniedException" ||
    name === "UnrecognizedClientException" ||
    name === "InvalidClientTokenId" ||
    name === "ExpiredToken" ||
    name === "ExpiredTokenException" ||
    name === "InvalidAccessKeyId" ||
    name === "SignatureDoesNotMatch"
  ) {
    return new CliError(ExitCode.Failed, `AWS refused the request (${name}): ${message}`, [
      "check that the role you assumed is the one for this stage's account, and its permissions (docs/ci.md lists them)",
      "expired credentials: assume the role again (or `aws sso login`)",
    ]);
  }
  if (name === "NoSuchBucket") {
    return new CliError(ExitCode.Failed, `the bucket does not exist: ${message}`, [
      "check the registry's stages.<stage>.sourceBucket (gantry.registry.ts) or --bucket, and the account you are in",
    ]);
  }
  return new CliError(ExitCode.Failed, `${name}: ${message}`);
}
