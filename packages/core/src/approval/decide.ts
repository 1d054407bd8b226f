import type { Clock, Log, RecordStore, SecretSource, WorkflowCallbacks } from "../ports.ts";
import type { Registry } from "../registry.ts";
import { type ApprovalClaim, isApprovalRecordKey, recordKeys } from "../state.ts";
import { displayText } from "../text.ts";
import {
  type ApprovalAction,
  type ApprovalLinkClaims,
  ApprovalLinkError,
  isApprovalId,
  type LinkParameters,
  verifyApprovalLink,
} from "./links.ts";
import { approversActingAs, LOCAL_OPERATOR } from "./operators.ts";
import type {
  ApprovalDecisionRecord,
  ApprovalRecord,
  ApprovalTokenRecord,
  ApprovalVoidRecord,
  DecisionChannel,
} from "./record.ts";
import { type SealedDecision, sealDecision } from "./seal.ts";

/**
 * Deciding an approval: what a signed link's GET shows and what its POST does. Every check
 * runs before anything is written, in this order: the link's shape, signature and expiry; the
 * approval exists; the approver is one of its approvers; nobody decided yet; the execution is
 * still waiting. Then the decision is written once, sealed with the decision key (a conditional
 * create, so two clicks can never both win), and only then is the task completed through Step
 * Functions. Completing the task proves nothing by itself: VerifyApproval checks the sealed
 * record before anything is copied or deployed.
 */
export interface ApprovalServiceDeps {
  readonly records: RecordStore;
  readonly workflows: Pick<
    WorkflowCallbacks,
    "sendTaskSuccess" | "sendTaskFailure" | "executionStatus"
  >;
  /** The link signing keys (links are verified with them). */
  readonly secrets: SecretSource;
  /** The decision keys: decision records are sealed with them. */
  readonly decisionKeys: SecretSource;
  readonly clock: Clock;
  readonly log?: Log;
}

/** What deciding needs besides the links: a terminal's decision verifies no link. */
export type DecisionDeps = Omit<ApprovalServiceDeps, "secrets">;

/** Why an approval request was refused, with the HTTP status its page answers with. */
export class ApprovalRefused extends Error {
  override readonly name = "ApprovalRefused";
  readonly status: 400 | 403 | 404 | 409 | 410;
  readonly title: string;
  /** For 409: the decision that was already made. */
  readonly decision?: ApprovalDecisionRecord;
  constructor(
    status: ApprovalRefused["status"],
    title: string,
    message: string,
    decision?: ApprovalDecisionRecord,
  ) {
    super(message);
    this.status = status;
    this.title = title;
    // The field is defined (undefined) on every refusal anyway; only a 409 carries a value.
    this.decision = decision;
  }
}

/** A link that checks out: the approval and what the link would do. */
export interface CheckedLink {
  readonly record: ApprovalRecord;
  readonly claims: ApprovalLinkClaims;
}

export interface DecisionOutcome {
  readonly record: ApprovalRecord;
  readonly decision: ApprovalDecisionRecord;
}

/** Longest comment kept with a decision. */
export const MAX_COMMENT_LENGTH = 1000;

/**
 * Checks a link without deciding anything (the GET of a confirmation page; mail scanners and
 * link previews fetch links, so a GET must never decide).
 *
 * @example
 * ```ts
 * const link = await inspectApprovalLink(params, deps); // throws ApprovalRefused on any problem
 * link.record.service; // "hello-service"
 * ```
 */
export async function inspectApprovalLink(
  params: LinkParameters,
  deps: ApprovalServiceDeps,
): Promise<CheckedLink> {
  const claims = await verified(params, deps);
  const record = await loadApproval(claims.approvalId, deps);
  if (!record.approvers.includes(claims.approver)) {
    throw new ApprovalRefused(
      403,
      "Not an approver",
      "This link's approver is not allowed to decide this deployment.",
    );
  }
  await assertStillOpen(record, deps);
  return { record, claims };
}

/**
 * Decides through a signed link (the POST from the confirmation page).
 *
 * @example
 * ```ts
 * const { decision } = await decideApproval({ ...params, comment: "ship it" }, deps);
 * decision.decision; // "approved"
 * ```
 */
export async function decideApproval(
  params: LinkParameters & { readonly comment?: string | null },
  deps: ApprovalServiceDeps,
): Promise<DecisionOutcome> {
  const { record, claims } = await inspectApprovalLink(params, deps);
  const comment = cleanComment(params.comment);
  return decide(record, claims.action, { by: claims.approver, channel: "link" }, comment, deps);
}

/** An operator's decision at a terminal: who was authenticated, and as whom they decide. */
export interface OperatorDecisionRequest {
  readonly approvalId: string;
  readonly action: ApprovalAction;
  /**
   * The identity the transport authenticated: the caller's IAM principal ARN (a SigV4-signed
   * request to the operator Function URL) or {@link LOCAL_OPERATOR} (the local operator secret).
   * Never a name the caller typed.
   */
  readonly principal: string;
  /** Which approver to decide as, when the principal may act as several. */
  readonly as?: string | null;
  readonly comment?: string | null;
}

/**
 * Decides as an operator at a terminal (`gantry approve` / `gantry reject`): no link, but the
 * authenticated principal must be mapped to one of the approval's approvers in the registry's
 * `operators`, and the decision is recorded (and sealed) the same way, with the principal.
 *
 * @example
 * ```ts
 * await decideAsOperator({ approvalId, action: "approve", principal: callerArn }, { ...deps, operators: registry.operators });
 * ```
 */
export async function decideAsOperator(
  request: OperatorDecisionRequest,
  deps: DecisionDeps & { readonly operators: Registry["operators"] },
): Promise<DecisionOutcome> {
  if (!isApprovalId(request.approvalId))
    throw new ApprovalRefused(400, "Bad request", "That is not an approval id.");
  const comment = cleanComment(request.comment);
  const record = await loadApproval(request.approvalId, deps);
  const by = operatorApprover(record, request, deps.operators);
  await assertStillOpen(record, deps);
  return decide(
    record,
    request.action,
    { by, channel: "operator", principal: request.principal },
    comment,
    deps,
  );
}

/** The approver an authenticated principal decides as, or why it may not decide. */
function operatorApprover(
  record: ApprovalRecord,
  request: OperatorDecisionRequest,
  operators: Registry["operators"],
): string {
  const identities = approversActingAs(operators, request.principal);
  const who = request.principal === LOCAL_OPERATOR ? "the local operator" : request.principal;
  if (request.as) {
    if (!identities.includes(request.as)) {
      throw new ApprovalRefused(
        403,
        "Not you",
        `${who} is not registered as ${request.as} (gantry.registry.ts, operators).`,
      );
    }
    if (!record.approvers.includes(request.as)) {
      throw new ApprovalRefused(
        403,
        "Not an approver",
        `${request.as} is not allowed to decide this deployment.`,
      );
    }
    return request.as;
  }
  const eligible = identities.filter((email) => record.approvers.includes(email));
  if (eligible.length > 1) {
    throw new ApprovalRefused(
      400,
      "Which approver?",
      `${who} may decide as ${eligible.join(" or ")}: say which (--as).`,
    );
  }
  const [only] = eligible;
  if (only !== undefined) return only;
  throw new ApprovalRefused(
    403,
    "Not an approver",
    `${who} is not registered as any approver of this deployment (gantry.registry.ts, operators).`,
  );
}

/** The approvals still waiting for a decision, newest first (for `gantry approve` and the console). */
export async function pendingApprovals(
  deps: Pick<ApprovalServiceDeps, "records" | "workflows" | "clock">,
): Promise<ApprovalRecord[]> {
  // Stryker disable next-line StringLiteral: isApprovalRecordKey admits only keys under approvals/; the prefix only narrows the listing
  const keys = (await deps.records.list("approvals/")).filter(isApprovalRecordKey);
  const pending: ApprovalRecord[] = [];
  for (const key of keys) {
    const record = (await deps.records.get<ApprovalRecord>(key))?.value;
    if (!record || Date.parse(record.expiresAt) <= deps.clock.now()) continue;
    if (await deps.records.get(recordKeys.approvalDecision(record.id))) continue;
    if (await deps.records.get(recordKeys.approvalVoid(record.id))) continue;
    if ((await deps.workflows.executionStatus(record.execution.id)) !== "RUNNING") continue;
    pending.push(record);
  }
  return pending.sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
}

async function decide(
  record: ApprovalRecord,
  action: ApprovalAction,
  who: { readonly by: string; readonly channel: DecisionChannel; readonly principal?: string },
  comment: string | undefined,
  deps: DecisionDeps,
): Promise<DecisionOutcome> {
  const { by, channel } = who;
  const at = new Date(deps.clock.now()).toISOString();
  const fields: SealedDecision = {
    approvalId: record.id,
    execution: record.execution.id,
    executionStartedAt: record.execution.startedAt,
    service: record.service,
    stage: record.stage,
    version: record.version,
    sha256: record.sha256,
    decision: action === "approve" ? "approved" : "rejected",
    by,
    channel,
    ...(who.principal ? { principal: who.principal } : {}),
    at,
    ...(comment ? { comment } : {}),
  };
  // The key before the write: a misconfigured key must not spend the link.
  const keys = await deps.decisionKeys.signingKeys();
  const decision: ApprovalDecisionRecord = { ...fields, seal: sealDecision(fields, keys.current) };
  const written = await deps.records.create(recordKeys.approvalDecision(record.id), decision);
  if (!written) {
    const winner = await deps.records.get<ApprovalDecisionRecord>(
      recordKeys.approvalDecision(record.id),
    );
    throw alreadyDecided(winner?.value ?? decision);
  }
  const token = await deps.records.get<ApprovalTokenRecord>(recordKeys.approvalToken(record.id));
  if (!token)
    throw new ApprovalRefused(
      410,
      "No longer waiting",
      "This approval can no longer be completed.",
    );
  try {
    if (action === "approve") {
      // A claim for the history to show; VerifyApproval reads the sealed record, not this.
      const output: ApprovalClaim = {
        approved: true,
        how: channel === "operator" ? "operator" : "approver",
        by,
        at,
        approvalId: record.id,
        ...(comment ? { comment } : {}),
      };
      await deps.workflows.sendTaskSuccess(token.value.taskToken, output);
    } else {
      await deps.workflows.sendTaskFailure(
        token.value.taskToken,
        "ApprovalRejected",
        `rejected by ${by} at ${at}${comment ? `: ${comment}` : ""}`,
      );
    }
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (
      name === "TaskTimedOut" ||
      name === "TaskDoesNotExist" ||
      name === "InvalidToken" ||
      name === "ExecutionDoesNotExist"
    ) {
      // The decision is recorded (the link is spent), but the execution had stopped waiting.
      await deps.records.put(recordKeys.approvalDecision(record.id), {
        ...decision,
        delivered: false,
        reason: name,
      });
      throw new ApprovalRefused(
        410,
        "No longer waiting",
        "The deployment stopped waiting before your decision arrived; nothing was changed.",
      );
    }
    throw error;
  }
  deps.log?.info("approval decided", {
    approvalId: record.id,
    decision: decision.decision,
    channel,
  });
  return { record, decision };
}

/** Nobody decided yet, the deadline has not passed, and the execution still waits: or why not. */
async function assertStillOpen(
  record: ApprovalRecord,
  deps: Pick<ApprovalServiceDeps, "records" | "workflows" | "clock">,
): Promise<void> {
  const decided = await deps.records.get<ApprovalDecisionRecord>(
    recordKeys.approvalDecision(record.id),
  );
  // Void first: whatever record sits beside a voided approval (a forged one, say), its links
  // answer that it is over.
  const voided = await deps.records.get<ApprovalVoidRecord>(recordKeys.approvalVoid(record.id));
  if (voided) {
    throw new ApprovalRefused(
      410,
      "No longer waiting",
      `This approval was voided and can no longer be decided (${voided.value.reason}).`,
    );
  }
  if (decided) throw alreadyDecided(decided.value);
  if (Date.parse(record.expiresAt) <= deps.clock.now()) {
    throw new ApprovalRefused(
      410,
      "Approval expired",
      "The time to decide on this deployment is over.",
    );
  }
  const status = await deps.workflows.executionStatus(record.execution.id);
  if (status !== "RUNNING") {
    throw new ApprovalRefused(
      410,
      "No longer waiting",
      `The deployment is no longer waiting for a decision (it is ${describeStatus(status)}).`,
    );
  }
}

async function verified(
  params: LinkParameters,
  deps: ApprovalServiceDeps,
): Promise<ApprovalLinkClaims> {
  try {
    return verifyApprovalLink(params, await deps.secrets.signingKeys(), deps.clock.now());
  } catch (error) {
    if (!(error instanceof ApprovalLinkError)) throw error;
    const title = { 400: "Bad link", 403: "Invalid link", 410: "Link expired" }[error.status];
    throw new ApprovalRefused(error.status, title, capitalise(error.message));
  }
}

async function loadApproval(
  id: string,
  deps: Pick<ApprovalServiceDeps, "records">,
): Promise<ApprovalRecord> {
  const stored = await deps.records.get<ApprovalRecord>(recordKeys.approval(id));
  if (!stored)
    throw new ApprovalRefused(404, "No such approval", "There is no approval with this id.");
  return stored.value;
}

function alreadyDecided(decision: ApprovalDecisionRecord): ApprovalRefused {
  return new ApprovalRefused(
    409,
    "Already decided",
    `This deployment was already ${decision.decision} by ${decision.by} at ${decision.at}.`,
    decision,
  );
}

function cleanComment(comment: string | null | undefined): string | undefined {
  if (typeof comment !== "string") return undefined;
  // Control characters (other than tab and newline) have no place in a comment; invisible and
  // bidirectional ones are kept, but shown escaped, so the comment reads as it was written.
  const printable = [...comment].filter((c) => {
    const code = c.charCodeAt(0);
    return (
      code === 9 || code === 10 || (code >= 32 && code !== 127 && !(code >= 128 && code < 160))
    );
  });
  const trimmed = displayText(printable.join("").trim(), { multiline: true });
  if (trimmed.length > MAX_COMMENT_LENGTH) {
    throw new ApprovalRefused(
      400,
      "Comment too long",
      `A comment can have at most ${MAX_COMMENT_LENGTH} characters.`,
    );
  }
  return trimmed || undefined;
}

function describeStatus(status: string | undefined): string {
  return status ? status.toLowerCase().replace("_", " ") : "gone";
}

function capitalise(text: string): string {
  const sentence = text.charAt(0).toUpperCase() + text.slice(1);
  // Stryker disable next-line MethodExpression: no link error message ends with a period (links.ts), so endsWith and startsWith agree; the test keeps a future one from ending in two
  return text.endsWith(".") ? sentence : `${sentence}.`;
}
