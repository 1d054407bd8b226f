import { HistoryReader } from "@gantry/core";
import { explainError } from "../errors.ts";
import { describeExecution } from "../executions.ts";
import { ExitCode } from "../exit-codes.ts";
import { followExecution } from "../follow.ts";
import { chooseRenderer } from "../render/select.ts";
import { summarize } from "../summary.ts";
import type { Target } from "../target.ts";
import { type CommandContext, wantsJson } from "./context.ts";

/**
 * Follows an execution to its end with the renderer this run calls for (live display, log
 * lines or one JSON document), and returns the exit code its end means. Ctrl-C stops following,
 * not the execution (exit 130). Shared by `deploy --wait` and `status --wait`.
 */
export async function watchExecution(
  context: CommandContext,
  target: Target,
  execution: {
    readonly executionArn: string;
    readonly name: string;
    readonly stage?: string | undefined;
    readonly intro: readonly string[];
  },
): Promise<ExitCode> {
  const { io } = context;
  const { executionArn, name, stage } = execution;
  const renderer = chooseRenderer(io, wantsJson(context), {
    executionName: name,
    stage,
    webEndpoint: target.webEndpoint,
  });
  renderer.intro(execution.intro);
  const reader = new HistoryReader();
  let ended: "ended" | "interrupted";
  try {
    ended = await followExecution({
      sfn: target.sfn,
      executionArn,
      onEvents: (events) => renderer.update(reader.apply(events), reader.progress),
      onRetry: (message) => renderer.warn(message),
      sleep: io.sleep,
      signal: io.interrupted,
      endpoint: target.endpoint,
    });
  } catch (error) {
    const explained = explainError(error, {
      endpoint: target.endpoint,
      aws: target.kind === "aws",
      subject: name,
    });
    renderer.interrupted([`lost track of ${name}: ${explained.message}`]);
    throw explained;
  }
  const description = await describeExecution(target.sfn, executionArn).catch(() => undefined);
  const summary = summarize(description ?? { executionArn, name }, reader.progress);
  renderer.finish(summary);
  if (ended === "interrupted") {
    const where = stage ? ` --stage ${stage}` : "";
    renderer.interrupted([
      `stopped following; the deployment goes on. Follow it again: gantry status ${name}${where} --wait`,
    ]);
    return ExitCode.Interrupted;
  }
  return summary.exitCode;
}
