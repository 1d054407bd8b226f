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
  readonly execution: { readonly id: string; readonly name: string };
  readonly trigger: DeploymentRequest["trigger"];
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
}

/** The server-side home of the task token. Never rendered, logged or returned. */
export interface ApprovalTokenRecord {
  readonly approvalId: string;
  readonly taskToken: string;
}

/** Written once, with a conditional create: the first decision wins, every later one is refused. */
export interface ApprovalDecisionRecord {
  readonly approvalId: string;
  readonly decision: "approved" | "rejected";
  readonly by: string;
  readonly at: string;
  readonly comment?: string;
  /** How the decision was made: a signed link, or an operator at a terminal. */
  readonly channel: "link" | "operator";
}
