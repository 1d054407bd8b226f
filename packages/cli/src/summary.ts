import {
  type ApprovalProgress,
  type DeploymentOutcome,
  type DeploymentProgress,
  deploymentOutcome,
  type RecordedOutcome,
  type RollbackProgress,
  readableCause,
  recordedOutcomeOf,
  stageOfStateMachine,
  type Traffic,
  type VerdictReading,
  type VerifiedTrigger,
} from "@gantry/core";
import type { ExecutionDescription } from "./executions.ts";
import { type ExitCode, exitCodeFor } from "./exit-codes.ts";

/** One state visit in the JSON document. */
export interface StateTiming {
  readonly name: string;
  readonly type: string;
  readonly enteredAt: string;
  readonly exitedAt: string | null;
  readonly durationSeconds: number | null;
  readonly error?: string;
  readonly cause?: string;
}

/**
 * Everything about one deployment (one execution of the workflow) that `--json` prints and the
 * exit code is decided from. Every field is always present (null when unknown), so scripts can
 * read it without guarding.
 */
export interface DeploymentSummary {
  readonly executionArn: string;
  readonly name: string;
  readonly stateMachineArn: string | null;
  readonly stage: string | null;
  readonly service: string | null;
  readonly version: string | null;
  readonly artifact: { readonly key: string | null; readonly sha256: string | null };
  /** Who triggered it: the verified token's actor, else the caller's claim. */
  readonly actor: string | null;
  /**
   * The trigger as ValidateInput accepted it: `verified` holds the ID token's checked claims
   * (null: the actor is an unverified claim). Null until ValidateInput has run (or if it refused).
   */
  readonly trigger: {
    readonly actor: string;
    readonly ciRunUrl: string | null;
    readonly verified: VerifiedTrigger | null;
  } | null;
  /** Step Functions' status: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED. */
  readonly status: string;
  /** How it ended, in one word: deployed, rolled-back, rejected, failed, aborted, timed-out, running. */
  readonly result: DeploymentOutcome;
  readonly exitCode: ExitCode;
  /** `$.outcome` as the workflow recorded it. */
  readonly outcome: RecordedOutcome | null;
  readonly error: string | null;
  readonly cause: string | null;
  readonly startedAt: string | null;
  readonly stoppedAt: string | null;
  readonly durationSeconds: number | null;
  /** Every state visited, in order. */
  readonly states: readonly StateTiming[];
  readonly traffic: Traffic | null;
  readonly approval: ApprovalProgress | null;
  readonly rollback: RollbackProgress | null;
  /** `gantry deploy --fix-for`: the alarms it fixes (empty for an ordinary deployment). */
  readonly fixFor: readonly string[];
  /**
   * The version analysis's verdicts, one per hold that ended, oldest first: each is a
   * CheckAlarms (or CheckBakeAlarms) output's `$.rollout.analysis` (samples, rates, p-value,
   * p99 ratio, decision, summary) and `state`, the check that gave it. Empty without analysis.
   */
  readonly analysis: readonly VerdictReading[];
}

function iso(ms: number | undefined): string | null {
  return ms !== undefined && Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

function seconds(from: number | undefined, to: number | undefined): number | null {
  if (from === undefined || to === undefined || !Number.isFinite(from) || !Number.isFinite(to)) {
    return null;
  }
  return Math.round(Math.max(0, to - from)) / 1000;
}

/**
 * Combines DescribeExecution's answer with what the history showed into a
 * {@link DeploymentSummary}, including the exit code CI branches on.
 *
 * @example
 * ```ts
 * const summary = summarize(description, reader.progress);
 * process.exitCode = summary.exitCode;
 * ```
 */
export function summarize(
  description: Partial<
    Pick<
      ExecutionDescription,
      | "executionArn"
      | "name"
      | "stateMachineArn"
      | "status"
      | "startDate"
      | "stopDate"
      | "error"
      | "cause"
      | "output"
    >
  >,
  progress: DeploymentProgress,
): DeploymentSummary {
  // The history may already hold the end while DescribeExecution still says RUNNING (or the
  // other way round): whichever has seen the end wins.
  const status =
    description.status === undefined ||
    (description.status === "RUNNING" && progress.status !== "RUNNING")
      ? progress.status
      : description.status;
  const outcome = progress.recordedOutcome ?? recordedOutcomeOf(description.output) ?? null;
  const error = description.error ?? progress.error ?? null;
  const rawCause = description.cause ?? progress.cause;
  const cause = rawCause !== undefined ? readableCause(rawCause) : null;
  const result = deploymentOutcome({
    status,
    error: error ?? undefined,
    recordedStatus: outcome?.status,
    rolledBack: progress.rollback?.status === "done",
  });
  const startedAt = description.startDate?.getTime() ?? progress.startedAt;
  const stoppedAt = description.stopDate?.getTime() ?? progress.finishedAt;
  const request = progress.request;
  const trigger = progress.trigger;
  return {
    executionArn: description.executionArn ?? "",
    name: description.name ?? description.executionArn?.split(":").at(-1) ?? "",
    stateMachineArn: description.stateMachineArn ?? null,
    stage: progress.stage ?? stageOfStateMachine(description.stateMachineArn) ?? null,
    service: request?.service ?? null,
    version: request?.version ?? null,
    artifact: { key: request?.artifact?.key ?? null, sha256: request?.artifact?.sha256 ?? null },
    actor: trigger?.actor ?? request?.trigger?.actor ?? null,
    trigger: trigger
      ? {
          actor: trigger.actor,
          ciRunUrl: trigger.ciRunUrl ?? null,
          verified: trigger.verified ?? null,
        }
      : null,
    status,
    result,
    exitCode: exitCodeFor(result, error ?? undefined),
    outcome,
    error,
    cause,
    startedAt: iso(startedAt),
    stoppedAt: iso(stoppedAt),
    durationSeconds: seconds(startedAt, stoppedAt),
    states: progress.visits.map((visit) => ({
      name: visit.name,
      type: visit.type,
      enteredAt: iso(visit.enteredAt) ?? "",
      exitedAt: iso(visit.exitedAt),
      durationSeconds: seconds(visit.enteredAt, visit.exitedAt),
      ...(visit.error ? { error: visit.error } : {}),
      ...(visit.cause ? { cause: readableCause(visit.cause) } : {}),
    })),
    traffic: progress.traffic ?? null,
    approval: progress.approval ?? null,
    rollback: progress.rollback ?? null,
    fixFor: progress.fixFor ?? [],
    analysis: progress.verdicts,
  };
}
