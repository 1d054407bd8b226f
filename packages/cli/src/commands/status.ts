import { type DeploymentProgress, stageOfStateMachine, triggerText } from "@gantry/core";
import { flag, stageOption } from "../args.ts";
import { explainError } from "../errors.ts";
import { readSummary, resolveExecution } from "../executions.ts";
import type { ExitCode } from "../exit-codes.ts";
import { formatDuration, shortSha, table } from "../render/format.ts";
import { printJson } from "../render/json.ts";
import {
  describeApproval,
  describeRollback,
  describeTraffic,
  describeVerdict,
  exitMeaning,
} from "../render/text.ts";
import type { DeploymentSummary } from "../summary.ts";
import { type CommandContext, say, targetOf, wantsJson } from "./context.ts";
import { watchExecution } from "./watch.ts";

/**
 * `gantry status <execution>`: where an execution stands. The exit code is deploy's for a
 * finished execution (0 deployed, 3 rolled back, 4 rejected, 5 failed) and 0 while it runs, so
 * CI can check a deployment started without --wait. With `--wait`, follows it to the end as
 * `deploy --wait` does.
 */
export async function statusCommand(context: CommandContext): Promise<ExitCode> {
  const ref = context.positional ?? "";
  const stage = stageOption(context.command, context.options, false);
  const target = targetOf(context, ref);
  const { arn, description } = await resolveExecution(target, ref, stage, context.command);
  if (flag(context.options, "wait")) {
    const name = description.name ?? ref;
    return watchExecution(context, target, {
      executionArn: arn,
      name,
      stage: stage ?? stageOfStateMachine(description.stateMachineArn),
      intro: [`following ${name}`, `execution ${arn}`],
    });
  }
  const { summary, progress } = await readSummary(target.sfn, arn, description).catch(
    (error: unknown) => {
      throw explainError(error, { endpoint: target.endpoint, subject: ref });
    },
  );
  if (wantsJson(context)) printJson(context.io.stdout, summary);
  else say(context, ...statusLines(summary, progress, context.io.now(), target.webEndpoint));
  return summary.exitCode;
}

/** The status as aligned "label  value" lines. */
export function statusLines(
  summary: DeploymentSummary,
  progress: DeploymentProgress,
  now: number,
  webEndpoint?: string,
): string[] {
  const rows: string[][] = [];
  const add = (label: string, value: string | undefined | null) => {
    if (value) rows.push([label, value]);
  };
  const running = summary.result === "running";
  add("status", `${summary.status} (${running ? "running" : summary.result})`);
  add(
    "request",
    summary.service
      ? `${summary.service} ${shortSha(summary.version ?? undefined)} (sha256 ${summary.artifact.sha256?.slice(0, 16) ?? "?"}…)`
      : undefined,
  );
  // What ValidateInput verified; before it (or if it refused), the input's actor is a claim.
  const trigger = summary.trigger ?? (summary.actor ? { actor: summary.actor } : undefined);
  add("trigger", trigger ? triggerText(trigger, "compact") : undefined);
  add("artifact", summary.artifact.key);
  const started = summary.startedAt ? Date.parse(summary.startedAt) : undefined;
  const took =
    summary.durationSeconds !== null
      ? formatDuration(summary.durationSeconds * 1000)
      : started !== undefined
        ? `${formatDuration(now - started)} so far`
        : undefined;
  add("started", summary.startedAt ? `${summary.startedAt} (${took ?? "?"})` : undefined);
  add("stopped", summary.stoppedAt);
  if (running && progress.current) {
    add(
      "state",
      `${progress.current.name} (for ${formatDuration(now - progress.current.enteredAt)})`,
    );
  }
  add(
    "traffic",
    summary.traffic ? describeTraffic(summary.traffic).replace(/^traffic: /, "") : undefined,
  );
  if (summary.approval) {
    const lines = describeApproval(summary.approval, {
      executionName: summary.name,
      stage: summary.stage ?? undefined,
      webEndpoint,
    }).map((line) => line.replace(/^approval: /, ""));
    lines.forEach((line, i) => {
      add(i === 0 ? "approval" : "", line);
    });
  }
  add(
    "fix for",
    summary.fixFor.length > 0
      ? `${summary.fixFor.join(", ")} (in ALARM when it started: the version analysis judges it, not that alarm)`
      : undefined,
  );
  // One line per hold that ended: how the new version did against the previous one.
  summary.analysis.forEach((verdict, i) => {
    add(i === 0 ? "analysis" : "", describeVerdict(verdict).replace(/^analysis /, ""));
  });
  add("rollback", summary.rollback ? describeRollback(summary.rollback) : undefined);
  add(
    "error",
    summary.error ? `${summary.error}${summary.cause ? `: ${summary.cause}` : ""}` : undefined,
  );
  add("execution", summary.executionArn);
  if (!running) add("exit code", `${summary.exitCode} (${exitMeaning(summary.exitCode)})`);
  return [`${summary.name}${summary.stage ? `  (${summary.stage})` : ""}`, indent(table(rows))];
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
}
