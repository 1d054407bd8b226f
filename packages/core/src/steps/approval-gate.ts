import { approvalEmail } from "../approval/email.ts";
import { incidentAtStart } from "../approval/incident.ts";
import { approvalLink, newApprovalId } from "../approval/links.ts";
import type {
  ApprovalIndexRecord,
  ApprovalRecord,
  ApprovalTokenRecord,
  IncidentFix,
} from "../approval/record.ts";
import { ConfigurationError } from "../errors.ts";
import type {
  AlarmReader,
  Clock,
  FunctionControl,
  Log,
  Mailer,
  RecordStore,
  SecretSource,
  WorkflowCallbacks,
} from "../ports.ts";
import { type ApprovalClaim, type DeploymentState, recordKeys } from "../state.ts";
import { describeAutoApproveRule, matchingAutoApproveRule } from "../trigger/claims.ts";

/** The approval Task's payload: the state plus the task token from `$$.Task.Token`. */
export type ApprovalGateEvent = Pick<
  DeploymentState,
  "request" | "plan" | "execution" | "preprod"
> & {
  readonly taskToken: string;
};

export interface ApprovalGateDeps {
  readonly records: RecordStore;
  readonly mailer: Mailer;
  readonly workflows: Pick<WorkflowCallbacks, "sendTaskSuccess">;
  readonly secrets: SecretSource;
  readonly clock: Clock;
  /** The stage's alarms, read once before anything else (the incident rules). */
  readonly alarms: AlarmReader;
  /**
   * Reads which version the alias serves, named in a fix's approval as the version to beat.
   * Optional: without it (the AWS function is not granted lambda:GetAlias) the approval says
   * "the version serving now" instead of its number.
   */
  readonly functions?: Pick<FunctionControl, "getAlias">;
  /** Where the approval pages are served, e.g. the Function URL. */
  readonly approvalBaseUrl: string;
  /** The verified sender address. */
  readonly sender: string;
  readonly newId?: () => string;
  readonly log?: Log;
}

/** What the approval Lambda returns (Step Functions keeps only the SendTaskSuccess output). */
export type ApprovalGateResult =
  | { readonly mode: "not-required"; readonly by: string; readonly fix?: IncidentFix }
  /** An auto-approval rule matched the verified trigger: nobody was asked, nothing was stored. */
  | {
      readonly mode: "auto";
      /** The rule's index in the stage's list (0-based), and what it says. */
      readonly rule: { readonly index: number; readonly matched: string };
    }
  | {
      readonly mode: "requested";
      readonly approvalId: string;
      readonly approvers: readonly string[];
      readonly expiresAt: string;
      /** false when a retried ApprovalGate found the approvers already emailed. */
      readonly emailed: boolean;
      /** A fix deployed during an incident: what the approvers were told about it. */
      readonly fix?: IncidentFix;
      /**
       * The auto-approval rule that matched the verified trigger and was not applied, because a
       * fix deployed during an incident always asks people.
       */
      readonly autoApprovalWithheld?: { readonly index: number; readonly matched: string };
    };

/**
 * The ApprovalGate step (a `.waitForTaskToken` Task). First, before it stores or sends
 * anything, it reads the stage's alarms and applies the incident rules ({@link incidentAtStart}):
 * a watched alarm already in ALARM refuses the deployment (AlarmTriggered) unless the request
 * names it in `fixFor`, and a `fixFor` alarm that is not in ALARM refuses it (InvalidInput).
 * A fix deployed during an incident is never auto-approved, and the approval record, the email
 * and the pages say what it fixes and what the version analysis will judge it on.
 *
 * When the stage needs no approval, it
 * completes its own task at once. When one of the stage's auto-approval rules matches the
 * trigger's verified claims (`request.trigger.verified`, which only ValidateInput sets after
 * checking an OIDC ID token), it completes its task at once too, with a claim naming the rule:
 * no approval record, no token record, no email. VerifyApproval recomputes that match from the
 * state; the claim itself proves nothing.
 *
 * Otherwise it asks people, whoever the trigger claims to be: a caller-supplied actor never
 * skips an approval, even one a rule names (that is logged, naming the actor). It stores the
 * approval record and, apart from it, the task token, then emails each approver a pair of
 * signed links. The execution waits until a decision calls SendTaskSuccess or
 * SendTaskFailure, or until the Task's own timeout (ApprovalTimedOut); VerifyApproval then
 * checks the decision record.
 *
 * One approval per execution: a retried Task (a transient error after the emails went out)
 * finds the approval it created, points its token record at the new attempt's token, and
 * does not email anyone twice, so the links already sent keep working.
 *
 * @example
 * ```ts
 * const requested = await approvalGate(event, deps);
 * if (requested.mode === "requested") console.log(`asked ${requested.approvers.join(", ")}`);
 * if (requested.mode === "auto") console.log(`auto-approved: ${requested.rule.matched}`);
 * ```
 */
export async function approvalGate(
  event: ApprovalGateEvent,
  deps: ApprovalGateDeps,
): Promise<ApprovalGateResult> {
  const { plan, request, execution } = event;
  if (!event.taskToken)
    throw new ConfigurationError("the approval task was started without a task token");
  const at = new Date(deps.clock.now()).toISOString();
  const fix = await incidentFix(plan, deps);

  const policy = plan.approval;
  if (!policy.required) {
    const claim: ApprovalClaim = {
      approved: true,
      how: "not-required",
      by: `policy:${plan.stage}`,
      at,
    };
    await deps.workflows.sendTaskSuccess(event.taskToken, claim);
    deps.log?.info("approval not required by policy", { stage: plan.stage });
    return { mode: "not-required", by: claim.by, ...(fix ? { fix } : {}) };
  }
  const auto = matchingAutoApproveRule(policy.autoApprove, request.trigger.verified);
  const withheld =
    auto && fix ? { index: auto.index, matched: describeAutoApproveRule(auto.rule) } : undefined;
  if (withheld) {
    deps.log?.info(
      "auto-approval rule not applied: a fix deployed during an incident needs people",
      {
        stage: plan.stage,
        rule: withheld.index + 1,
        matched: withheld.matched,
        fixFor: fix?.alarms.map((a) => a.name),
      },
    );
  }
  if (auto && !fix) {
    const rule = { index: auto.index, matched: describeAutoApproveRule(auto.rule) };
    const claim: ApprovalClaim = {
      approved: true,
      how: "auto",
      by: `auto-approve rule ${auto.index + 1}`,
      at,
    };
    await deps.workflows.sendTaskSuccess(event.taskToken, claim);
    deps.log?.info("approval granted by an auto-approval rule on the verified trigger", {
      stage: plan.stage,
      rule: auto.index + 1,
      matched: rule.matched,
    });
    return { mode: "auto", rule };
  }
  if (
    !request.trigger.verified &&
    policy.autoApprove.some((rule) => rule.actor === request.trigger.actor)
  ) {
    // The operator learns why the rule did not apply; the actor only, it is all the claim has.
    deps.log?.info("auto-approval rule not applied: the trigger is unverified (no ID token)", {
      actor: request.trigger.actor,
    });
  }

  // Every setting mailing needs, and the keys, before any record: a misconfigured stage must
  // not leave an approval nobody was asked for.
  const { mailer, sender, approvalBaseUrl } = deps;
  const keys = await deps.secrets.signingKeys();
  const id = await approvalIdOf(execution, deps);
  // The newest attempt's token is the live one; links point at the approval, not the token.
  const token: ApprovalTokenRecord = { approvalId: id, taskToken: event.taskToken };
  await deps.records.put(recordKeys.approvalToken(id), token);
  const fresh = approvalRecord(id, event, at, deps.clock.now(), fix);
  const record =
    (await deps.records.create(recordKeys.approval(id), fresh))?.value ??
    (await deps.records.get<ApprovalRecord>(recordKeys.approval(id)))?.value ??
    fresh;

  const notified = await deps.records.get(recordKeys.approvalNotified(id));
  if (!notified) {
    const expiresAtSeconds = Math.floor(Date.parse(record.expiresAt) / 1000);
    for (const approver of record.approvers) {
      const link = (action: "approve" | "reject") =>
        approvalLink(
          approvalBaseUrl,
          { approvalId: id, action, approver, expiresAt: expiresAtSeconds },
          keys.current,
        );
      await mailer.send(
        approvalEmail({
          record,
          approver,
          approveUrl: link("approve"),
          rejectUrl: link("reject"),
          from: sender,
        }),
      );
    }
    await deps.records.create(recordKeys.approvalNotified(id), { approvalId: id, at });
  }
  deps.log?.info("approval requested", {
    approvalId: id,
    approvers: record.approvers.length,
    expiresAt: record.expiresAt,
    emailed: !notified,
    ...(fix ? { fixFor: fix.alarms.map((a) => a.name) } : {}),
  });
  return {
    mode: "requested",
    approvalId: id,
    approvers: record.approvers,
    expiresAt: record.expiresAt,
    emailed: !notified,
    ...(fix ? { fix } : {}),
    ...(withheld ? { autoApprovalWithheld: withheld } : {}),
  };
}

/**
 * The incident rules on the stage's alarms as they are now; for a fix, also the version the
 * alias serves (the one the new version must beat). Undefined for an ordinary deployment.
 */
async function incidentFix(
  plan: ApprovalGateEvent["plan"],
  deps: Pick<ApprovalGateDeps, "alarms" | "functions">,
): Promise<IncidentFix | undefined> {
  if (plan.alarms.length === 0) return undefined;
  const found = incidentAtStart(plan, await deps.alarms.describe(plan.alarms));
  if (!found) return undefined;
  const alias = await deps.functions?.getAlias(plan.target.functionName, plan.target.alias);
  return alias ? { ...found, previousVersion: alias.version } : found;
}

/** The approval id of this execution: the one an earlier attempt created, or a new one. */
async function approvalIdOf(
  execution: ApprovalGateEvent["execution"],
  deps: Pick<ApprovalGateDeps, "records" | "newId">,
): Promise<string> {
  const key = recordKeys.approvalOfExecution(execution);
  const index: ApprovalIndexRecord = {
    approvalId: (deps.newId ?? newApprovalId)(),
    execution: execution.id,
  };
  const created = await deps.records.create(key, index);
  // Mutated to false, this reads back the index just created: the same id, one read more. (The
  // `true` mutant, which the retry test kills, is disabled with it.)
  // Stryker disable next-line ConditionalExpression: reading back the new index is equivalent
  if (created) return index.approvalId;
  const existing = await deps.records.get<ApprovalIndexRecord>(key);
  if (!existing) throw new Error(`the approval index ${key} vanished while it was read`);
  return existing.value.approvalId;
}

function approvalRecord(
  id: string,
  event: ApprovalGateEvent,
  at: string,
  nowMs: number,
  fix: IncidentFix | undefined,
): ApprovalRecord {
  const { plan, request, execution } = event;
  return {
    id,
    stage: plan.stage,
    service: plan.service,
    version: request.version,
    sha256: request.artifact.sha256,
    artifactKey: request.artifact.key,
    ...(plan.repositoryUrl ? { commitUrl: `${plan.repositoryUrl}/commit/${request.version}` } : {}),
    execution: { id: execution.id, name: execution.name, startedAt: execution.startedAt },
    trigger: recordedTrigger(request.trigger),
    approvers: plan.approval.approvers,
    requestedAt: at,
    expiresAt: new Date(nowMs + plan.approval.timeoutSeconds * 1000).toISOString(),
    ...(event.preprod ? { preprod: event.preprod } : {}),
    rollout: {
      steps: plan.rollout.steps,
      // The plan's durations are scaled for local runs; people read policy time.
      stepWaitSeconds: unscaled(plan.rollout.stepWaitSeconds, plan.timeScale),
      bakeSeconds: unscaled(plan.rollout.bakeSeconds, plan.timeScale),
      alarms: plan.alarms,
    },
    ...(fix ? { fix } : {}),
  };
}

/**
 * The trigger as the approval record keeps it: named fields only, so nothing else the request
 * carried (an ID token above all) can reach the record, the email or the pages.
 */
function recordedTrigger(
  trigger: ApprovalGateEvent["request"]["trigger"],
): ApprovalRecord["trigger"] {
  return {
    actor: trigger.actor,
    ...(trigger.ciRunUrl === undefined ? {} : { ciRunUrl: trigger.ciRunUrl }),
    ...(trigger.verified === undefined ? {} : { verified: trigger.verified }),
  };
}

/** Policy seconds from scaled ones, without float residue (60 × 0.7 / 0.7 is 60.00000000000001). */
function unscaled(seconds: number, timeScale: number): number {
  return Math.round((seconds / timeScale) * 1000) / 1000;
}
