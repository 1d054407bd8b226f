import type { Stage } from "../registry.ts";
import type { DeploymentRequest } from "../request.ts";
import type { PreprodEvidence } from "../state.ts";

/**
 * What is stored about a pending approval. It holds no task token: the token lives in its own
 * record (see `recordKeys.approvalToken`) that only the decision path reads.
 */
export interface ApprovalRecord {
  readonly id: string;
  readonly stage: Stage;
  readonly service: string;
  readonly version: string;
  readonly sha256: string;
  readonly artifactKey: string;
  readonly commitUrl?: string;
  readonly execution: { readonly id: string; readonly name: string; readonly startedAt: string };
  /**
   * Who triggered the deployment: the claimed actor and CI run, and the verified claims when an
   * ID token proved them. Never the ID token itself (ApprovalGate copies these fields only).
   */
  readonly trigger: Pick<DeploymentRequest["trigger"], "actor" | "ciRunUrl" | "verified">;
  readonly approvers: readonly string[];
  readonly requestedAt: string;
  readonly expiresAt: string;
  readonly preprod?: PreprodEvidence;
  readonly rollout: {
    readonly steps: readonly number[];
    readonly stepWaitSeconds: number;
    readonly bakeSeconds: number;
    readonly alarms: readonly string[];
  };
  /** Set when the deployment is a fix deployed during an incident (`gantry deploy --fix-for`). */
  readonly fix?: IncidentFix;
}

/**
 * A fix deployed during an incident, as ApprovalGate found it when the deployment started: the
 * alarms it fixes (each in ALARM then), the metric the version analysis will judge it on, and
 * the version it must beat. Shown to approvers in the email and on the approval page.
 */
export interface IncidentFix {
  readonly alarms: readonly {
    readonly name: string;
    /** When the alarm entered ALARM (CloudWatch's StateUpdatedTimestamp). */
    readonly since: string;
    readonly metricName?: string;
  }[];
  /** latency when one of the alarms watches Duration, errors otherwise. */
  readonly metric: "errors" | "latency";
  /** The version the alias served when the deployment started; absent when it was not read. */
  readonly previousVersion?: string;
}

/** The server-side home of the task token. Never rendered, logged or returned. */
export interface ApprovalTokenRecord {
  readonly approvalId: string;
  readonly taskToken: string;
}

/** How a decision was made: a signed link, or an operator at a terminal. */
export type DecisionChannel = "link" | "operator";

/**
 * Written once, with a conditional create: the first decision wins, every later one is refused.
 * It names what was decided on (the execution, the service and stage, the version and its
 * bytes) and carries a seal: an HMAC under the decision key, which only the approval path
 * holds. VerifyApproval trusts nothing else: not the task's output, not a record without a
 * valid seal (see `seal.ts` and docs/security.md).
 */
export interface ApprovalDecisionRecord {
  readonly approvalId: string;
  readonly decision: "approved" | "rejected";
  /** The approver (an email address the registry lists for this service and stage). */
  readonly by: string;
  readonly at: string;
  readonly comment?: string;
  readonly channel: DecisionChannel;
  /** The operator channel: the identity that was authenticated (an IAM principal ARN, or `local`). */
  readonly principal?: string;
  /** The execution the decision is for: its ARN and start time (names can be reused after 90 days). */
  readonly execution: string;
  readonly executionStartedAt: string;
  readonly service: string;
  readonly stage: Stage;
  readonly version: string;
  readonly sha256: string;
  readonly seal: DecisionSeal;
  /** Set (outside the seal) when Step Functions had stopped waiting: the link is spent, nothing changed. */
  readonly delivered?: false;
  readonly reason?: string;
}

/** Which decision key sealed a record, and the HMAC itself (base64url). */
export interface DecisionSeal {
  readonly kid: string;
  readonly mac: string;
}

/** Marks an approval that can no longer be decided: its links answer 410. */
export interface ApprovalVoidRecord {
  readonly approvalId: string;
  readonly at: string;
  readonly reason: string;
}

/** Which approval belongs to an execution: one per execution, whatever the retries. */
export interface ApprovalIndexRecord {
  readonly approvalId: string;
  readonly execution: string;
}
