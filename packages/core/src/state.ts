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

/**
 * `halted`: the version analysis failed the new version (or found too little data); the workflow
 * turns `analysis.failure` into the deployment's failure and rolls back.
 */
export type RolloutPhase = "steps" | "promote" | "bake" | "baked" | "halted";

/** One version's side of a verdict: what it served in the window, real and synthetic. */
export interface VersionSample {
  readonly version: string;
  /** Requests counted: real invocations + throttles + synthetic requests. */
  readonly requests: number;
  /** Failed requests: errors + throttles + synthetic requests that failed their check. */
  readonly failures: number;
  /** Of `requests`, the ones that came from real traffic (invocations + throttles). */
  readonly realRequests: number;
  readonly throttles: number;
  /** Synthetic requests (the canary spec's events) sent to make up a short sample. */
  readonly synthetic: number;
  readonly syntheticFailures: number;
  /** p99 Duration of real traffic, milliseconds; absent without invocations. */
  readonly p99Ms?: number;
}

/** The error-rate test of a verdict. */
export interface ErrorRateTest {
  readonly test: "fisher-exact-one-sided";
  /** Failure rates in percent. */
  readonly newRate: number;
  readonly previousRate: number;
  /** newRate - previousRate, in percentage points. */
  readonly increasePoints: number;
  /** P-value that the new version fails more often than the previous one. */
  readonly pValue: number;
  /** 1 - confidence. */
  readonly alpha: number;
  readonly maxIncreasePoints: number;
  /** pValue < alpha and increasePoints > maxIncreasePoints. */
  readonly regressed: boolean;
}

/** The latency comparison of a verdict: judged only on real traffic with enough requests. */
export type LatencyTest =
  | {
      readonly judged: true;
      readonly newP99Ms: number;
      readonly previousP99Ms: number;
      /** newP99Ms / previousP99Ms. */
      readonly ratio: number;
      readonly maxRatio: number;
      /** The policy's floor: a p99 rise of at most this many milliseconds never regresses. */
      readonly minIncreaseMs: number;
      /** ratio > maxRatio and the rise is above minIncreaseMs. */
      readonly regressed: boolean;
    }
  | { readonly judged: false; readonly reason: string };

/** A fix deployed during an incident: it must beat the previous version on the failing metric. */
export interface FixTest {
  readonly alarms: readonly string[];
  readonly metric: "errors" | "latency";
  /** errors: one-sided Fisher p-value that the new version fails less often; absent for latency. */
  readonly pValue?: number;
  readonly improved: boolean;
}

/**
 * `$.rollout.analysis`: the version analysis at the end of a hold (CheckAlarms' output, so every
 * verdict is in the execution history; the last one goes into the deployment record).
 */
export interface VersionVerdict {
  readonly at: string;
  readonly phase: RolloutPhase;
  readonly stepIndex: number;
  /** The new version's share of the alias's traffic during the window, percent. */
  readonly weight: number;
  /** The new version's window; the previous version's is the same unless `baseline` says. */
  readonly window: { readonly from: string; readonly to: string };
  /** The bake: the previous version's numbers come from before the rollout started. */
  readonly baseline?: { readonly from: string; readonly to: string };
  readonly newVersion: VersionSample;
  readonly previousVersion: VersionSample;
  /** Absent when there were too few requests for a verdict. */
  readonly errorRate?: ErrorRateTest;
  readonly latency: LatencyTest;
  readonly fix?: FixTest;
  /**
   * pass: go on; fail: VersionRegressed; insufficient: InsufficientData; extend: the hold was
   * extended once for more data; skipped: nothing to compare (the new version is the previous one).
   */
  readonly decision: "pass" | "fail" | "insufficient" | "extend" | "skipped";
  /** Set with decision fail / insufficient: the deployment's failure name. */
  readonly failure?: "VersionRegressed" | "InsufficientData";
  /** One line for people: what was compared and why the decision. */
  readonly summary: string;
}

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
  /**
   * When the current hold began (its traffic shift): the start of the version analysis's window.
   * Optional: absent in a state written by an earlier Gantry (the analysis then uses the hold's
   * length back from its end).
   */
  readonly holdStartedAt?: string;
  /** When Deploy ran: the bake's baseline window ends here. Optional, as above. */
  readonly startedAt?: string;
  /** The hold (holdId) the analysis already extended once for more data. */
  readonly extendedHold?: string;
  /** The last version analysis verdict (stages with `analysis` in the registry). */
  readonly analysis?: VersionVerdict;
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
