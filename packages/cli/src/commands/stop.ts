import { StopExecutionCommand } from "@aws-sdk/client-sfn";
import { stageOption, stringOption } from "../args.ts";
import { defaultActor } from "../ci-env.ts";
import { explainError } from "../errors.ts";
import { describeExecution, resolveExecution } from "../executions.ts";
import { ExitCode } from "../exit-codes.ts";
import { printJson } from "../render/json.ts";
import { type CommandContext, say, targetOf, wantsJson } from "./context.ts";

/**
 * `gantry stop <execution>`: StopExecution with the operator's cause. Gantry cleans up a stopped
 * deployment (traffic back on the previous version, lock released): locally at once, in AWS
 * through the EventBridge rule on ABORTED executions.
 */
export async function stopCommand(context: CommandContext): Promise<ExitCode> {
  const ref = context.positional ?? "";
  const stage = stageOption(context.command, context.options, false);
  const target = targetOf(context, ref);
  const { arn, description } = await resolveExecution(target, ref, stage, context.command);
  const json = wantsJson(context);
  if (description.status !== "RUNNING") {
    if (json) {
      printJson(context.io.stdout, {
        executionArn: arn,
        stopped: false,
        status: description.status,
      });
    } else {
      say(
        context,
        `${description.name ?? ref} is not running (${description.status}): nothing to stop`,
      );
    }
    return ExitCode.Ok;
  }
  const cause =
    stringOption(context.options, "cause") ??
    `stopped by ${defaultActor(context.io.env)} with gantry stop`;
  try {
    await target.sfn.send(
      new StopExecutionCommand({ executionArn: arn, error: "StoppedByOperator", cause }),
    );
  } catch (error) {
    throw explainError(error, { endpoint: target.endpoint, subject: ref });
  }
  const after = await describeExecution(target.sfn, arn).catch(() => undefined);
  if (json) {
    printJson(context.io.stdout, {
      executionArn: arn,
      stopped: true,
      status: after?.status ?? "ABORTED",
      stoppedAt: after?.stopDate?.toISOString() ?? null,
      cause,
    });
  } else {
    say(
      context,
      `stopped ${description.name ?? ref} (${after?.status ?? "ABORTED"}): ${cause}`,
      "Gantry cleans up a stopped deployment: traffic goes back to the previous version and the lock is released.",
    );
  }
  return ExitCode.Ok;
}
