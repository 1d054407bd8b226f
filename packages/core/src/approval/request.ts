import { ConfigurationError } from "../errors.ts";
import type { Clock, Log, Mailer, RecordStore, SecretSource, WorkflowCallbacks } from "../ports.ts";
import { type ApprovalDecision, type DeploymentState, recordKeys } from "../state.ts";
import { approvalEmail } from "./email.ts";
import { approvalLink, newApprovalId } from "./links.ts";
import type { ApprovalRecord, ApprovalTokenRecord } from "./record.ts";

/** The approval Task's payload: the state plus the task token from `$$.Task.Token`. */
export type RequestApprovalEvent = Pick<
  DeploymentState,
  "request" | "plan" | "execution" | "preprod"
> & {
  readonly taskToken: string;
};

export interface RequestApprovalDeps {
  readonly records: RecordStore;
  readonly mailer: Mailer;
  readonly workflows: Pick<WorkflowCallbacks, "sendTaskSuccess">;
  readonly secrets: SecretSource;
  readonly clock: Clock;
  /** Where the approval pages are served, e.g. the Function URL. */
  readonly approvalBaseUrl: string;
  /** The verified sender address. */
  readonly sender: string;
  readonly newId?: () => string;
  readonly log?: Log;
}

/** What the approval Lambda returns (Step Functions keeps only the SendTaskSuccess output). */
export type ApprovalRequested =
  | { readonly mode: "not-required" | "auto"; readonly by: string }
  | {
      readonly mode: "requested";
      readonly approvalId: string;
      readonly approvers: readonly string[];
      readonly expiresAt: string;
    };

/**
 * The ApprovalGate step (a `.waitForTaskToken` Task). When the stage needs no approval, or the
 * trigger's actor is on the auto-approve list, it completes its own task at once. Otherwise it
 * stores the approval record and, apart from it, the task token, then emails each approver a
 * pair of signed links. The execution waits until a decision calls SendTaskSuccess or
 * SendTaskFailure, or until the Task's own timeout (ApprovalTimedOut).
 *
 * @example
 * ```ts
 * const requested = await requestApproval(event, deps);
 * if (requested.mode === "requested") console.log(`asked ${requested.approvers.join(", ")}`);
 * ```
 */
export async function requestApproval(
  event: RequestApprovalEvent,
  deps: RequestApprovalDeps,
): Promise<ApprovalRequested> {
  const { plan, request, execution } = event;
  if (!event.taskToken)
    throw new ConfigurationError("the approval task was started without a task token");
  const at = new Date(deps.clock.now()).toISOString();

  const policy = plan.approval;
  const automatic: ApprovalDecision | undefined = !policy.required
    ? { approved: true, how: "not-required", by: `policy:${plan.stage}`, at }
    : policy.autoApproveActors.includes(request.trigger.actor)
      ? { approved: true, how: "auto", by: request.trigger.actor, at }
      : undefined;
  if (automatic) {
    await deps.workflows.sendTaskSuccess(event.taskToken, automatic);
    deps.log?.info("approval granted by policy", { how: automatic.how, by: automatic.by });
    return { mode: automatic.how === "auto" ? "auto" : "not-required", by: automatic.by };
  }

  const id = (deps.newId ?? newApprovalId)();
  const expiresAtMs = deps.clock.now() + policy.timeoutSeconds * 1000;
  const expiresAt = new Date(expiresAtMs).toISOString();
  const record: ApprovalRecord = {
    id,
    stage: plan.stage,
    service: plan.service,
    version: request.version,
    sha256: request.artifact.sha256,
    artifactKey: request.artifact.key,
    ...(plan.repositoryUrl ? { commitUrl: `${plan.repositoryUrl}/commit/${request.version}` } : {}),
    execution: { id: execution.id, name: execution.name },
    trigger: request.trigger,
    approvers: policy.approvers,
    requestedAt: at,
    expiresAt,
    ...(event.preprod ? { preprod: event.preprod } : {}),
    rollout: {
      steps: plan.rollout.steps,
      // The plan's durations are scaled for local runs; people read policy time.
      stepWaitSeconds: unscaled(plan.rollout.stepWaitSeconds, plan.timeScale),
      bakeSeconds: unscaled(plan.rollout.bakeSeconds, plan.timeScale),
      alarms: plan.alarms,
    },
  };
  // Keys before any record: a misconfigured key must not leave an approval nobody was asked for.
  const keys = await deps.secrets.signingKeys();
  const token: ApprovalTokenRecord = { approvalId: id, taskToken: event.taskToken };
  // Token first: a record that links point to must always have a token behind it.
  await deps.records.create(recordKeys.approvalToken(id), token);
  await deps.records.create(recordKeys.approval(id), record);

  const expiresAtSeconds = Math.floor(expiresAtMs / 1000);
  for (const approver of policy.approvers) {
    const link = (action: "approve" | "reject") =>
      approvalLink(
        deps.approvalBaseUrl,
        { approvalId: id, action, approver, expiresAt: expiresAtSeconds },
        keys.current,
      );
    await deps.mailer.send(
      approvalEmail({
        record,
        approver,
        approveUrl: link("approve"),
        rejectUrl: link("reject"),
        from: deps.sender,
      }),
    );
  }
  deps.log?.info("approval requested", {
    approvalId: id,
    approvers: policy.approvers.length,
    expiresAt,
  });
  return { mode: "requested", approvalId: id, approvers: policy.approvers, expiresAt };
}

/** Policy seconds from scaled ones, without float residue (60 × 0.7 / 0.7 is 60.00000000000001). */
function unscaled(seconds: number, timeScale: number): number {
  return Math.round((seconds / timeScale) * 1000) / 1000;
}
