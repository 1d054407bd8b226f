/**
 * Errors of the Step Functions API, with the `__type` names AWS uses, so SDK clients raise the
 * same exception classes against the local control plane as against AWS.
 */
export type SfnErrorType =
  | "ExecutionAlreadyExists"
  | "ExecutionDoesNotExist"
  | "StateMachineDoesNotExist"
  | "InvalidArn"
  | "InvalidName"
  | "InvalidExecutionInput"
  | "InvalidOutput"
  | "InvalidToken"
  | "TaskDoesNotExist"
  | "TaskTimedOut"
  | "ResourceNotFound"
  | "TooManyTags"
  | "ValidationException"
  | "UnknownOperationException"
  | "SerializationException"
  | "RequestEntityTooLargeException"
  | "MalformedHttpRequestException"
  | "InternalFailure";

export class SfnApiError extends Error {
  readonly type: SfnErrorType;
  readonly status: number;
  constructor(type: SfnErrorType, message: string, status = 400) {
    super(message);
    this.name = type;
    this.type = type;
    this.status = status;
  }
}

/**
 * Logs an unexpected error of an HTTP handler to stderr: where, the error's name, message and
 * stack. Never the request (bodies and headers may carry tokens or secrets).
 */
export function logInternalError(where: string, error: unknown): void {
  const detail =
    error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  console.error(`gantry local: internal error in ${where}: ${detail}`);
}
