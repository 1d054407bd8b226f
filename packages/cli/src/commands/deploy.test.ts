import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { executionName } from "@gantry/core";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { CliError } from "../errors.ts";
import { differingFields, startOrFind } from "./deploy.ts";

const sfn = mockClient(SFNClient);
const machine = "arn:aws:states:us-east-1:123456789012:stateMachine:gantry-prod";
const request = {
  service: "hello-service",
  version: "3f2a9c1e0b12",
  artifact: { key: "hello-service/3f2a9c1e0b12/a.zip", sha256: "ab".repeat(32) },
  trigger: { actor: "octocat" },
};
const name = executionName(request);
const arn = `arn:aws:states:us-east-1:123456789012:execution:gantry-prod:${name}`;
const exists = Object.assign(new Error("Execution Already Exists"), {
  name: "ExecutionAlreadyExists",
});
const missing = Object.assign(new Error("no"), { name: "ExecutionDoesNotExist" });

beforeEach(() => sfn.reset());

describe("startOrFind", () => {
  it("starts the execution under its deterministic name with the request as input", async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: arn, startDate: new Date() });
    const started = await startOrFind(new SFNClient({}), machine, name, request, "prod", 1);
    expect(started).toEqual({ executionArn: arn, name });
    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input).toEqual({
      stateMachineArn: machine,
      name,
      input: JSON.stringify(request),
    });
  });

  it("finds the execution a retried job started (same input), without starting another", async () => {
    sfn.on(StartExecutionCommand).rejects(exists);
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: arn,
      status: "SUCCEEDED",
      // Same JSON, other key order: still the same input.
      input: JSON.stringify({
        trigger: request.trigger,
        artifact: request.artifact,
        version: request.version,
        service: request.service,
      }),
    });
    const started = await startOrFind(new SFNClient({}), machine, name, request, "prod", 1);
    expect(started.existing?.status).toBe("SUCCEEDED");
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it("refuses a different input under the same name (exit 2), naming the next free attempt", async () => {
    sfn.on(StartExecutionCommand).rejects(exists);
    sfn
      .on(DescribeExecutionCommand, { executionArn: arn })
      .resolves({
        executionArn: arn,
        status: "FAILED",
        input: JSON.stringify({ ...request, trigger: { actor: "x" } }),
      })
      .on(DescribeExecutionCommand, { executionArn: `${arn}-r2` })
      .resolves({ executionArn: `${arn}-r2`, status: "SUCCEEDED" })
      .on(DescribeExecutionCommand, { executionArn: `${arn}-r3` })
      .rejects(missing);
    const error = await startOrFind(new SFNClient({}), machine, name, request, "prod", 1).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(2);
    expect((error as CliError).message).toContain("(trigger.actor differ)");
    expect((error as CliError).hints[0]).toContain("--attempt 3");
  });

  it("finds a retried job's execution although its ID token is new", async () => {
    sfn.on(StartExecutionCommand).rejects(exists);
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: arn,
      status: "RUNNING",
      input: JSON.stringify({
        ...request,
        trigger: { ...request.trigger, idToken: "first.job.token" },
      }),
    });
    const retried = { ...request, trigger: { ...request.trigger, idToken: "second.job.token" } };
    const started = await startOrFind(new SFNClient({}), machine, name, retried, "prod", 1);
    expect(started.existing?.status).toBe("RUNNING");
    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input).toContain(
      "second.job.token",
    );
  });

  it("still refuses another input whose only likeness is the token (and never names it)", async () => {
    sfn.on(StartExecutionCommand).rejects(exists);
    sfn
      .on(DescribeExecutionCommand, { executionArn: arn })
      .resolves({
        executionArn: arn,
        status: "SUCCEEDED",
        input: JSON.stringify({
          ...request,
          trigger: { actor: "mallory", idToken: "old.token.x" },
        }),
      })
      .on(DescribeExecutionCommand, { executionArn: `${arn}-r2` })
      .rejects(missing);
    const retried = { ...request, trigger: { ...request.trigger, idToken: "new.token.y" } };
    const error = await startOrFind(new SFNClient({}), machine, name, retried, "prod", 1).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toContain("(trigger.actor differ)");
    expect(JSON.stringify((error as CliError).details)).not.toContain("token");
  });

  it("tells a running execution returned by StartExecution from a new one", async () => {
    sfn
      .on(StartExecutionCommand)
      .resolves({ executionArn: arn, startDate: new Date(Date.now() - 60_000) });
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: arn, status: "RUNNING" });
    const started = await startOrFind(new SFNClient({}), machine, name, request, "prod", 1);
    expect(started.existing?.status).toBe("RUNNING");
  });
});

describe("differingFields", () => {
  it("lists the dotted paths that differ", () => {
    expect(differingFields({ a: 1, b: { c: 2, d: 3 } }, { a: 1, b: { c: 2, d: 4 }, e: 5 })).toEqual(
      ["b.d", "e"],
    );
    expect(differingFields({ a: [1, 2] }, { a: [1, 2] })).toEqual([]);
  });
});
