/**
 * The JSON document that flows through one deployment (one run of the workflow). ValidateInput replaces the raw input
 * with `request`, `execution` and `plan`; each later Task writes one field (its ResultPath).
 * Reading a deployment's history means reading this document grow.
 */
import { sha256Hex } from "./checksum.ts";
import type { FailureName } from "./errors.ts";
import type { Plan } from "./plan.ts";
import type { AlarmStatus } from "./ports.ts";
import type { DeploymentRequest } from "./request.ts";

export interface ExecutionRef {
  /** The execution ARN. */
  readonly id: string;
  readonly name: string;
  readonly startedAt: string;
}

/** `$.lock`: this execution holds the target's lock. */
export interface LockGrant {
  readonly key: string;
  readonly owner: string;
  readonly acquiredAt: string;
  /** Set when an abandoned lock of a finished execution was taken over. */
  readonly brokeStaleLockOf?: string;
}

/** `$.preprod`: what VerifyPreprod proved, or that the stage does not ask for it. */
export type PreprodEvidence =
  | { readonly required: false }
  | {
      readonly required: true;
      readonly validatedAt: string;
      readonly validatedBy: string;
      readonly ciRunUrl?: string;
      readonly preprodVersion: string;
      readonly alarms: readonly AlarmStatus[];
      /**
       * The preprod bucket object VerifyPreprod checked (its SHA-256 equals the request's) and
       * the CodeSha256 (hex) of the version the preprod alias serves. Optional: a state written
       * by an earlier Gantry (an execution in flight across an upgrade) has none.
       */
      readonly bucket?: string;
      readonly key?: string;
      readonly sha256?: string;
      readonly codeSha256?: string;
    };

/**
 * `$.approval`, as VerifyApproval writes it: the approval this deployment proceeds on, checked
 * against the sealed decision record (or the stage's policy when no approval is required).
 * ApprovalGate's own output (whatever completed its task said) is overwritten by it.
 */
export interface ApprovalDecision {
  readonly approved: true;
  /**
   * `not-required` (stage policy), `auto` (an auto-approval rule matched the verified trigger),
   * `approver` (an emailed link) or `operator` (`gantry approve`).
   */
  readonly how: "not-required" | "auto" | "approver" | "operator";
  readonly by: string;
  readonly at: string;
  readonly approvalId?: string;
  readonly comment?: string;
  /** The operator channel: the authenticated identity behind the decision. */
  readonly principal?: string;
  /** `auto`: the rule that matched (its index in the stage's list, and what it says). */
  readonly rule?: { readonly index: number; readonly matched: string };
  /** Always true: only VerifyApproval writes this shape. */
  readonly verified: true;
}

/**
 * What the approval path sends with SendTaskSuccess: a claim, shown in the history, never
 * trusted. VerifyApproval reads the decision record instead.
 */
export interface ApprovalClaim {
  readonly approved: true;
  readonly how: "not-required" | "auto" | "approver" | "operator";
  readonly by: string;
  readonly at: string;
  readonly approvalId?: string;
  readonly comment?: string;
}

/** `$.artifact`: the artifact in the stage's bucket, checked against the requested SHA-256. */
export interface PromotedArtifact {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  readonly sha256: string;
  readonly size: number;
  /** false when the object was already there with the same bytes, or source = destination. */
  readonly copied: boolean;
}

export type RolloutPhase = "steps" | "promote" | "bake" | "baked";

/**
 * `$.rollout`: where the rollout stands. Deploy creates it (no traffic yet: stepIndex -1), the
 * Canary step gives the first traffic step, CheckAlarms the next ones, Promote the 100%.
 */
export interface Rollout {
  readonly newVersion: string;
  readonly previousVersion: string;
  /**
   * The new version's CodeSha256 (hex, as the ports report it; Deploy checked it equals the
   * artifact's SHA-256). Optional: absent in a state written by an earlier Gantry.
   */
  readonly codeSha256?: string;
  readonly phase: RolloutPhase;
  /** Index into plan.rollout.steps of the step being held; -1 before the first step. */
  readonly stepIndex: number;
  /** Percentage of the alias's traffic on the new version. */
  readonly weight: number;
  /** When the current step's hold (or the bake) is over. */
  readonly holdEndsAt: string;
  /** When the Wait state hands over to the next alarm check (its TimestampPath; polling holds). */
  readonly nextCheckAt: string;
  /**
   * The hold Task's timeout (TimeoutSecondsPath): the hold's remaining time plus a grace period,
   * whole seconds. Past it without a callback, the Task times out and CheckAlarms runs anyway.
   */
  readonly holdTimeoutSeconds: number;
  readonly checks: number;
  /** What the new version answered to the canary events (set by the Canary step). */
  readonly canary?: CanaryReport;
}

export interface CanaryCheckResult {
  readonly name: string;
  readonly passed: boolean;
  readonly detail: string;
}

/** `$.canary`: what the new version answered to the canary events. */
export interface CanaryReport {
  readonly version: string;
  readonly results: readonly CanaryCheckResult[];
}

/** `$.rollback`: the alias was put back, weights cleared, and read back to confirm. */
export interface RollbackReport {
  /** The version serving 100% again; null when nothing had been changed. */
  readonly restoredVersion: string | null;
  readonly removedVersion?: string;
  readonly verifiedAt: string;
}

/** What a Catch stores: Step Functions' error name and cause. */
export interface CaughtError {
  readonly Error: string;
  readonly Cause?: string;
}

export type OutcomeStatus = "deployed" | "rolled-back" | "rejected" | "failed";

/** `$.outcome`: the summary the final states report and the deployment record keeps. */
export interface Outcome {
  readonly status: OutcomeStatus;
  readonly error?: FailureName;
  readonly cause?: string;
  readonly version?: string;
  /**
   * Set when the reconcile (not the workflow's own Finish) wrote this outcome: what had gone
   * wrong and what the reconcile did about it (docs/operations.md, "Finish failed after a
   * successful bake", "Rollback failed").
   */
  readonly note?: string;
  readonly lockReleased: boolean;
}

export interface DeploymentState {
  readonly request: DeploymentRequest;
  readonly execution: ExecutionRef;
  readonly plan: Plan;
  readonly lock?: LockGrant;
  readonly preprod?: PreprodEvidence;
  readonly approval?: ApprovalDecision;
  readonly artifact?: PromotedArtifact;
  readonly rollout?: Rollout;
  readonly failure?: CaughtError;
  readonly rollback?: RollbackReport;
  readonly rollbackFailure?: CaughtError;
  readonly outcome?: Outcome;
  /** What Finish's Catch stores when it fails for good (the execution still ends in Deployed). */
  readonly cleanupFailure?: CaughtError;
}

/** Where the state bucket keeps each kind of record. One state bucket per stage. */
export const recordKeys = {
  lock: (service: string) => `locks/${service}.json`,
  deployment: (service: string, startedAt: string, executionName: string) =>
    `deployments/${service}/${startedAt.replace(/[:.]/g, "-")}_${executionName}.json`,
  deploymentsOf: (service: string) => `deployments/${service}/`,
  approval: (id: string) => `approvals/${id}.json`,
  approvalDecision: (id: string) => `approvals/${id}.decision.json`,
  /** Present once the approval can no longer be decided (VerifyApproval refused it). */
  approvalVoid: (id: string) => `approvals/${id}.void.json`,
  /** Present once every approver was emailed (a retried ApprovalGate does not mail twice). */
  approvalNotified: (id: string) => `approvals/${id}.notified.json`,
  /** The approval of one execution (ARN and start time: names may be reused after 90 days). */
  approvalOfExecution: (execution: { readonly id: string; readonly startedAt: string }) =>
    `approvals/by-execution/${sha256Hex(`${execution.id}\n${execution.startedAt}`)}.json`,
  /** Kept apart from the approval record so nothing that reads approvals ever sees a token. */
  approvalToken: (id: string) => `approval-tokens/${id}.json`,
};

/**
 * True for the key of an approval record itself, not of the records kept beside it (decision,
 * void, notified, the per-execution index).
 */
export function isApprovalRecordKey(key: string): boolean {
  return /^approvals\/[A-Za-z0-9_-]{24}\.json$/.test(key);
}

/** The preprod validation record, written next to the artifacts in the preprod bucket. */
export const validationKey = (service: string, version: string) =>
  `validations/${service}/${version}.json`;
