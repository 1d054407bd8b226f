import type { FailureName } from "../errors.ts";
import type { ExecutionStatus } from "../ports.ts";
import type { ResolvedAnalysisPolicy } from "../registry.ts";
import type { VersionVerdict } from "../state.ts";
import type { VerifiedTrigger } from "../trigger/claims.ts";
import {
  attemptFailure,
  EXECUTION_END_EVENTS,
  errorDetailsOf,
  eventTime,
  type HistoryEventLike,
  readableCause,
} from "./events.ts";
import { FINISHING_STATES, WORKFLOW_STATES } from "./names.ts";
import { type DeploymentOutcome, deploymentOutcome } from "./outcome.ts";
import { analysisPolicyOf, verdictOf } from "./verdict.ts";

/**
 * Reading a deployment out of its Step Functions history: which state is running, how much
 * traffic the new version has, who was asked to approve and what was decided, whether a
 * rollback ran, and how it all ended. Pure: it only reads events, so the same code follows a
 * live execution page by page, replays a finished one, and is tested over recorded histories.
 * The CLI, the console and the demo read histories with it and nothing else.
 */

/** A failed attempt of a Task that the state's Retry tried again. */
export interface RetriedAttempt {
  readonly at: number;
  readonly error: string;
  /** As recorded (a Lambda error's cause is its JSON); {@link readableCause} says it in words. */
  readonly cause?: string;
}

/**
 * How a visit of a state stands: `running` (entered, not left, the execution goes on),
 * `succeeded` (left normally, a retried Task included), `caught` (left through a Catch, its last
 * attempt having failed), `failed` (the execution ended in it: a Fail state, an uncaught error,
 * a stop).
 */
export type VisitStatus = "running" | "succeeded" | "caught" | "failed";

/** One pass through one state. */
export interface StateVisit {
  readonly name: string;
  /** Task, Wait, Choice, Pass, Succeed, Fail. */
  readonly type: string;
  readonly status: VisitStatus;
  readonly enteredAt: number;
  readonly exitedAt?: number;
  /** The state's input and output, JSON text as in the history. */
  readonly input?: string;
  readonly output?: string;
  /** The error the visit ended with (caught, or the execution's end). */
  readonly error?: string;
  /** As recorded (a Lambda error's cause is its JSON); {@link readableCause} says it in words. */
  readonly cause?: string;
  /** Failed attempts that were retried, oldest first. */
  readonly retries: readonly RetriedAttempt[];
}

/** Where the traffic stands: `$.rollout` of the latest state that changed it. */
export interface Traffic {
  /** Percentage of the alias's traffic on the new version (0 after a rollback). */
  readonly weight: number;
  /** steps, promote, bake, baked; or rolled-back. */
  readonly phase: string;
  readonly newVersion?: string;
  readonly previousVersion?: string;
}

export interface ApprovalProgress {
  /**
   * waiting: people were asked; approved/not-required: verified, it moved on;
   * rejected/timed-out/not-verified: it ended.
   */
  readonly status:
    | "waiting"
    | "approved"
    | "not-required"
    | "rejected"
    | "timed-out"
    | "not-verified";
  /** Who may decide (and was emailed), from the approval gate's input (`$.plan.approval.approvers`). */
  readonly approvers: readonly string[];
  readonly by?: string;
  /** The decision's channel: approver (an emailed link), operator (`gantry approve`). */
  readonly how?: string;
  readonly comment?: string;
  /** When the decision was made (ISO 8601, as the decision record says). */
  readonly decidedAt?: string;
  /** `how: "auto"`: the auto-approval rule that matched the verified trigger. */
  readonly rule?: { readonly index: number; readonly matched: string };
  readonly cause?: string;
}

export interface RollbackProgress {
  readonly status: "running" | "done" | "failed";
  /** What the rollback is for: the caught error. */
  readonly reason?: { readonly error: string; readonly cause?: string };
  /** The version serving all traffic again (null: nothing had been changed). */
  readonly restoredVersion?: string | null;
  readonly removedVersion?: string;
  /** Why the rollback itself failed. */
  readonly failure?: { readonly error: string; readonly cause?: string };
}

/** `$.outcome` as the finishing state (Finish, FinishAfterFailure) recorded it. */
export interface RecordedOutcome {
  readonly status?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly version?: string;
  /** Set when the reconcile wrote it: what had gone wrong and what it did. */
  readonly note?: string;
  readonly lockReleased?: boolean;
}

/**
 * A version verdict as the history tells it: the `$.rollout.analysis` of a CheckAlarms (or
 * CheckBakeAlarms) output, known fields only (see {@link verdictOf}), and the check that gave it.
 */
export interface VerdictReading extends VersionVerdict {
  /** The check whose output carried it: CheckAlarms or CheckBakeAlarms. */
  readonly state: string;
}

/**
 * The request, from the ExecutionStarted event's input (unvalidated: whatever the caller sent),
 * with its ID token left out: the reader never hands a token on to be shown.
 */
export interface RequestInfo {
  readonly service?: string;
  readonly version?: string;
  readonly artifact?: { readonly key?: string; readonly sha256?: string };
  readonly trigger?: { readonly actor?: string; readonly ciRunUrl?: string };
}

/**
 * The trigger as ValidateInput accepted it (its output's `request.trigger`): `verified` holds
 * the claims of the ID token it checked; without it the actor is only the caller's claim.
 */
export interface TriggerInfo {
  readonly actor: string;
  readonly ciRunUrl?: string;
  readonly verified?: VerifiedTrigger;
}

/** Something worth telling the person (or log) following the deployment. Causes are readable. */
export type DeploymentUpdate =
  | { readonly kind: "started"; readonly at: number; readonly request?: RequestInfo }
  /** ValidateInput accepted the request: who triggered it, verified or not. */
  | { readonly kind: "trigger"; readonly at: number; readonly trigger: TriggerInfo }
  | {
      readonly kind: "state-entered";
      readonly at: number;
      readonly state: string;
      readonly type: string;
      /** Wait states and holds: when the wait is over, when the state's input says. */
      readonly until?: number;
      /** Holds: the alarms whose entering ALARM ends the hold at once (a rollback). */
      readonly watching?: readonly string[];
    }
  | {
      readonly kind: "state-exited";
      readonly at: number;
      readonly state: string;
      readonly type: string;
      readonly durationMs: number;
      readonly error?: string;
      readonly cause?: string;
    }
  | {
      readonly kind: "retry";
      readonly at: number;
      readonly state: string;
      readonly error: string;
      readonly cause?: string;
    }
  | { readonly kind: "traffic"; readonly at: number; readonly traffic: Traffic }
  | { readonly kind: "approval"; readonly at: number; readonly approval: ApprovalProgress }
  | { readonly kind: "rollback"; readonly at: number; readonly rollback: RollbackProgress }
  /** A hold's check judged the new version by its own numbers (version analysis). */
  | { readonly kind: "analysis"; readonly at: number; readonly verdict: VerdictReading }
  | {
      readonly kind: "finished";
      readonly at: number;
      readonly status: ExecutionStatus;
      readonly error?: string;
      readonly cause?: string;
    };

/** Everything the history has said so far. */
export interface DeploymentProgress {
  /** RUNNING until an event ends the execution. */
  readonly status: ExecutionStatus;
  /** How the deployment ended, or `running`. */
  readonly outcome: DeploymentOutcome;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  /** The execution's error and cause (readable), once it failed, was stopped or timed out. */
  readonly error?: string;
  readonly cause?: string;
  readonly request?: RequestInfo;
  /** The trigger once ValidateInput accepted the request (verified claims, or an unverified actor). */
  readonly trigger?: TriggerInfo;
  /** From the plan in the states' input. */
  readonly stage?: string;
  /** Every state visited, in order. */
  readonly visits: readonly StateVisit[];
  /** The state running now, if any. */
  readonly current?: StateVisit;
  readonly traffic?: Traffic;
  readonly approval?: ApprovalProgress;
  readonly rollback?: RollbackProgress;
  /**
   * The stage's version analysis policy (`$.plan.analysis`), when it has one: every hold then
   * ends with a verdict.
   */
  readonly analysisPolicy?: ResolvedAnalysisPolicy;
  /** `gantry deploy --fix-for`: the alarms this deployment fixes (`$.plan.fixFor`), when any. */
  readonly fixFor?: readonly string[];
  /** Every version verdict so far, oldest first (one per hold's end). */
  readonly verdicts: readonly VerdictReading[];
  readonly recordedOutcome?: RecordedOutcome;
  /** The id of the last event applied. */
  readonly lastEventId: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type OpenVisit = Mutable<StateVisit> & { retries: RetriedAttempt[] };
type Failure = { readonly at: number; readonly error: string; readonly cause?: string };

/** How the approval ended, by the error its gate (or VerifyApproval) failed with. */
const APPROVAL_ENDINGS: Readonly<Record<string, ApprovalProgress["status"]>> = {
  ApprovalRejected: "rejected",
  ApprovalTimedOut: "timed-out",
  // The approval Task's own timeout, before NoteApprovalTimeout names it.
  "States.Timeout": "timed-out",
  ApprovalNotVerified: "not-verified",
} satisfies Partial<Record<FailureName | "States.Timeout", ApprovalProgress["status"]>>;

const FINISHING: ReadonlySet<string> = new Set(FINISHING_STATES);
/** The end-of-hold checks: their output's `$.rollout.analysis` is the hold's version verdict. */
const CHECKS: ReadonlySet<string> = new Set<string>([
  WORKFLOW_STATES.checkAlarms,
  WORKFLOW_STATES.checkBakeAlarms,
]);

/** Phases that read the same to a person: shifting traffic (steps, promote), bake, baked. */
function trafficStage(phase: string): string {
  return phase === "bake" || phase === "baked" || phase === "rolled-back" ? phase : "shifting";
}

function parse(text: string | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    return record(JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** The StartExecution input without `trigger.idToken` (the caller's token is never shown). */
function withoutIdToken(input: Record<string, unknown>): Record<string, unknown> {
  const trigger = record(input.trigger);
  if (!trigger || !("idToken" in trigger)) return input;
  const { idToken: _hidden, ...rest } = trigger;
  return { ...input, trigger: rest };
}

const VERIFIED_STRINGS = [
  "issuer",
  "audience",
  "subject",
  "repository",
  "repositoryId",
  "ref",
  "sha",
  "actor",
  "workflow",
  "workflowRef",
  "eventName",
  "environment",
  "runId",
  "runAttempt",
  "issuedAt",
  "expiresAt",
] as const satisfies readonly (keyof VerifiedTrigger)[];

const VERIFIED_REQUIRED = ["issuer", "audience", "subject", "repository", "ref", "sha", "actor"];

/** `request.trigger` of ValidateInput's output: known fields only, strings only. */
function triggerOf(value: unknown): TriggerInfo | undefined {
  const trigger = record(value);
  const actor = str(trigger?.actor);
  if (!trigger || !actor) return undefined;
  const ciRunUrl = str(trigger.ciRunUrl);
  const claims = record(trigger.verified);
  let verified: VerifiedTrigger | undefined;
  if (claims && VERIFIED_REQUIRED.every((field) => str(claims[field]))) {
    const picked: Record<string, string> = {};
    for (const field of VERIFIED_STRINGS) {
      const text = str(claims[field]);
      if (text !== undefined) picked[field] = text;
    }
    verified = picked as unknown as VerifiedTrigger;
  }
  return { actor, ...(ciRunUrl ? { ciRunUrl } : {}), ...(verified ? { verified } : {}) };
}

/** A caught error (`{Error, Cause}` as a Catch stores it), with a readable cause. */
function caught(value: unknown): { error: string; cause?: string } | undefined {
  const r = record(value);
  const error = str(r?.Error);
  if (!error) return undefined;
  const cause = str(r?.Cause);
  return cause ? { error, cause: readableCause(cause) } : { error };
}

function readable(failure: { error: string; cause?: string | undefined }) {
  return {
    error: failure.error,
    ...(failure.cause ? { cause: readableCause(failure.cause) } : {}),
  };
}

/**
 * Folds history events, oldest first, into {@link DeploymentProgress} and reports what changed
 * as {@link DeploymentUpdate}s. Events are read by id: one already applied (overlapping pages)
 * is ignored, so pages may be fed as they come.
 *
 * @example
 * ```ts
 * const reader = new HistoryReader();
 * for (const update of reader.apply(page.events ?? [])) render(update);
 * reader.progress.traffic?.weight; // e.g. 25
 * reader.progress.outcome; // "running", then e.g. "rolled-back"
 * ```
 */
export class HistoryReader {
  #status: ExecutionStatus = "RUNNING";
  #startedAt?: number;
  #finishedAt?: number;
  #error?: string;
  #cause?: string;
  #request?: RequestInfo;
  #trigger?: TriggerInfo;
  #stage?: string;
  readonly #visits: OpenVisit[] = [];
  #current?: OpenVisit;
  /** The current visit's last failed attempt, until a retry or a success says what became of it. */
  #pendingFailure?: Failure;
  #traffic?: Traffic;
  #approval?: ApprovalProgress;
  #rollback?: RollbackProgress;
  #analysisPolicy?: ResolvedAnalysisPolicy;
  #fixFor?: readonly string[];
  readonly #verdicts: VerdictReading[] = [];
  #recordedOutcome?: RecordedOutcome;
  #lastEventId = 0;

  /** Applies events (oldest first) and returns what changed. */
  apply(events: readonly HistoryEventLike[]): DeploymentUpdate[] {
    const updates: DeploymentUpdate[] = [];
    for (const event of events) {
      const id = event.id ?? 0;
      if (id !== 0 && id <= this.#lastEventId) continue;
      if (id !== 0) this.#lastEventId = id;
      this.#applyOne(event, updates);
    }
    return updates;
  }

  /** The progress so far. */
  get progress(): DeploymentProgress {
    return {
      status: this.#status,
      outcome: deploymentOutcome({
        status: this.#status,
        error: this.#error,
        recordedStatus: this.#recordedOutcome?.status,
        rolledBack: this.#rollback?.status === "done",
      }),
      visits: this.#visits,
      verdicts: [...this.#verdicts],
      lastEventId: this.#lastEventId,
      ...(this.#startedAt !== undefined ? { startedAt: this.#startedAt } : {}),
      ...(this.#finishedAt !== undefined ? { finishedAt: this.#finishedAt } : {}),
      ...(this.#error !== undefined ? { error: this.#error } : {}),
      ...(this.#cause !== undefined ? { cause: this.#cause } : {}),
      ...(this.#request ? { request: this.#request } : {}),
      ...(this.#trigger ? { trigger: this.#trigger } : {}),
      ...(this.#stage ? { stage: this.#stage } : {}),
      ...(this.#current ? { current: this.#current } : {}),
      ...(this.#traffic ? { traffic: this.#traffic } : {}),
      ...(this.#approval ? { approval: this.#approval } : {}),
      ...(this.#rollback ? { rollback: this.#rollback } : {}),
      ...(this.#analysisPolicy ? { analysisPolicy: this.#analysisPolicy } : {}),
      ...(this.#fixFor ? { fixFor: this.#fixFor } : {}),
      ...(this.#recordedOutcome ? { recordedOutcome: this.#recordedOutcome } : {}),
    };
  }

  #applyOne(event: HistoryEventLike, updates: DeploymentUpdate[]): void {
    const at = eventTime(event);
    const type = event.type ?? "";

    if (type === "ExecutionStarted") {
      this.#startedAt = at;
      const input = parse(event.executionStartedEventDetails?.input);
      if (input) this.#request = withoutIdToken(input) as RequestInfo;
      updates.push({ kind: "started", at, ...(this.#request ? { request: this.#request } : {}) });
      return;
    }
    const end = Object.hasOwn(EXECUTION_END_EVENTS, type) ? EXECUTION_END_EVENTS[type] : undefined;
    if (end) {
      this.#finish(event, end, at, updates);
      return;
    }
    if (type.endsWith("StateEntered")) {
      this.#entered(event, type.slice(0, -"StateEntered".length), at, updates);
      return;
    }
    if (type.endsWith("StateExited")) {
      this.#exited(event, type.slice(0, -"StateExited".length), at, updates);
      return;
    }
    const failure = attemptFailure(event);
    if (failure) {
      this.#pendingFailure = { at, ...failure };
      const state = this.#current?.name;
      if (state === WORKFLOW_STATES.approvalGate || state === WORKFLOW_STATES.verifyApproval)
        this.#approvalFailed(this.#pendingFailure, at, updates);
      return;
    }
    if (type === "LambdaFunctionScheduled" || type === "TaskScheduled") {
      // Scheduled again after a failed attempt: the state's Retry is trying again.
      const visit = this.#current;
      const retried = this.#pendingFailure;
      if (retried && visit) {
        visit.retries.push(retried);
        updates.push({ kind: "retry", at, state: visit.name, ...readable(retried) });
        this.#pendingFailure = undefined;
      }
      return;
    }
    if (type === "LambdaFunctionSucceeded" || type === "TaskSucceeded") {
      // What completed the approval task is a claim: the decision shown is VerifyApproval's.
      this.#pendingFailure = undefined;
    }
  }

  #entered(event: HistoryEventLike, stateType: string, at: number, updates: DeploymentUpdate[]) {
    const name = event.stateEnteredEventDetails?.name ?? "(unnamed)";
    this.#closeCurrent(at);
    const inputText = event.stateEnteredEventDetails?.input;
    const visit: OpenVisit = {
      name,
      type: stateType,
      status: "running",
      enteredAt: at,
      retries: [],
      ...(inputText !== undefined ? { input: inputText } : {}),
    };
    this.#visits.push(visit);
    this.#current = visit;
    this.#pendingFailure = undefined;
    const input = parse(inputText);
    const plan = record(input?.plan);
    const stage = str(plan?.stage);
    if (stage) this.#stage = stage;
    if (plan) this.#planFacts(plan);
    const rollout = record(input?.rollout);
    const isHold = name === WORKFLOW_STATES.holdTrafficStep || name === WORKFLOW_STATES.bake;
    const waitsUntil = isHold
      ? str(rollout?.holdEndsAt)
      : stateType === "Wait"
        ? str(rollout?.nextCheckAt)
        : undefined;
    const until = waitsUntil ? Date.parse(waitsUntil) : Number.NaN;
    const watching =
      isHold && Array.isArray(plan?.alarms)
        ? plan.alarms.filter((a): a is string => typeof a === "string")
        : undefined;
    updates.push({
      kind: "state-entered",
      at,
      state: name,
      type: stateType,
      ...(Number.isFinite(until) ? { until } : {}),
      ...(watching ? { watching } : {}),
    });

    if (name === WORKFLOW_STATES.approvalGate && plan) {
      const policy = record(plan.approval);
      const approvers = Array.isArray(policy?.approvers)
        ? policy.approvers.filter((a): a is string => typeof a === "string")
        : [];
      if (policy?.required === true) {
        this.#approval = { status: "waiting", approvers };
        updates.push({ kind: "approval", at, approval: this.#approval });
      }
    }
    if (name === WORKFLOW_STATES.rollback) {
      const reason = caught(input?.failure);
      this.#rollback = { status: "running", ...(reason ? { reason } : {}) };
      updates.push({ kind: "rollback", at, rollback: this.#rollback });
    }
  }

  #exited(event: HistoryEventLike, stateType: string, at: number, updates: DeploymentUpdate[]) {
    const name = event.stateExitedEventDetails?.name ?? this.#current?.name ?? "(unnamed)";
    const visit: OpenVisit =
      this.#current?.name === name
        ? this.#current
        : { name, type: stateType, status: "running", enteredAt: at, retries: [] };
    const outputText = event.stateExitedEventDetails?.output;
    visit.exitedAt = at;
    if (outputText !== undefined) visit.output = outputText;
    const failure = this.#pendingFailure;
    if (failure) {
      visit.error = failure.error;
      if (failure.cause !== undefined) visit.cause = failure.cause;
    }
    visit.status = failure ? "caught" : "succeeded";
    this.#current = undefined;
    this.#pendingFailure = undefined;
    updates.push({
      kind: "state-exited",
      at,
      state: name,
      type: stateType,
      durationMs: Math.max(0, at - visit.enteredAt),
      ...(failure ? readable(failure) : {}),
    });

    const output = parse(outputText);
    if (!output) return;
    if (name === WORKFLOW_STATES.rollback) this.#rollbackEnded(output, at, updates);
    if (name === WORKFLOW_STATES.validateInput && !visit.error) {
      const trigger = triggerOf(record(output.request)?.trigger);
      if (trigger) {
        this.#trigger = trigger;
        updates.push({ kind: "trigger", at, trigger });
      }
    }
    if (name === WORKFLOW_STATES.verifyApproval && !visit.error) {
      const decision = record(output.approval);
      if (decision) this.#approvalDecided(decision, at, updates);
    }
    if (CHECKS.has(name) && !visit.error) this.#verdictFrom(output, name, at, updates);
    this.#trafficFrom(output, at, updates);
    if (FINISHING.has(name)) this.#recordOutcome(outputText);
  }

  /** What the plan says about the version analysis: its policy, and the alarms a fix is for. */
  #planFacts(plan: Record<string, unknown>) {
    const policy = analysisPolicyOf(plan.analysis);
    if (policy) this.#analysisPolicy = policy;
    const fixFor = Array.isArray(plan.fixFor)
      ? plan.fixFor.filter((a): a is string => typeof a === "string")
      : [];
    if (fixFor.length > 0) this.#fixFor = fixFor;
  }

  /**
   * A check's output carries the hold's verdict in `$.rollout.analysis`. A check that did not
   * judge (the hold was not over yet) passes the last verdict on unchanged: the same verdict
   * (same time, same hold) is read once.
   */
  #verdictFrom(
    output: Record<string, unknown>,
    state: string,
    at: number,
    updates: DeploymentUpdate[],
  ) {
    const verdict = verdictOf(record(output.rollout)?.analysis);
    if (!verdict) return;
    const last = this.#verdicts.at(-1);
    if (
      last &&
      last.at === verdict.at &&
      last.phase === verdict.phase &&
      last.stepIndex === verdict.stepIndex
    ) {
      return;
    }
    const reading: VerdictReading = { ...verdict, state };
    this.#verdicts.push(reading);
    updates.push({ kind: "analysis", at, verdict: reading });
  }

  #recordOutcome(document: string | undefined) {
    const outcome = recordedOutcomeOf(document);
    if (outcome) this.#recordedOutcome = outcome;
  }

  #trafficFrom(output: Record<string, unknown>, at: number, updates: DeploymentUpdate[]) {
    if (this.#rollback?.status === "done") return; // the rollout document no longer says where traffic is
    const rollout = record(output.rollout);
    const weight = rollout?.weight;
    const phase = str(rollout?.phase);
    if (typeof weight !== "number" || !phase) return;
    const before = this.#traffic;
    const newVersion = str(rollout?.newVersion);
    const previousVersion = str(rollout?.previousVersion);
    this.#traffic = {
      weight,
      phase,
      ...(newVersion ? { newVersion } : {}),
      ...(previousVersion ? { previousVersion } : {}),
    };
    // Moving from holding the last step to promoting is bookkeeping, not a traffic change.
    if (before?.weight === weight && trafficStage(before.phase) === trafficStage(phase)) return;
    updates.push({ kind: "traffic", at, traffic: this.#traffic });
  }

  #rollbackEnded(output: Record<string, unknown>, at: number, updates: DeploymentUpdate[]) {
    const reason = this.#rollback?.reason;
    const failure = caught(output.rollbackFailure);
    if (failure) {
      this.#rollback = { status: "failed", failure, ...(reason ? { reason } : {}) };
    } else {
      const report = record(output.rollback);
      const restored = report?.restoredVersion;
      const removed = str(report?.removedVersion);
      this.#rollback = {
        status: "done",
        ...(reason ? { reason } : {}),
        restoredVersion: typeof restored === "string" ? restored : null,
        ...(removed ? { removedVersion: removed } : {}),
      };
      if (this.#traffic) {
        this.#traffic = { ...this.#traffic, weight: 0, phase: "rolled-back" };
        updates.push({ kind: "traffic", at, traffic: this.#traffic });
      }
    }
    updates.push({ kind: "rollback", at, rollback: this.#rollback });
  }

  #approvalDecided(decision: Record<string, unknown>, at: number, updates: DeploymentUpdate[]) {
    const how = str(decision.how);
    const by = str(decision.by);
    const comment = str(decision.comment);
    const decidedAt = str(decision.at);
    const rule = record(decision.rule);
    const index = rule?.index;
    const matched = str(rule?.matched);
    this.#approval = {
      status: how === "not-required" ? "not-required" : "approved",
      approvers: this.#approval?.approvers ?? [],
      ...(by ? { by } : {}),
      ...(how ? { how } : {}),
      ...(comment ? { comment } : {}),
      ...(decidedAt ? { decidedAt } : {}),
      ...(how === "auto" && typeof index === "number" && matched !== undefined
        ? { rule: { index, matched } }
        : {}),
    };
    updates.push({ kind: "approval", at, approval: this.#approval });
  }

  #approvalFailed(failure: Failure, at: number, updates: DeploymentUpdate[]) {
    const status = Object.hasOwn(APPROVAL_ENDINGS, failure.error)
      ? APPROVAL_ENDINGS[failure.error]
      : undefined;
    if (!status) return;
    const { cause } = readable(failure);
    this.#approval = {
      status,
      approvers: this.#approval?.approvers ?? [],
      ...(cause ? { cause } : {}),
    };
    updates.push({ kind: "approval", at, approval: this.#approval });
  }

  #finish(
    event: HistoryEventLike,
    status: ExecutionStatus,
    at: number,
    updates: DeploymentUpdate[],
  ) {
    this.#status = status;
    this.#finishedAt = at;
    const details = errorDetailsOf(event);
    if (details?.error) this.#error = details.error;
    if (details?.cause) this.#cause = readableCause(details.cause);
    if (status === "SUCCEEDED") {
      this.#recordOutcome(event.executionSucceededEventDetails?.output);
    }
    // Whatever was still open did not complete (a Fail state, an uncaught error, a stop), or
    // ended the execution (a Succeed state).
    const open = this.#current;
    if (open) {
      open.status = status === "SUCCEEDED" ? "succeeded" : "failed";
      if (status !== "SUCCEEDED" && open.type !== "Fail" && details?.error) {
        open.error = details.error;
        if (details.cause !== undefined) open.cause = details.cause;
      }
      this.#closeCurrent(at);
    }
    updates.push({
      kind: "finished",
      at,
      status,
      ...(this.#error ? { error: this.#error } : {}),
      ...(this.#cause ? { cause: this.#cause } : {}),
    });
  }

  /** Closes the current visit (the execution ended, or the next state was entered without an exit). */
  #closeCurrent(at: number) {
    const open = this.#current;
    if (open) {
      if (open.exitedAt === undefined) open.exitedAt = at;
      if (open.status === "running") open.status = "succeeded";
    }
    this.#current = undefined;
  }
}

/**
 * `$.outcome` of a state document (JSON text: a finishing state's output, a succeeded
 * execution's output), if it has one.
 *
 * @example
 * ```ts
 * recordedOutcomeOf('{"outcome":{"status":"deployed","version":"7"}}')?.version; // "7"
 * ```
 */
export function recordedOutcomeOf(document: string | undefined): RecordedOutcome | undefined {
  const outcome = record(parse(document)?.outcome);
  return outcome && typeof outcome.status === "string" ? (outcome as RecordedOutcome) : undefined;
}

/**
 * The progress a whole history (or the part of it read so far) adds up to.
 *
 * @example
 * ```ts
 * const { outcome, traffic } = readDeployment(events);
 * ```
 */
export function readDeployment(events: readonly HistoryEventLike[]): DeploymentProgress {
  const reader = new HistoryReader();
  reader.apply(events);
  return reader.progress;
}
