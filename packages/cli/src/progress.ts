/**
 * Reading a deployment's progress out of its Step Functions history: which state is running,
 * how much traffic the new version has, who was asked to approve and what they decided, whether
 * a rollback ran, and how it all ended. Pure: it only reads events, so the same code follows a
 * live execution, replays a finished one, and is tested with plain objects.
 */

interface ErrorDetails {
  readonly error?: string | undefined;
  readonly cause?: string | undefined;
}

/** The fields of a Step Functions history event this module reads (the SDK's HistoryEvent fits). */
export interface HistoryEventLike {
  readonly id?: number | undefined;
  readonly timestamp?: Date | number | string | undefined;
  readonly type?: string | undefined;
  readonly executionStartedEventDetails?: { readonly input?: string | undefined } | undefined;
  readonly executionSucceededEventDetails?: { readonly output?: string | undefined } | undefined;
  readonly executionFailedEventDetails?: ErrorDetails | undefined;
  readonly executionAbortedEventDetails?: ErrorDetails | undefined;
  readonly executionTimedOutEventDetails?: ErrorDetails | undefined;
  readonly stateEnteredEventDetails?:
    | { readonly name?: string | undefined; readonly input?: string | undefined }
    | undefined;
  readonly stateExitedEventDetails?:
    | { readonly name?: string | undefined; readonly output?: string | undefined }
    | undefined;
  readonly lambdaFunctionFailedEventDetails?: ErrorDetails | undefined;
  readonly lambdaFunctionTimedOutEventDetails?: ErrorDetails | undefined;
  readonly lambdaFunctionScheduleFailedEventDetails?: ErrorDetails | undefined;
  readonly lambdaFunctionStartFailedEventDetails?: ErrorDetails | undefined;
  readonly taskFailedEventDetails?: ErrorDetails | undefined;
  readonly taskTimedOutEventDetails?: ErrorDetails | undefined;
  readonly taskSucceededEventDetails?: { readonly output?: string | undefined } | undefined;
}

/** The state names of the deployment workflow this module gives meaning to. */
export const APPROVAL_STATE = "ApprovalGate";
/** Where the decision the deployment proceeds on is read: the sealed record, verified. */
export const VERIFY_APPROVAL_STATE = "VerifyApproval";
export const ROLLBACK_STATE = "Rollback";

/** One pass through one state. */
export interface StateVisit {
  readonly name: string;
  /** Task, Wait, Choice, Pass, Succeed, Fail. */
  readonly type: string;
  readonly enteredAt: number;
  exitedAt?: number;
  /** The error the state failed with (caught, or the execution's end). */
  error?: string;
  cause?: string;
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
  /** Who may decide (and was emailed), from the ApprovalGate's input (`$.plan.approval.approvers`). */
  readonly approvers: readonly string[];
  readonly by?: string;
  /** The decision's channel: approver (an emailed link), operator (`gantry approve`). */
  readonly how?: string;
  readonly comment?: string;
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

/** `$.outcome` as the last ReleaseLock task wrote it. */
export interface OutcomeLike {
  readonly status?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly version?: string;
  readonly lockReleased?: boolean;
}

/** The request, from the ExecutionStarted event's input. */
export interface RequestInfo {
  readonly service?: string;
  readonly version?: string;
  readonly artifact?: { readonly key?: string; readonly sha256?: string };
  readonly trigger?: { readonly actor?: string; readonly ciRunUrl?: string };
}

/** Something worth telling the person (or log) following the execution. */
export type ProgressUpdate =
  | { readonly kind: "started"; readonly at: number; readonly request?: RequestInfo }
  | {
      readonly kind: "state-entered";
      readonly at: number;
      readonly state: string;
      readonly type: string;
      /** Wait states: when the wait is over, when the state's input says. */
      readonly until?: number;
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
  | {
      readonly kind: "finished";
      readonly at: number;
      readonly status: string;
      readonly error?: string;
      readonly cause?: string;
    };

/** Everything known so far. */
export interface ExecutionProgress {
  readonly startedAt?: number;
  readonly finishedAt?: number;
  /** RUNNING until an execution-ending event arrives. */
  readonly status: string;
  readonly error?: string;
  readonly cause?: string;
  readonly request?: RequestInfo;
  /** From the plan in the states' input. */
  readonly stage?: string;
  readonly visits: readonly StateVisit[];
  /** The state running now, if any. */
  readonly current?: StateVisit;
  readonly traffic?: Traffic;
  readonly approval?: ApprovalProgress;
  readonly rollback?: RollbackProgress;
  readonly outcome?: OutcomeLike;
  /** The id of the last event applied. */
  readonly lastEventId: number;
}

const END_TYPES: Readonly<Record<string, string>> = {
  ExecutionSucceeded: "SUCCEEDED",
  ExecutionFailed: "FAILED",
  ExecutionAborted: "ABORTED",
  ExecutionTimedOut: "TIMED_OUT",
};

/** Phases that read the same to a person: shifting traffic (steps, promote), bake, baked. */
function trafficStage(phase: string): string {
  return phase === "bake" || phase === "baked" || phase === "rolled-back" ? phase : "shifting";
}

/** True for the events that end an execution. */
export function isEndEvent(event: HistoryEventLike): boolean {
  return event.type !== undefined && event.type in END_TYPES;
}

/** Milliseconds since the epoch from the SDK's Date (or a number or ISO string). */
export function eventTime(event: HistoryEventLike): number {
  const t = event.timestamp;
  if (t instanceof Date) return t.getTime();
  if (typeof t === "number") return t;
  if (typeof t === "string") return Date.parse(t);
  return Number.NaN;
}

function parse(text: string | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
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

function caught(value: unknown): { error: string; cause?: string } | undefined {
  const r = record(value);
  const error = str(r?.Error);
  if (!error) return undefined;
  const cause = str(r?.Cause);
  return cause ? { error, cause: readableCause(cause) } : { error };
}

/**
 * The readable part of a cause: Lambda reports a function's error as JSON
 * (`{"errorType","errorMessage","trace"}`), Step Functions' own errors as plain text.
 */
export function readableCause(cause: string): string {
  if (cause.startsWith("{")) {
    const parsed = parse(cause);
    const message = str(parsed?.errorMessage);
    if (message) return message;
  }
  return cause;
}

/**
 * Folds history events, in order, into {@link ExecutionProgress} and reports what changed as
 * {@link ProgressUpdate}s. Events it has already seen (by id) are ignored, so overlapping pages
 * do no harm.
 *
 * @example
 * ```ts
 * const tracker = new ProgressTracker();
 * for (const update of tracker.apply(page.events ?? [])) render(update);
 * tracker.progress.traffic?.weight; // e.g. 25
 * ```
 */
export class ProgressTracker {
  #status = "RUNNING";
  #startedAt?: number;
  #finishedAt?: number;
  #error?: string;
  #cause?: string;
  #request?: RequestInfo;
  #stage?: string;
  readonly #visits: StateVisit[] = [];
  #current?: StateVisit;
  #pendingFailure?: { error: string; cause?: string };
  #scheduledInState = 0;
  #traffic?: Traffic;
  #approval?: ApprovalProgress;
  #rollback?: RollbackProgress;
  #outcome?: OutcomeLike;
  #lastEventId = 0;

  /** Applies events (oldest first) and returns what changed. */
  apply(events: readonly HistoryEventLike[]): ProgressUpdate[] {
    const updates: ProgressUpdate[] = [];
    for (const event of events) {
      const id = event.id ?? 0;
      if (id !== 0 && id <= this.#lastEventId) continue;
      if (id !== 0) this.#lastEventId = id;
      this.#applyOne(event, updates);
    }
    return updates;
  }

  /** The progress so far. */
  get progress(): ExecutionProgress {
    return {
      status: this.#status,
      visits: this.#visits,
      lastEventId: this.#lastEventId,
      ...(this.#startedAt !== undefined ? { startedAt: this.#startedAt } : {}),
      ...(this.#finishedAt !== undefined ? { finishedAt: this.#finishedAt } : {}),
      ...(this.#error !== undefined ? { error: this.#error } : {}),
      ...(this.#cause !== undefined ? { cause: this.#cause } : {}),
      ...(this.#request ? { request: this.#request } : {}),
      ...(this.#stage ? { stage: this.#stage } : {}),
      ...(this.#current ? { current: this.#current } : {}),
      ...(this.#traffic ? { traffic: this.#traffic } : {}),
      ...(this.#approval ? { approval: this.#approval } : {}),
      ...(this.#rollback ? { rollback: this.#rollback } : {}),
      ...(this.#outcome ? { outcome: this.#outcome } : {}),
    };
  }

  #applyOne(event: HistoryEventLike, updates: ProgressUpdate[]): void {
    const at = eventTime(event);
    const type = event.type ?? "";

    if (type === "ExecutionStarted") {
      this.#startedAt = at;
      const input = parse(event.executionStartedEventDetails?.input);
      if (input) this.#request = input as RequestInfo;
      updates.push({ kind: "started", at, ...(this.#request ? { request: this.#request } : {}) });
      return;
    }
    if (type in END_TYPES) {
      this.#finish(event, type, at, updates);
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
    const failure =
      event.lambdaFunctionFailedEventDetails ??
      event.lambdaFunctionTimedOutEventDetails ??
      event.lambdaFunctionScheduleFailedEventDetails ??
      event.lambdaFunctionStartFailedEventDetails ??
      event.taskFailedEventDetails ??
      event.taskTimedOutEventDetails;
    if (failure) {
      const error =
        failure.error ??
        (type.endsWith("TimedOut") ? "States.Timeout" : type.replace(/Event$/, ""));
      this.#pendingFailure = {
        error,
        ...(failure.cause ? { cause: readableCause(failure.cause) } : {}),
      };
      const state = this.#current?.name;
      if (state === APPROVAL_STATE || state === VERIFY_APPROVAL_STATE)
        this.#approvalFailed(this.#pendingFailure, at, updates);
      return;
    }
    if (type === "LambdaFunctionScheduled" || type === "TaskScheduled") {
      this.#scheduledInState++;
      const state = this.#current?.name;
      if (this.#scheduledInState > 1 && this.#pendingFailure && state) {
        updates.push({ kind: "retry", at, state, ...this.#pendingFailure });
        this.#pendingFailure = undefined;
      }
      return;
    }
    if (type === "LambdaFunctionSucceeded" || type === "TaskSucceeded") {
      // What completed the approval task is a claim: the decision shown is VerifyApproval's.
      this.#pendingFailure = undefined;
    }
  }

  #entered(event: HistoryEventLike, stateType: string, at: number, updates: ProgressUpdate[]) {
    const name = event.stateEnteredEventDetails?.name ?? "(unnamed)";
    this.#closeCurrent(at);
    const visit: StateVisit = { name, type: stateType, enteredAt: at };
    this.#visits.push(visit);
    this.#current = visit;
    this.#pendingFailure = undefined;
    this.#scheduledInState = 0;
    const input = parse(event.stateEnteredEventDetails?.input);
    const plan = record(input?.plan);
    const stage = str(plan?.stage);
    if (stage) this.#stage = stage;
    const nextCheck = str(record(input?.rollout)?.nextCheckAt);
    const until = stateType === "Wait" && nextCheck ? Date.parse(nextCheck) : Number.NaN;
    updates.push({
      kind: "state-entered",
      at,
      state: name,
      type: stateType,
      ...(Number.isFinite(until) ? { until } : {}),
    });

    if (name === APPROVAL_STATE && plan) {
      const policy = record(plan.approval);
      const approvers = Array.isArray(policy?.approvers)
        ? policy.approvers.filter((a): a is string => typeof a === "string")
        : [];
      if (policy?.required === true) {
        this.#approval = { status: "waiting", approvers };
        updates.push({ kind: "approval", at, approval: this.#approval });
      }
    }
    if (name === ROLLBACK_STATE) {
      const reason = caught(input?.failure);
      this.#rollback = { status: "running", ...(reason ? { reason } : {}) };
      updates.push({ kind: "rollback", at, rollback: this.#rollback });
    }
  }

  #exited(event: HistoryEventLike, stateType: string, at: number, updates: ProgressUpdate[]) {
    const name = event.stateExitedEventDetails?.name ?? this.#current?.name ?? "(unnamed)";
    const visit =
      this.#current?.name === name
        ? this.#current
        : { name, type: stateType, enteredAt: at, exitedAt: at };
    visit.exitedAt = at;
    if (this.#pendingFailure) {
      visit.error = this.#pendingFailure.error;
      if (this.#pendingFailure.cause) visit.cause = this.#pendingFailure.cause;
    }
    this.#current = undefined;
    this.#pendingFailure = undefined;
    updates.push({
      kind: "state-exited",
      at,
      state: name,
      type: stateType,
      durationMs: Math.max(0, at - visit.enteredAt),
      ...(visit.error ? { error: visit.error } : {}),
      ...(visit.cause ? { cause: visit.cause } : {}),
    });

    const output = parse(event.stateExitedEventDetails?.output);
    if (!output) return;
    if (name === ROLLBACK_STATE) this.#rollbackEnded(output, at, updates);
    if (name === VERIFY_APPROVAL_STATE && !visit.error) {
      const decision = record(output.approval);
      if (decision) this.#approvalDecided(decision, at, updates);
    }
    this.#trafficFrom(output, at, updates);
    const outcome = record(output.outcome);
    if (outcome && typeof outcome.status === "string") this.#outcome = outcome as OutcomeLike;
  }

  #trafficFrom(output: Record<string, unknown>, at: number, updates: ProgressUpdate[]) {
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

  #rollbackEnded(output: Record<string, unknown>, at: number, updates: ProgressUpdate[]) {
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

  #approvalDecided(decision: Record<string, unknown>, at: number, updates: ProgressUpdate[]) {
    const how = str(decision.how);
    const by = str(decision.by);
    const comment = str(decision.comment);
    const status = how === "not-required" ? "not-required" : "approved";
    this.#approval = {
      status,
      approvers: this.#approval?.approvers ?? [],
      ...(by ? { by } : {}),
      ...(how ? { how } : {}),
      ...(comment ? { comment } : {}),
    };
    updates.push({ kind: "approval", at, approval: this.#approval });
  }

  #approvalFailed(
    failure: { error: string; cause?: string },
    at: number,
    updates: ProgressUpdate[],
  ) {
    const status =
      failure.error === "ApprovalRejected"
        ? "rejected"
        : failure.error === "States.Timeout" || failure.error === "ApprovalTimedOut"
          ? "timed-out"
          : failure.error === "ApprovalNotVerified"
            ? "not-verified"
            : undefined;
    if (!status) return;
    this.#approval = {
      status,
      approvers: this.#approval?.approvers ?? [],
      ...(failure.cause ? { cause: failure.cause } : {}),
    };
    updates.push({ kind: "approval", at, approval: this.#approval });
  }

  #finish(event: HistoryEventLike, type: string, at: number, updates: ProgressUpdate[]) {
    this.#status = END_TYPES[type] ?? "FAILED";
    this.#finishedAt = at;
    const details =
      event.executionFailedEventDetails ??
      event.executionAbortedEventDetails ??
      event.executionTimedOutEventDetails;
    if (details?.error) this.#error = details.error;
    if (details?.cause) this.#cause = readableCause(details.cause);
    if (type === "ExecutionSucceeded") {
      const output = parse(event.executionSucceededEventDetails?.output);
      const outcome = record(output?.outcome);
      if (outcome && typeof outcome.status === "string") this.#outcome = outcome as OutcomeLike;
    }
    if (this.#current) {
      if (this.#status !== "SUCCEEDED" && this.#current.type !== "Fail" && this.#error) {
        this.#current.error = this.#error;
      }
      this.#closeCurrent(at);
    }
    updates.push({
      kind: "finished",
      at,
      status: this.#status,
      ...(this.#error ? { error: this.#error } : {}),
      ...(this.#cause ? { cause: this.#cause } : {}),
    });
  }

  #closeCurrent(at: number) {
    if (this.#current && this.#current.exitedAt === undefined) this.#current.exitedAt = at;
    this.#current = undefined;
  }
}
