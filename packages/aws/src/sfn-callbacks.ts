import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from "@aws-sdk/client-sfn";
import type { ExecutionStatus, WorkflowCallbacks } from "@gantry/core";
import { aws, errorName } from "./errors.ts";

/**
 * The Step Functions calls the functions make: completing a waiting task (approvals) and asking
 * whether a lock's owner is still running. Works unchanged against the local control plane by
 * pointing the client's endpoint at it.
 *
 * @example
 * ```ts
 * const workflows = new SfnWorkflowCallbacks(new SFNClient({}));
 * await workflows.sendTaskSuccess(token, { approved: true });
 * ```
 */
export class SfnWorkflowCallbacks implements WorkflowCallbacks {
  readonly #sfn: SFNClient;

  constructor(sfn: SFNClient) {
    this.#sfn = sfn;
  }

  async sendTaskSuccess(taskToken: string, output: unknown): Promise<void> {
    await aws("SendTaskSuccess", () =>
      this.#sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })),
    );
  }

  async sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void> {
    await aws("SendTaskFailure", () =>
      this.#sfn.send(
        new SendTaskFailureCommand({
          taskToken,
          error: error.slice(0, 256),
          cause: cause.slice(0, 32768),
        }),
      ),
    );
  }

  async executionStatus(executionArn: string): Promise<ExecutionStatus | undefined> {
    try {
      const out = await aws("DescribeExecution", () =>
        this.#sfn.send(new DescribeExecutionCommand({ executionArn })),
      );
      return out.status as ExecutionStatus | undefined;
    } catch (error) {
      if (errorName(error) === "ExecutionDoesNotExist") return undefined;
      throw error;
    }
  }
}

/**
 * The input of the last state an execution entered: what the cleanup of an abandoned
 * execution works from. Reads the history newest first and stops at the first StateEntered.
 */
export async function lastStateInput(sfn: SFNClient, executionArn: string): Promise<unknown> {
  let nextToken: string | undefined;
  do {
    const page = await aws("GetExecutionHistory", () =>
      sfn.send(
        new GetExecutionHistoryCommand({
          executionArn,
          reverseOrder: true,
          maxResults: 100,
          nextToken,
        }),
      ),
    );
    for (const event of page.events ?? []) {
      const input =
        event.stateEnteredEventDetails?.input ?? event.executionStartedEventDetails?.input;
      if (input !== undefined) return JSON.parse(input);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return {};
}
