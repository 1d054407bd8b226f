import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type SFNClient,
} from "@aws-sdk/client-sfn";
import { type DeploymentProgress, HistoryReader, type Stage } from "@gantry/core";
import { CliError, explainError, UsageError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { eventsAfter } from "./follow.ts";
import { type DeploymentSummary, summarize } from "./summary.ts";
import { executionArnFor, parseExecutionArn, type Target } from "./target.ts";

/** DescribeExecution's answer. */
export type ExecutionDescription = DescribeExecutionCommandOutput;

/**
 * Describes an execution, or undefined when it does not exist. Other errors pass through.
 */
export async function describeExecution(
  sfn: SFNClient,
  executionArn: string,
): Promise<ExecutionDescription | undefined> {
  try {
    return await sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (error) {
    if ((error as { name?: string }).name === "ExecutionDoesNotExist") return undefined;
    throw error;
  }
}

/**
 * Finds the execution a user named: a full ARN as it is; a name in `stage`'s state machine, or
 * in whichever known stage has it. A name both stages have (the same version deployed to preprod
 * and prod) needs `--stage`.
 *
 * @example
 * ```ts
 * const { arn } = await resolveExecution(target, "hello-service-3f2a9c1e0b12-ab12cd34", "prod", "status");
 * ```
 */
export async function resolveExecution(
  target: Target,
  ref: string,
  stage: Stage | undefined,
  command: string,
): Promise<{ arn: string; description: ExecutionDescription }> {
  const context = {
    subject: ref,
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    aws: target.kind === "aws",
  };
  try {
    if (ref.startsWith("arn:")) {
      if (!parseExecutionArn(ref)) {
        throw new UsageError(command, `not an execution ARN: ${ref}`, [
          "an execution ARN looks like arn:aws:states:<region>:<account>:execution:<state machine>:<name>",
        ]);
      }
      const description = await describeExecution(target.sfn, ref);
      if (!description) throw notFound(ref, []);
      return { arn: ref, description };
    }
    const stages = stage ? [stage] : target.knownStages();
    if (stages.length === 0) target.stateMachineArn(stage ?? "prod"); // throws: how to name one
    const found: { arn: string; description: ExecutionDescription; stage: Stage }[] = [];
    for (const s of stages) {
      const arn = executionArnFor(target.stateMachineArn(s), ref);
      const description = await describeExecution(target.sfn, arn);
      if (description) found.push({ arn, description, stage: s });
    }
    const [only, other] = found;
    if (!only) throw notFound(ref, stages);
    if (other) {
      throw new CliError(
        ExitCode.Usage,
        `${ref} exists in both ${found.map((f) => f.stage).join(" and ")}: which one?`,
        ["pass --stage preprod or --stage prod, or the execution's ARN"],
      );
    }
    return { arn: only.arn, description: only.description };
  } catch (error) {
    throw explainError(error, context);
  }
}

function notFound(ref: string, stages: readonly Stage[]): CliError {
  const where = stages.length > 0 ? ` in ${stages.join(" or ")}` : "";
  return new CliError(ExitCode.Usage, `no execution ${ref}${where}`, [
    "list recent executions with `gantry list`",
    stages.length === 1
      ? "it may have run in the other stage: try the other --stage"
      : "names are case-sensitive; a full execution ARN works too",
  ]);
}

/**
 * An execution's summary from its whole history (for `status`, and for a retried deploy whose
 * execution has already ended).
 */
export async function readSummary(
  sfn: SFNClient,
  executionArn: string,
  description?: ExecutionDescription,
): Promise<{ summary: DeploymentSummary; progress: DeploymentProgress }> {
  const reader = new HistoryReader();
  reader.apply(await eventsAfter(sfn, executionArn, 0));
  const described = description ?? (await sfn.send(new DescribeExecutionCommand({ executionArn })));
  return { summary: summarize(described, reader.progress), progress: reader.progress };
}
