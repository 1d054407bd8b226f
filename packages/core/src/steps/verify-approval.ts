import type {
  ApprovalDecisionRecord,
  ApprovalIndexRecord,
  ApprovalRecord,
  ApprovalVoidRecord,
} from "../approval/record.ts";
import { decisionSealValid } from "../approval/seal.ts";
import { ApprovalNotVerified } from "../errors.ts";
import type { Clock, Log, RecordStore, SecretSource } from "../ports.ts";
import { type ApprovalDecision, type DeploymentState, recordKeys } from "../state.ts";
import { describeAutoApproveRule, matchingAutoApproveRule } from "../trigger/claims.ts";

export interface VerifyApprovalDeps {
  readonly records: RecordStore;
  /** The decision keys: a record whose seal does not verify under them was not written by Gantry. */
  readonly decisionKeys: SecretSource;
  readonly clock: Clock;
  readonly log?: Log;
}

/**
 * The VerifyApproval step, right after ApprovalGate: completing the approval task proves
 * nothing (in AWS the task token is in the execution history, and `states:SendTaskSuccess`
 * cannot be scoped), so the deployment proceeds only on the durable decision record of this
 * execution's approval. It must carry a valid seal (the approval path's key), say approved, by
 * an approver the plan lists, through a link or an authenticated operator, for this execution,
 * this version and these bytes, and have been delivered. `$.approval` as ApprovalGate left it
 * (whatever completed the task said) is read by nothing here and replaced by the result.
 *
 * Anything else throws {@link ApprovalNotVerified}, after marking the approval void so that its
 * links answer 410 and it no longer lists as pending. When the stage needs no approval, the
 * plan (resolved by ValidateInput from the registry, not from the task) says so. When one of
 * the plan's auto-approval rules matches the state's verified trigger (`request.trigger.verified`,
 * set by ValidateInput from a checked ID token), the match is recomputed here and approves; a
 * task completed with `how: "auto"` for any other deployment still needs a decision record.
 *
 * @example
 * ```ts
 * const approval = await verifyApproval(state, { records, decisionKeys, clock: systemClock });
 * approval.by; // "alice@example.com", as the sealed record says, or "auto-approve rule 1"
 * ```
 */
export async function verifyApproval(
  state: Pick<DeploymentState, "plan" | "request" | "execution">,
  deps: VerifyApprovalDeps,
): Promise<ApprovalDecision> {
  const { plan, execution } = state;
  if (!plan.approval.required) {
    return {
      approved: true,
      how: "not-required",
      by: `policy:${plan.stage}`,
      at: new Date(deps.clock.now()).toISOString(),
      verified: true,
    };
  }
  // From the state ValidateInput wrote, never from the task's output.
  const auto = matchingAutoApproveRule(plan.approval.autoApprove, state.request.trigger.verified);
  if (auto) {
    const rule = { index: auto.index, matched: describeAutoApproveRule(auto.rule) };
    deps.log?.info("approval verified: an auto-approval rule matches the verified trigger", {
      rule: auto.index + 1,
      matched: rule.matched,
    });
    return {
      approved: true,
      how: "auto",
      by: `auto-approve rule ${auto.index + 1}`,
      at: new Date(deps.clock.now()).toISOString(),
      rule,
      verified: true,
    };
  }

  const index = await deps.records.get<ApprovalIndexRecord>(
    recordKeys.approvalOfExecution(execution),
  );
  if (!index) throw new ApprovalNotVerified("no approval was requested for this execution");
  const approvalId = index.value.approvalId;
  try {
    const decision = await checkedDecision(approvalId, state, deps);
    deps.log?.info("approval verified", { approvalId, by: decision.by, channel: decision.channel });
    return {
      approved: true,
      how: decision.channel === "operator" ? "operator" : "approver",
      by: decision.by,
      at: decision.at,
      approvalId,
      ...(decision.comment ? { comment: decision.comment } : {}),
      ...(decision.principal ? { principal: decision.principal } : {}),
      verified: true,
    };
  } catch (error) {
    if (error instanceof ApprovalNotVerified) await voidApproval(approvalId, error.message, deps);
    throw error;
  }
}

/** The sealed decision record of this execution's approval, if every check passes. */
async function checkedDecision(
  id: string,
  { plan, request, execution }: Pick<DeploymentState, "plan" | "request" | "execution">,
  deps: VerifyApprovalDeps,
): Promise<ApprovalDecisionRecord> {
  const approval = (await deps.records.get<ApprovalRecord>(recordKeys.approval(id)))?.value;
  if (!approval) throw new ApprovalNotVerified(`approval ${id} has no record`);
  if (approval.execution.id !== execution.id)
    throw new ApprovalNotVerified(`approval ${id} belongs to another execution`);

  const stored = (await deps.records.get<ApprovalDecisionRecord>(recordKeys.approvalDecision(id)))
    ?.value;
  if (!stored) {
    throw new ApprovalNotVerified(
      `the approval task was completed, but nobody decided approval ${id}: no decision record`,
    );
  }
  if (!decisionSealValid(stored, await deps.decisionKeys.signingKeys())) {
    throw new ApprovalNotVerified(
      `the decision record of approval ${id} does not carry a valid seal: Gantry's approval path did not write it`,
    );
  }
  const mismatch = [
    stored.approvalId !== id && "approval id",
    stored.execution !== execution.id && "execution",
    stored.executionStartedAt !== execution.startedAt && "execution start",
    stored.service !== plan.service && "service",
    stored.stage !== plan.stage && "stage",
    stored.version !== request.version && "version",
    stored.sha256 !== request.artifact.sha256 && "SHA-256",
  ].filter((field): field is string => typeof field === "string");
  if (mismatch.length > 0) {
    throw new ApprovalNotVerified(
      `the decision record of approval ${id} is for another deployment (${mismatch.join(", ")} differ)`,
    );
  }
  if (stored.decision !== "approved")
    throw new ApprovalNotVerified(`approval ${id} was ${stored.decision} by ${stored.by}`);
  if (!plan.approval.approvers.includes(stored.by))
    throw new ApprovalNotVerified(
      `${stored.by} is not an approver of ${plan.service} in ${plan.stage}`,
    );
  if (stored.channel !== "link" && !(stored.channel === "operator" && stored.principal)) {
    throw new ApprovalNotVerified(
      `approval ${id} was decided through a channel Gantry does not accept`,
    );
  }
  if (stored.delivered === false) {
    throw new ApprovalNotVerified(
      `the decision on approval ${id} arrived after the task had stopped waiting`,
    );
  }
  return stored;
}

/** Marks the approval void: its links answer 410, and it no longer lists as pending. */
async function voidApproval(
  approvalId: string,
  reason: string,
  deps: VerifyApprovalDeps,
): Promise<void> {
  const record: ApprovalVoidRecord = {
    approvalId,
    at: new Date(deps.clock.now()).toISOString(),
    reason: `not verified: ${reason}`,
  };
  await deps.records.create(recordKeys.approvalVoid(approvalId), record);
  deps.log?.warn("approval not verified; voided", { approvalId, reason });
}
