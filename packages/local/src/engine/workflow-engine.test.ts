import { describe, expect, it } from "vitest";
import { TaskTokenRegistry } from "./task-tokens.ts";
import { WorkflowEngine } from "./workflow-engine.ts";

const FN = "arn:aws:lambda:us-east-1:000000000000:function:waits";

/** One callback Task whose TimeoutSecondsPath reads `timeoutPath`. */
function engine(timeoutPath: string, tokens: TaskTokenRegistry) {
  return new WorkflowEngine({
    definition: {
      StartAt: "Waits",
      States: {
        Waits: {
          Type: "Task",
          Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
          Parameters: {
            FunctionName: FN,
            Payload: { "taskToken.$": "$$.Task.Token", "hold.$": "$.hold" },
          },
          TimeoutSecondsPath: timeoutPath,
          ResultPath: null,
          End: true,
        },
      },
    },
    handlers: { [FN]: async () => ({ registered: true }) },
    tokens,
  });
}

describe("WorkflowEngine, callback Tasks", () => {
  it("a TimeoutSecondsPath that reads nothing fails the execution (States.Runtime), and the token it dropped ends nothing else", async () => {
    // Vitest fails the run on an unhandled rejection: the dropped handler's token, closed with
    // the execution, must not become one (locally it would end the control plane's process).
    const tokens = new TaskTokenRegistry();
    const running = engine("$.hold.seconds", tokens).start(
      { hold: {} },
      { executionArn: "arn:aws:states:us-east-1:000000000000:execution:m:e", name: "e" },
    );
    void (async () => {
      for await (const _ of running.events);
    })();
    await expect(running.result).rejects.toMatchObject({ name: "States.Runtime" });
    await new Promise((resolve) => setTimeout(resolve, 50));
  });

  it("a callback Task completes with SendTaskSuccess's output", async () => {
    const tokens = new TaskTokenRegistry();
    const issued: string[] = [];
    const original = tokens.issue.bind(tokens);
    tokens.issue = (arn, state) => {
      const token = original(arn, state);
      issued.push(token);
      return token;
    };
    const running = engine("$.hold.seconds", tokens).start(
      { hold: { seconds: 5 } },
      { executionArn: "arn:aws:states:us-east-1:000000000000:execution:m:f", name: "f" },
    );
    void (async () => {
      for await (const _ of running.events);
    })();
    while (issued.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 20));
    tokens.succeed(issued[0] as string, { ok: true });
    await expect(running.result).resolves.toEqual({ hold: { seconds: 5 } });
  });
});
