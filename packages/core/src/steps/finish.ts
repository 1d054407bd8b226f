import { type FailureName, isFailureName, LockDamaged } from "../errors.ts";
import type { Clock, Log, MetricsPublisher, RecordStore, StoredRecord } from "../ports.ts";
import type { DeploymentRequest } from "../request.ts";
import {
  type CaughtError,
  type DeploymentState,
  type Outcome,
  type OutcomeStatus,
  recordKeys,
  type VersionVerdict,
} from "../state.ts";
import { type LockRecord, readLock } from "./acquire-lock.ts";
import { ROLLBACK_FAILED_METRIC } from "./metrics.ts";

/**
 * Where the deployed commit lives: the repository an OIDC ID token proved (`verified: true`,
 * ValidateInput checked it against the registry), else the registry's `repositoryUrl`, which
 * nothing checked the commit against (`verified: false`).
 */
export interface RecordedRepository {
  /** `owner/name`, from the verified token. */
  readonly name?: string;
  /** GitHub's numeric repository id, when the token carried it. */
  readonly id?: string;
  /** The registry's `repositoryUrl`, for commit links. */
  readonly url?: string;
  readonly verified: boolean;
}

/**
 * The provenance kept for every deployment that got past input validation: what `gantry
 * provenance` shows. The SHA-256 of the artifact at each hop: `preprod.sha256` (the preprod
 * bucket object) and `preprod.codeSha256` (what the preprod alias runs), `artifact.sha256` (the
 * stage bucket's object), `release.codeSha256` (the Lambda version's CodeSha256), all checked
 * against `sha256` (the requested one) by the steps that wrote them.
 *
 * Append-only: the first write for an execution creates its record; a later finish of the same
 * execution (a retried Finish, the reconcile) writes an amendment beside it
 * ({@link amendmentKey}), never over it. The newest amendment is the execution's current record.
 */
export interface DeploymentRecord {
  readonly service: string;
  readonly stage: string;
  /** The commit (the request's version). */
  readonly version: string;
  readonly sha256: string;
  readonly repository?: RecordedRepository;
  /** The trigger as ValidateInput left it: `verified` claims when a token proved it (never the token). */
  readonly trigger: DeploymentRequest["trigger"];
  readonly execution: DeploymentState["execution"];
  readonly artifact?: DeploymentState["artifact"];
  readonly preprod?: DeploymentState["preprod"];
  readonly approval?: DeploymentState["approval"];
  readonly release?: {
    readonly newVersion: string;
    readonly previousVersion: string;
    /** The new Lambda version's CodeSha256 (hex), as Deploy saw it. */
    readonly codeSha256?: string;
  };
  readonly rollback?: DeploymentState["rollback"];
  /**
   * `gantry deploy --fix-for`: the alarms this deployment was a fix for (already in ALARM when it
   * started; the version analysis judged it instead). Absent for an ordinary deployment.
   */
  readonly fixFor?: readonly string[];
  /**
   * The last version verdict (`$.rollout.analysis`): for a deployment that passed, the bake's;
   * for one the analysis stopped, the verdict that stopped it. Absent without version analysis
   * (or when no hold ended).
   */
  readonly analysis?: VersionVerdict;
  readonly outcome: Omit<Outcome, "lockReleased">;
  readonly finishedAt: string;
  /** On an amendment: the key of the execution's first record. */
  readonly amends?: string;
}

const RECORD_SUFFIX = ".json";
const AMENDMENT = /\.amended-[^/]*\.json$/;

/**
 * The key of an amendment to the deployment record at `key`, written at `finishedAt`: it sorts
 * after every earlier amendment of the same record (ISO times of one width).
 *
 * @example
 * ```ts
 * amendmentKey("deployments/s/2026-11-30T10-00-00-000Z_x.json", "2026-11-30T11:00:00.000Z");
 * // "deployments/s/2026-11-30T10-00-00-000Z_x.amended-2026-11-30T11-00-00-000Z.json"
 * ```
 */
export function amendmentKey(key: string, finishedAt: string): string {
  return `${key.slice(0, -RECORD_SUFFIX.length)}.amended-${finishedAt.replace(/[:.]/g, "-")}${RECORD_SUFFIX}`;
}

/**
 * Of the keys under `deployments/<service>/`, the current record of each execution: its newest
 * amendment, else its first record. Other keys are ignored. Sorted by key (start time).
 *
 * @example
 * ```ts
 * currentRecordKeys(["d/s/t_x.json", "d/s/t_x.amended-u.json", "d/s/t2_y.json"]);
 * // ["d/s/t2_y.json", "d/s/t_x.amended-u.json"]
 * ```
 */
export function currentRecordKeys(keys: readonly string[]): string[] {
  const current = new Map<string, string>();
  for (const key of keys) {
    if (!key.endsWith(RECORD_SUFFIX)) continue;
    const first = key.replace(AMENDMENT, RECORD_SUFFIX);
    const known = current.get(first);
    // An amendment beats the first record; a later amendment beats an earlier one. (Keys are
    // distinct: `>=` for `>` changes nothing.)
    // Stryker disable next-line EqualityOperator: equivalent, see above
    const newer = known === undefined || (key !== first && (known === first || key > known));
    if (newer) current.set(first, key);
  }
  return [...current.values()].sort();
}

/**
 * The current deployment record of one execution (its newest amendment, else its first
 * record), or undefined when none was written.
 *
 * @example
 * ```ts
 * const stored = await readDeploymentRecord(records, "hello-service", state.execution);
 * stored?.value.outcome.status; // "rolled-back"
 * ```
 */
export async function readDeploymentRecord(
  records: Pick<RecordStore, "get" | "list">,
  service: string,
  execution: { readonly startedAt: string; readonly name: string },
): Promise<StoredRecord<Partial<DeploymentRecord>> | undefined> {
  const key = recordKeys.deployment(service, execution.startedAt, execution.name);
  const amendments = await records.list(amendmentKey(key, "").slice(0, -RECORD_SUFFIX.length));
  const [newest = key] = currentRecordKeys([key, ...amendments]);
  return records.get<Partial<DeploymentRecord>>(newest);
}

export interface FinishDeps {
  readonly records: RecordStore;
  readonly metrics: MetricsPublisher;
  readonly clock: Clock;
  readonly log?: Log;
}

const MAX_CAUSE = 2000;

/**
 * The last Task on every path (Finish and FinishAfterFailure): works out the outcome,
 * writes the deployment record, releases the lock if this execution holds it, and on a failed
 * rollback publishes the metric that raises the RollbackFailed alarm. Its `$.outcome.error` is
 * what the ReportFailure choice routes on, so every failure ends in a `Fail` state with a name.
 *
 * It must work on any state, even the raw input of a request that failed validation.
 *
 * @example
 * ```ts
 * const outcome = await finish(state, "failed", { records, metrics, clock: systemClock });
 * outcome.error; // e.g. "AlarmTriggered"
 * ```
 */
export async function finish(
  state: Partial<DeploymentState>,
  result: "succeeded" | "failed",
  deps: FinishDeps,
  options: { readonly note?: string } = {},
): Promise<Outcome> {
  const described = describeOutcome(state, result);
  const outcome = options.note ? { ...described, note: clip(options.note) } : described;
  // The record store before any side effect: a stage without one fails before the metric.
  const { records } = deps;
  const { plan, request, execution } = state;
  if (plan && request && execution) {
    if (outcome.error === "RollbackFailed") {
      await deps.metrics.publish(ROLLBACK_FAILED_METRIC, 1, {
        Service: plan.service,
        Stage: plan.stage,
      });
    }
    // ValidateInput removed any ID token from the request; a record never keeps one regardless.
    const { idToken: _never, ...trigger } = request.trigger;
    const verified = trigger.verified;
    const repository: RecordedRepository | undefined = verified
      ? {
          name: verified.repository,
          ...(verified.repositoryId ? { id: verified.repositoryId } : {}),
          ...(plan.repositoryUrl ? { url: plan.repositoryUrl } : {}),
          verified: true,
        }
      : plan.repositoryUrl
        ? { url: plan.repositoryUrl, verified: false }
        : undefined;
    // A state written by an earlier Gantry has no plan.fixFor.
    const fixFor = plan.fixFor ?? [];
    const analysis = state.rollout?.analysis;
    const record: DeploymentRecord = {
      service: plan.service,
      stage: plan.stage,
      version: request.version,
      sha256: request.artifact.sha256,
      ...(repository ? { repository } : {}),
      trigger,
      execution,
      ...(state.artifact ? { artifact: state.artifact } : {}),
      ...(state.preprod ? { preprod: state.preprod } : {}),
      ...(state.approval ? { approval: state.approval } : {}),
      ...(state.rollout
        ? {
            release: {
              newVersion: state.rollout.newVersion,
              previousVersion: state.rollout.previousVersion,
              ...(state.rollout.codeSha256 ? { codeSha256: state.rollout.codeSha256 } : {}),
            },
          }
        : {}),
      ...(state.rollback ? { rollback: state.rollback } : {}),
      ...(fixFor.length > 0 ? { fixFor } : {}),
      ...(analysis ? { analysis } : {}),
      outcome,
      finishedAt: new Date(deps.clock.now()).toISOString(),
    };
    // Append-only: the key is the execution's start time and name; a later finish of the same
    // execution (a retried Finish, the reconcile's) adds an amendment rather than replacing it.
    const key = recordKeys.deployment(plan.service, execution.startedAt, execution.name);
    if (!(await records.create(key, record))) {
      const amendment = amendmentKey(key, record.finishedAt);
      if (await records.create(amendment, { ...record, amends: key })) {
        deps.log?.info("the execution's record already existed: amended it", { key, amendment });
      } else {
        // Only a second finish of this execution at the same millisecond gets here.
        deps.log?.warn("an amendment written at this time already exists: left as it is", {
          key: amendment,
        });
      }
    }
  }
  const lockReleased = await releaseLock(state, deps);
  deps.log?.info("deployment finished", { ...outcome, lockReleased });
  return { ...outcome, lockReleased };
}

/**
 * Names what happened. A failed rollback outranks everything; a named Gantry error keeps its
 * name; anything else (a timeout, an unexpected Lambda error) becomes DeploymentFailed with the
 * original error in the cause.
 */
export function describeOutcome(
  state: Partial<DeploymentState>,
  result: "succeeded" | "failed",
): Omit<Outcome, "lockReleased"> {
  if (result === "succeeded") {
    return { status: "deployed", ...(state.rollout ? { version: state.rollout.newVersion } : {}) };
  }
  const failure: CaughtError = state.failure ?? {
    Error: "DeploymentFailed",
    Cause: "no failure was recorded",
  };
  const original = `${failure.Error}: ${causeText(failure)}`;
  if (state.rollbackFailure) {
    return failed(
      "failed",
      "RollbackFailed",
      `rollback failed (${causeText(state.rollbackFailure)}) after ${original}`,
    );
  }
  const error: FailureName = isFailureName(failure.Error) ? failure.Error : "DeploymentFailed";
  const cause = error === failure.Error ? causeText(failure) : original;
  if (state.rollback) {
    const restored = state.rollback.restoredVersion;
    const note = restored ? `; rolled back to version ${restored}` : "; nothing had been changed";
    return failed("rolled-back", error, `${cause}${note}`);
  }
  const rejected = error === "ApprovalRejected" || error === "ApprovalTimedOut";
  return failed(rejected ? "rejected" : "failed", error, cause);
}

function failed(
  status: OutcomeStatus,
  error: FailureName,
  cause: string,
): Omit<Outcome, "lockReleased"> {
  return { status, error, cause: clip(cause) };
}

function clip(text: string): string {
  return text.length > MAX_CAUSE ? `${text.slice(0, MAX_CAUSE)}…` : text;
}

/**
 * The readable part of a caught error's cause. Lambda reports a function error's cause as JSON
 * (`{"errorType", "errorMessage", "trace"}`); Step Functions' own errors carry plain text.
 */
export function causeText(caught: CaughtError): string {
  const cause = caught.Cause ?? "";
  // Lambda's JSON causes start with "{"; other text parses, if at all, to a value without a
  // string errorMessage (bar JSON after leading blanks, which Lambda never writes), so the
  // check only saves a parse and mutating it is equivalent.
  // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent, see above
  if (cause.startsWith("{")) {
    try {
      const parsed = JSON.parse(cause) as { errorMessage?: unknown };
      if (typeof parsed.errorMessage === "string") return parsed.errorMessage;
    } catch {
      // not JSON after all: use the text as it is
    }
  }
  return cause || "(no cause given)";
}

/**
 * Releases the lock if, and only if, this execution owns it (conditional delete on the ETag we
 * read). Safe to call on every path, including when the lock was never taken. A damaged lock
 * (see `readLock`) is not this execution's (Gantry never writes one): it is left exactly as it
 * is, for an operator to break with `gantry unlock`, and the step goes on.
 */
export async function releaseLock(
  state: {
    readonly plan?: { readonly service: string; readonly stage?: string };
    readonly execution?: { readonly id: string };
  },
  deps: Pick<FinishDeps, "records" | "log">,
): Promise<boolean> {
  if (!state.plan || !state.execution) return false;
  const key = recordKeys.lock(state.plan.service);
  let held: StoredRecord<LockRecord> | undefined;
  try {
    held = await readLock(deps.records, key, {
      service: state.plan.service,
      // The stage only names the target in LockDamaged's message, which is dropped below.
      // Stryker disable next-line LogicalOperator,StringLiteral: equivalent, see above
      stage: state.plan.stage ?? "?",
    });
  } catch (error) {
    if (!(error instanceof LockDamaged)) throw error;
    deps.log?.warn("the lock is damaged: left for an operator (gantry unlock)", { key });
    return false;
  }
  if (!held || held.value.owner !== state.execution.id) return false;
  const deleted = await deps.records.delete(key, held.etag);
  if (!deleted) deps.log?.warn("lock changed while releasing it", { key });
  return deleted;
}
