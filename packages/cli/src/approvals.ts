import { S3RecordStore, SfnWorkflowCallbacks } from "@gantry/aws";
import {
  type ApprovalAction,
  type ApprovalDecisionRecord,
  type ApprovalRecord,
  ApprovalRefused,
  decideAsOperator,
  pendingApprovals,
  type SecretSource,
} from "@gantry/core";
import { CliError, explainError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import type { Target } from "./target.ts";

/** What `gantry approve|reject` sends. */
export interface OperatorDecision {
  readonly approvalId: string;
  readonly action: ApprovalAction;
  /** The operator's approver email. */
  readonly operator: string;
  readonly comment?: string;
}

/** A decision that was recorded and delivered to the waiting execution. */
export interface DecisionResult {
  readonly decision: ApprovalDecisionRecord;
  readonly execution: { readonly id: string; readonly name: string };
}

/**
 * Where approvals are decided from a terminal: the same approval service the emailed links use
 * (`decideAsOperator` in @gantry/core), reached through the local control plane's operator API,
 * or called directly against AWS (the stage's state bucket and Step Functions; IAM decides who
 * may).
 */
export interface ApprovalDesk {
  /** Approvals still waiting for a decision, newest first. */
  pending(): Promise<readonly ApprovalRecord[]>;
  /** Decides; throws ApprovalRefused with the service's reason when it may not. */
  decide(request: OperatorDecision): Promise<DecisionResult>;
}

/**
 * The local control plane's operator API (`/operator/approvals` on its web port).
 *
 * @example
 * ```ts
 * const desk = new LocalOperatorDesk("http://127.0.0.1:8084");
 * await desk.decide({ approvalId, action: "approve", operator: "alice@example.com" });
 * ```
 */
export class LocalOperatorDesk implements ApprovalDesk {
  readonly #web: string;

  constructor(webEndpoint: string) {
    this.#web = webEndpoint.replace(/\/+$/, "");
  }

  async pending(): Promise<readonly ApprovalRecord[]> {
    const body = (await this.#call("GET", "/operator/approvals")) as {
      approvals?: ApprovalRecord[];
    };
    return body.approvals ?? [];
  }

  async decide(request: OperatorDecision): Promise<DecisionResult> {
    return (await this.#call(
      "POST",
      `/operator/approvals/${encodeURIComponent(request.approvalId)}`,
      {
        action: request.action,
        operator: request.operator,
        ...(request.comment ? { comment: request.comment } : {}),
      },
    )) as DecisionResult;
  }

  async #call(method: "GET" | "POST", path: string, body?: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.#web}${path}`, {
        method,
        headers: { accept: "application/json", "content-type": "application/json" },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      throw explainError(error, { endpoint: this.#web });
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new CliError(
        ExitCode.Failed,
        `${this.#web}${path} answered ${response.status} without JSON: is that the control plane's web endpoint?`,
        ["pass --web-endpoint URL (npm start prints it: 'Console and approvals')"],
      );
    }
    if (!response.ok) {
      const problem = parsed as { error?: string; status?: number; message?: string };
      const status = problem.status ?? response.status;
      if (status === 400 || status === 403 || status === 404 || status === 409 || status === 410) {
        throw new ApprovalRefused(status, problem.error ?? "Refused", problem.message ?? text);
      }
      throw new CliError(
        ExitCode.Failed,
        `the operator API failed (${response.status}): ${problem.message ?? text}`,
      );
    }
    return parsed;
  }
}

/** decideAsOperator never signs or verifies a link: no key is needed to decide at a terminal. */
const NO_SIGNING_KEYS: SecretSource = {
  signingKeys: () =>
    Promise.reject(new Error("approval links are not signed or checked by gantry approve")),
};

/**
 * The approval service over AWS: the stage's state bucket through S3, the waiting task through
 * Step Functions. Authorisation is IAM's: whoever may write the state bucket and call
 * SendTaskSuccess may decide (as one of the approval's approvers).
 */
export class AwsApprovalDesk implements ApprovalDesk {
  readonly #deps: Parameters<typeof decideAsOperator>[1];

  constructor(target: Pick<Target, "s3" | "sfn">, stateBucket: string, now: () => number) {
    this.#deps = {
      records: new S3RecordStore(target.s3, stateBucket),
      workflows: new SfnWorkflowCallbacks(target.sfn),
      secrets: NO_SIGNING_KEYS,
      clock: { now },
    };
  }

  pending(): Promise<readonly ApprovalRecord[]> {
    return pendingApprovals(this.#deps);
  }

  async decide(request: OperatorDecision): Promise<DecisionResult> {
    const outcome = await decideAsOperator(request, this.#deps);
    return {
      decision: outcome.decision,
      execution: { id: outcome.record.execution.id, name: outcome.record.execution.name },
    };
  }
}
