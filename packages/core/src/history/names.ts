import { STAGES, type Stage } from "../registry.ts";

/**
 * The states of `state-machines/workflow.asl.json` that reading a history gives meaning to.
 * Readers name states through these, never as string literals; `names.test.ts` checks that each
 * one is a state of the definition, of the kind the reader expects.
 */
export const WORKFLOW_STATES = {
  /** Checks the request (and its ID token): its output's `request.trigger` is the accepted trigger. */
  validateInput: "ValidateInput",
  /** The `.waitForTaskToken` Task that asks for the approval (and waits for it). */
  approvalGate: "ApprovalGate",
  /** Reads the sealed decision record: its output is the decision the deployment goes on with. */
  verifyApproval: "VerifyApproval",
  /** Puts the alias back on the previous version. */
  rollback: "Rollback",
  /** Finishes a deployment that succeeded: records the outcome (`$.outcome`), releases the lock. */
  finish: "Finish",
  /** Finishes a deployment that failed: records the outcome (`$.outcome`), releases the lock. */
  finishAfterFailure: "FinishAfterFailure",
  /** Holds a traffic step: a `.waitForTaskToken` Task that an alarm's event ends at once. */
  holdTrafficStep: "HoldTrafficStep",
  /** Holds the bake, as HoldTrafficStep holds a step. */
  bake: "Bake",
  /** The end-of-hold check of the traffic steps (after `HoldTrafficStep`): shifts traffic. */
  checkAlarms: "CheckAlarms",
  /** The end-of-hold check of the bake (after `Bake`). */
  checkBakeAlarms: "CheckBakeAlarms",
} as const;

export type WorkflowStateName = (typeof WORKFLOW_STATES)[keyof typeof WORKFLOW_STATES];

/** The states whose output carries `$.outcome` as the deployment ended. */
export const FINISHING_STATES: readonly WorkflowStateName[] = [
  WORKFLOW_STATES.finish,
  WORKFLOW_STATES.finishAfterFailure,
];

const STAGE_IN_NAME = new RegExp(`(?:^|-)(${STAGES.join("|")})(?:-|$)`);

/**
 * The stage a state machine deploys to, from its name or ARN: `gantry-prod` (or a name with
 * more around it, such as `gantry-prod-Workflow-abc`) is prod. Undefined when the name names
 * no stage.
 *
 * @example
 * ```ts
 * stageOfStateMachine("arn:aws:states:us-east-1:123456789012:stateMachine:gantry-preprod"); // "preprod"
 * stageOfStateMachine("gantry-prod"); // "prod"
 * stageOfStateMachine("other"); // undefined
 * ```
 */
export function stageOfStateMachine(nameOrArn: string | undefined): Stage | undefined {
  const name = nameOrArn?.split(":").at(-1) ?? "";
  return STAGE_IN_NAME.exec(name)?.[1] as Stage | undefined;
}
