import { describe, expect, it } from "vitest";
import { CliError, explainError, networkCode } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";

function named(name: string, message = "x", extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { name, ...extra });
}

describe("explainError", () => {
  it("says what to do about missing credentials", () => {
    const explained = explainError(
      named("CredentialsProviderError", "Could not load credentials from any providers"),
    );
    expect(explained.exitCode).toBe(ExitCode.Failed);
    expect(explained.message).toContain("no AWS credentials");
    expect(explained.hints.join("\n")).toContain("role-to-assume");
  });

  it("says how to start a control plane that is not running", () => {
    const refused = Object.assign(new TypeError("fetch failed"), {
      cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8083"), {
        code: "ECONNREFUSED",
      }),
    });
    expect(networkCode(refused)).toBe("ECONNREFUSED");
    const explained = explainError(refused, { endpoint: "http://127.0.0.1:8083" });
    expect(explained.message).toBe(
      "cannot reach http://127.0.0.1:8083 (ECONNREFUSED): the control plane is not running there",
    );
    expect(explained.hints[0]).toContain("npm start");
    expect(
      networkCode(new AggregateError([Object.assign(new Error(), { code: "ECONNREFUSED" })])),
    ).toBe("ECONNREFUSED");
  });

  it("names executions and state machines that do not exist (exit 2)", () => {
    const execution = explainError(named("ExecutionDoesNotExist"), { subject: "hello-1" });
    expect(execution).toMatchObject({
      exitCode: ExitCode.Usage,
      message: "no such execution: hello-1",
    });
    expect(explainError(named("StateMachineDoesNotExist")).hints[0]).toContain(
      "--state-machine-arn",
    );
  });

  it("explains AWS refusals, and passes anything else through as exit 5", () => {
    expect(explainError(named("AccessDeniedException", "not authorized")).message).toBe(
      "AWS refused the request (AccessDeniedException): not authorized",
    );
    expect(explainError(named("Weird", "boom"))).toMatchObject({
      exitCode: ExitCode.Failed,
      message: "Weird: boom",
    });
    const mine = new CliError(ExitCode.Usage, "mine");
    expect(explainError(mine)).toBe(mine);
  });
});
