import { LOCAL_ACCOUNT, LOCAL_REGION } from "../engine/definition.ts";
import { SfnApiError } from "./errors.ts";

/** ARNs shaped like AWS's, in the local account and region. */
export function stateMachineArn(name: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${name}`;
}

export function executionArn(stateMachineName: string, name: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${stateMachineName}:${name}`;
}

const PARTITION = "aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc";
const STATE_MACHINE_ARN = new RegExp(
  `^arn:(?:${PARTITION}):states:[a-z0-9-]+:\\d{12}:stateMachine:([A-Za-z0-9_-]{1,80})$`,
);
const EXECUTION_ARN = new RegExp(
  `^arn:(?:${PARTITION}):states:[a-z0-9-]+:\\d{12}:execution:([A-Za-z0-9_-]{1,80}):([^:]{1,80})$`,
);
const RESOURCE_ARN = new RegExp(
  `^arn:(?:${PARTITION}):states:[a-z0-9-]+:\\d{12}:([A-Za-z]+):([^:]{1,80})(?::([^:]{1,80}))?$`,
);

/**
 * Whether an ARN is in the local partition, region and account. One from anywhere else names
 * nothing here: StateMachineDoesNotExist / ExecutionDoesNotExist, never a match by name.
 */
export function isLocalArn(arn: string): boolean {
  return arn.startsWith(`arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:`);
}

/** The state machine name in an ARN, or InvalidArn. */
export function parseStateMachineArn(arn: unknown): string {
  const match = typeof arn === "string" ? STATE_MACHINE_ARN.exec(arn) : null;
  if (!match?.[1]) throw new SfnApiError("InvalidArn", `Invalid Arn: '${String(arn)}'`);
  return match[1];
}

/** The state machine and execution names in an execution ARN, or InvalidArn. */
export function parseExecutionArn(arn: unknown): { stateMachine: string; name: string } {
  const match = typeof arn === "string" ? EXECUTION_ARN.exec(arn) : null;
  if (!match?.[1] || !match[2])
    throw new SfnApiError("InvalidArn", `Invalid Arn: '${String(arn)}'`);
  return { stateMachine: match[1], name: match[2] };
}

/** Any Step Functions resource ARN (stateMachine, execution, activity, ...), or InvalidArn. */
export function parseResourceArn(arn: unknown): { type: string; name: string } {
  const match = typeof arn === "string" ? RESOURCE_ARN.exec(arn) : null;
  if (!match?.[1] || !match[2])
    throw new SfnApiError("InvalidArn", `Invalid Arn: '${String(arn)}'`);
  return { type: match[1], name: match[2] };
}

/**
 * Step Functions' rules for execution names: 1 to 80 characters, no whitespace, brackets,
 * wildcards, special or control characters. (Here also: nothing that is not safe as a
 * directory name, since histories are stored under it.)
 */
export function validateExecutionName(name: unknown): string {
  if (typeof name !== "string" || name.length < 1 || name.length > 80) {
    throw new SfnApiError("InvalidName", `Invalid Name: '${String(name)}'`);
  }
  const control = [...name].some((c) => {
    const code = c.charCodeAt(0);
    return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
  });
  if (control || /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/.test(name) || name === "." || name === "..") {
    throw new SfnApiError("InvalidName", `Invalid Name: '${name}'`);
  }
  return name;
}
