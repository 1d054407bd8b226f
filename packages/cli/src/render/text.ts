import {
  type ApprovalProgress,
  type DeploymentUpdate,
  describeAutoApproval,
  formatP,
  type RollbackProgress,
  type Traffic,
  triggerText,
  type VersionSample,
  type VersionVerdict,
} from "@gantry/core";
import type { ExitCode } from "../exit-codes.ts";
import type { DeploymentSummary } from "../summary.ts";
import { clockTime, formatDuration, orList, shortSha } from "./format.ts";

/** What the words depend on besides the update itself. */
export interface RenderContext {
  readonly executionName: string;
  readonly stage?: string | undefined;
  /** The local control plane's web endpoint: approval emails are in its outbox. */
  readonly webEndpoint?: string | undefined;
}

/** States that pass in an instant: one line when entered (none for a Choice), none when left. */
const INSTANT = new Set(["Choice", "Pass", "Succeed", "Fail"]);

/**
 * The line(s) to print for one update, as plain text (the TTY renderer adds colour and
 * symbols). Empty when the update is not worth a line.
 *
 * @example
 * ```ts
 * describeUpdate({ kind: "traffic", at, traffic: { weight: 25, phase: "steps", newVersion: "7" } }, ctx);
 * // ["traffic: 25% on version 7, 75% on the previous version"]
 * ```
 */
export function describeUpdate(update: DeploymentUpdate, context: RenderContext): string[] {
  switch (update.kind) {
    case "started": {
      const r = update.request;
      if (!r?.service) return ["execution started"];
      // The input's actor is a claim until ValidateInput's "trigger" update says otherwise.
      const by = r.trigger?.actor ? ` for ${r.trigger.actor} (claimed)` : "";
      return [
        `execution started: ${r.service} ${shortSha(r.version)} (sha256 ${r.artifact?.sha256?.slice(0, 16) ?? "?"}…)${by}`,
      ];
    }
    case "trigger":
      // Compact: the verified facts fit one log line; the console shows them in full.
      return [`trigger: ${triggerText(update.trigger, "compact")}`];
    case "state-entered": {
      if (update.type === "Fail") return [`${update.state}: the deployment failed`];
      if (update.type === "Choice") return []; // routing only: the next state says where it went
      if (INSTANT.has(update.type)) return [`${update.state}`];
      const until =
        update.until !== undefined ? ` (waits until ${clockTime(update.until)} UTC)` : "";
      const watching =
        update.watching && update.watching.length > 0
          ? `; ends at once if ${update.watching.join(", ")} enters ALARM`
          : "";
      return [`${update.state} started${until}${watching}`];
    }
    case "state-exited": {
      if (INSTANT.has(update.type) && !update.error) return [];
      const took = formatDuration(update.durationMs);
      return update.error
        ? [`${update.state} failed after ${took}: ${update.error}${cause(update.cause)}`]
        : [`${update.state} done (${took})`];
    }
    case "retry":
      return [`${update.state}: ${update.error}${cause(update.cause)}; retrying`];
    case "traffic":
      return [describeTraffic(update.traffic)];
    case "approval":
      return describeApproval(update.approval, context);
    case "rollback":
      return [describeRollback(update.rollback)];
    case "analysis":
      return [describeVerdict(update.verdict)];
    case "finished":
      return [];
    default:
      return [];
  }
}

function cause(text: string | undefined): string {
  return text ? `: ${text}` : "";
}

/** "traffic: 25% on version 7, 75% on version 6". */
export function describeTraffic(traffic: Traffic): string {
  const next = traffic.newVersion ? `version ${traffic.newVersion}` : "the new version";
  const previous = traffic.previousVersion
    ? `version ${traffic.previousVersion}`
    : "the previous version";
  if (traffic.phase === "rolled-back") return `traffic: 100% back on ${previous}`;
  if (traffic.newVersion && traffic.newVersion === traffic.previousVersion) {
    return `traffic: ${next} already serves all traffic (the same code): nothing to shift`;
  }
  if (traffic.weight >= 100) {
    return traffic.phase === "baked"
      ? `traffic: 100% on ${next}, baked`
      : `traffic: 100% on ${next}, baking under alarms`;
  }
  return `traffic: ${traffic.weight}% on ${next}, ${100 - traffic.weight}% on ${previous}`;
}

/** The approval step in words: who was asked and where the links went, or who decided. */
export function describeApproval(approval: ApprovalProgress, context: RenderContext): string[] {
  switch (approval.status) {
    case "waiting": {
      const outbox = context.webEndpoint ? ` (local outbox: ${context.webEndpoint}/outbox)` : "";
      return [
        `approval: waiting for ${orList(approval.approvers)}; links emailed to ${approval.approvers.join(", ")}${outbox}`,
        `approval: or at a terminal, as a registered operator: gantry approve ${context.executionName} [--as <approver>]`,
      ];
    }
    case "not-required":
      return [`approval: not required${context.stage ? ` in ${context.stage}` : ""}`];
    case "approved": {
      if (approval.how === "auto" && approval.rule) {
        return [`approval: ${describeAutoApproval(approval.rule)}`];
      }
      const channel = approval.how === "operator" ? " at a terminal" : " through the emailed link";
      const comment = approval.comment ? `: "${approval.comment}"` : "";
      return [
        `approval: approved by ${approval.by ?? "an approver"}${channel}${comment} (verified)`,
      ];
    }
    case "not-verified":
      return [`approval: not verified, nothing deployed${cause(approval.cause)}`];
    case "rejected":
      return [`approval: rejected${cause(approval.cause)}`];
    case "timed-out":
      return ["approval: nobody decided in time"];
    default:
      return [];
  }
}

/** The rollback in words. */
export function describeRollback(rollback: RollbackProgress): string {
  switch (rollback.status) {
    case "running":
      return `rolling back${rollback.reason ? ` after ${rollback.reason.error}${cause(rollback.reason.cause)}` : ""}`;
    case "done":
      return rollback.restoredVersion
        ? `rolled back: version ${rollback.restoredVersion} serves all traffic again`
        : "rolled back: nothing had been changed";
    default:
      return `ROLLBACK FAILED: ${rollback.failure?.error ?? "unknown error"}${cause(rollback.failure?.cause)} (the rollback-failed alarm fires; the alias may still route to the new version: see docs/operations.md, RollbackFailed)`;
  }
}

/** "1,170": counts read at a glance. */
function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** "5 0 of 130 failed (0.0%, 30 synthetic)": one version's side of a verdict. */
function sampleText(sample: VersionSample, failed: string): string {
  const rate =
    sample.requests > 0
      ? `${((sample.failures / sample.requests) * 100).toFixed(1)}%`
      : "no requests";
  const synthetic =
    sample.synthetic > 0
      ? `, ${count(sample.synthetic)} synthetic (${count(sample.syntheticFailures)} failed)`
      : "";
  return `version ${sample.version} ${count(sample.failures)} of ${count(sample.requests)}${failed} (${rate}${synthetic})`;
}

/** What was compared, in numbers: both versions, the error-rate test, the p99 ratio, a fix's rule. */
function verdictNumbers(verdict: VersionVerdict): string {
  const parts = [
    `${sampleText(verdict.newVersion, " failed")} vs ${sampleText(verdict.previousVersion, "")}${
      verdict.baseline ? " before the rollout" : ""
    }${verdict.errorRate ? `, Fisher p = ${formatP(verdict.errorRate.pValue)}` : ""}`,
    verdict.latency.judged
      ? `p99 ${verdict.latency.ratio.toFixed(2)}x`
      : `p99 not judged (${verdict.latency.reason})`,
  ];
  const fix = verdict.fix;
  if (fix) {
    const metric = fix.metric === "latency" ? "p99" : "error rate";
    parts.push(
      `fix for ${fix.alarms.join(", ")}: ${metric} ${fix.improved ? "better" : "NOT better"} than version ${verdict.previousVersion.version}`,
    );
  }
  return parts.join("; ");
}

/**
 * One verdict of the version analysis as a line: where (the step's share, or the bake), the
 * decision, and the numbers. A verdict that stopped the deployment (or held it longer, or had
 * nothing to compare) gives the analysis's own sentence, which says why.
 *
 * @example
 * ```ts
 * describeVerdict(verdict);
 * // "analysis at 10%: pass — version 5 0 of 130 failed (0.0%) vs version 4 1 of 1,170 (0.1%), Fisher p = 0.91; p99 1.05x"
 * ```
 */
export function describeVerdict(verdict: VersionVerdict): string {
  const where =
    verdict.phase === "bake" || verdict.phase === "baked" ? "in the bake" : `at ${verdict.weight}%`;
  switch (verdict.decision) {
    case "pass":
      return `analysis ${where}: pass — ${verdictNumbers(verdict)}`;
    case "fail":
    case "insufficient":
      return `analysis ${where}: FAILED ${verdict.failure ?? (verdict.decision === "fail" ? "VersionRegressed" : "InsufficientData")} — ${verdict.summary}`;
    case "extend":
      // The analysis's sentence says how short the sample was and until when it holds.
      return `analysis ${where}: hold extended — ${verdict.summary}`;
    default:
      return `analysis ${where}: ${verdict.decision} — ${verdict.summary}`;
  }
}

const MEANING: Readonly<Record<number, string>> = {
  0: "deployed",
  2: "invalid input",
  3: "rolled back",
  4: "approval rejected or timed out",
  5: "failed",
};

/** What an exit code means, for the last line of a log. */
export function exitMeaning(code: ExitCode): string {
  return MEANING[code] ?? "interrupted";
}

/** The closing lines: how it ended, the error and cause, the total time. */
export function describeSummary(summary: DeploymentSummary): string[] {
  const what = `${summary.service ?? "?"} ${shortSha(summary.version ?? undefined)}`;
  const stage = summary.stage ? ` to ${summary.stage}` : "";
  const took =
    summary.durationSeconds !== null ? ` in ${formatDuration(summary.durationSeconds * 1000)}` : "";
  const why = `${summary.error ?? "failed"}${cause(summary.cause ?? undefined)}`;
  const lines: string[] = [];
  switch (summary.result) {
    case "deployed": {
      const version = summary.outcome?.version
        ? ` (Lambda version ${summary.outcome.version})`
        : "";
      lines.push(`Deployed ${what}${stage}${took}${version}.`);
      break;
    }
    case "running":
      lines.push(`${what}${stage} is still running (${summary.name}).`);
      break;
    case "rolled-back":
      lines.push(`Rolled back: ${what} was not deployed${stage}${took}. ${why}`);
      break;
    case "rejected":
      lines.push(
        `Not deployed: ${what}${stage} was ${summary.error === "ApprovalTimedOut" ? "not approved in time" : "rejected"}${took}. ${why}`,
      );
      break;
    case "aborted":
      lines.push(`Stopped: ${what}${stage} was stopped${took}. ${why}`);
      break;
    case "timed-out":
      lines.push(`Timed out: ${what}${stage}${took}. ${why}`);
      break;
    default:
      lines.push(`Failed: ${what}${stage}${took}. ${why}`);
  }
  if (summary.trigger) lines.push(`trigger: ${triggerText(summary.trigger, "compact")}`);
  lines.push(`execution ${summary.executionArn}`);
  if (summary.result !== "running") {
    lines.push(`exit code ${summary.exitCode} (${exitMeaning(summary.exitCode)})`);
  }
  return lines;
}
