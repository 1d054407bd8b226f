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
