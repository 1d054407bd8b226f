import { describe, expect, it } from "vitest";
import { CanaryFailed } from "../errors.ts";
import type { InvocationResult } from "../ports.ts";
import type { CanarySpec } from "../registry.ts";
import { testPlan, testRollout } from "../testing/fixtures.ts";
import { canary, runCanaryChecks } from "./canary.ts";

type Answer = InvocationResult | Error;

/** A fake Lambda: answers each check's event by its `name` field, records what was invoked. */
function fakeFunctions(answers: Record<string, Answer>) {
  const calls: { functionName: string; qualifier: string; event: unknown }[] = [];
  return {
    calls,
    async invoke(functionName: string, qualifier: string, event: unknown) {
      calls.push({ functionName, qualifier, event });
      const answer = answers[(event as { name: string }).name];
      if (!answer) throw new Error("no answer configured");
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}

const ok = (payload: unknown): InvocationResult => ({ executedVersion: "2", payload });

function spec(
  ...checks: { name: string; statusCode?: number; bodyIncludes?: string }[]
): CanarySpec {
  return {
    checks: checks.map(({ name, statusCode, bodyIncludes }) => ({
      name,
      event: { name },
      expect: {
        ...(statusCode !== undefined ? { statusCode } : {}),
        ...(bodyIncludes !== undefined ? { bodyIncludes } : {}),
      },
    })),
  };
}

describe("runCanaryChecks", () => {
  it("invokes each check's event against the qualifier and passes matching answers", async () => {
    const functions = fakeFunctions({
      a: ok({ statusCode: 200, body: "hello world" }),
      b: ok({ statusCode: 201, body: "" }),
    });
    const results = await runCanaryChecks(
      functions,
      "hello-prod",
      "live",
      spec({ name: "a", statusCode: 200, bodyIncludes: "hello" }, { name: "b", statusCode: 201 }),
    );
    expect(results).toEqual([
      { name: "a", passed: true, detail: "ok (version 2)" },
      { name: "b", passed: true, detail: "ok (version 2)" },
    ]);
    expect(functions.calls).toEqual([
      { functionName: "hello-prod", qualifier: "live", event: { name: "a" } },
      { functionName: "hello-prod", qualifier: "live", event: { name: "b" } },
    ]);
  });

  it("fails a check whose statusCode differs", async () => {
    const functions = fakeFunctions({ a: ok({ statusCode: 500, body: "hello" }) });
    expect(
      await runCanaryChecks(functions, "f", "2", spec({ name: "a", statusCode: 200 })),
    ).toEqual([{ name: "a", passed: false, detail: "expected statusCode 200, got 500" }]);
  });

  it("fails a statusCode check when the payload has none", async () => {
    const functions = fakeFunctions({ a: ok("plain text"), b: ok(null) });
    const results = await runCanaryChecks(
      functions,
      "f",
      "2",
      spec({ name: "a", statusCode: 200 }, { name: "b", statusCode: 200 }),
    );
    expect(results.map((r) => r.detail)).toEqual([
      "expected statusCode 200, got undefined",
      "expected statusCode 200, got undefined",
    ]);
  });

  it("looks for bodyIncludes in payload.body when the body is a string", async () => {
    const functions = fakeFunctions({
      found: ok({ statusCode: 200, body: "hello there" }),
      // The text is elsewhere in the payload, not in the body: not good enough.
      missing: ok({ statusCode: 200, body: "bye", note: "hello" }),
    });
    const results = await runCanaryChecks(
      functions,
      "f",
      "2",
      spec({ name: "found", bodyIncludes: "hello" }, { name: "missing", bodyIncludes: "hello" }),
    );
    expect(results).toEqual([
      { name: "found", passed: true, detail: "ok (version 2)" },
      { name: "missing", passed: false, detail: 'body does not include "hello"' },
    ]);
  });

  it("looks for bodyIncludes in the whole JSON payload when there is no string body", async () => {
    const functions = fakeFunctions({
      json: ok({ greeting: "hello" }),
      text: ok("hello, plain"),
      nobody: ok({ body: { nested: "x" } }),
    });
    const results = await runCanaryChecks(
      functions,
      "f",
      "2",
      spec(
        { name: "json", bodyIncludes: '"greeting":"hello"' },
        { name: "text", bodyIncludes: "hello" },
        { name: "nobody", bodyIncludes: "hello" },
      ),
    );
    expect(results.map((r) => r.passed)).toEqual([true, true, false]);
  });

  it("fails a check whose invocation ended in a function error, showing Lambda's error type and message", async () => {
    const functions = fakeFunctions({
      a: {
        executedVersion: "2",
        functionError: "Unhandled",
        payload: { errorType: "Boom", errorMessage: "it broke" },
      },
    });
    expect(await runCanaryChecks(functions, "f", "2", spec({ name: "a" }))).toEqual([
      {
        name: "a",
        passed: false,
        detail: "function error (Unhandled): Boom: it broke",
      },
    ]);
  });

  it("clips a long function error payload to 200 characters", async () => {
    const functions = fakeFunctions({
      a: { executedVersion: "2", functionError: "Handled", payload: "e".repeat(500) },
    });
    const [result] = await runCanaryChecks(functions, "f", "2", spec({ name: "a" }));
    expect(result?.detail).toBe(`function error (Handled): ${"e".repeat(200)}…`);
  });

  it("counts a check whose invoke throws as failed, with the reason, and runs the rest", async () => {
    const throttled = Object.assign(new Error("Rate exceeded"), {
      name: "TooManyRequestsException",
    });
    const functions = fakeFunctions({ a: throttled, b: ok({ statusCode: 200 }) });
    const results = await runCanaryChecks(
      functions,
      "f",
      "2",
      spec({ name: "a", statusCode: 200 }, { name: "b", statusCode: 200 }),
    );
    expect(results).toEqual([
      {
        name: "a",
        passed: false,
        detail: "invoke failed: TooManyRequestsException: Rate exceeded",
      },
      { name: "b", passed: true, detail: "ok (version 2)" },
    ]);
  });

  it("reports a thrown non-Error as text", async () => {
    const functions = {
      async invoke(): Promise<InvocationResult> {
        throw "socket hang up";
      },
    };
    const [result] = await runCanaryChecks(functions, "f", "2", spec({ name: "a" }));
    expect(result).toEqual({ name: "a", passed: false, detail: "invoke failed: socket hang up" });
  });
});

describe("canary", () => {
  const plan = {
    ...testPlan(),
    canary: spec(
      { name: "home", statusCode: 200, bodyIncludes: "hello" },
      { name: "health", statusCode: 200 },
      { name: "missing", statusCode: 404 },
    ),
  };

  it("invokes the new version directly, not the alias, and returns the report", async () => {
    const functions = fakeFunctions({
      home: ok({ statusCode: 200, body: "hello" }),
      health: ok({ statusCode: 200 }),
      missing: ok({ statusCode: 404 }),
    });
    const report = await canary({ plan, rollout: testRollout({ newVersion: "7" }) }, { functions });
    expect(report.version).toBe("7");
    expect(report.results.map((r) => r.passed)).toEqual([true, true, true]);
    expect(functions.calls.map((c) => `${c.functionName}:${c.qualifier}`)).toEqual([
      "hello-prod:7",
      "hello-prod:7",
      "hello-prod:7",
    ]);
  });

  it("throws CanaryFailed listing every failed check", async () => {
    const functions = fakeFunctions({
      home: ok({ statusCode: 500, body: "oops" }),
      health: ok({ statusCode: 200 }),
      missing: new Error("timeout"),
    });
    const run = canary({ plan, rollout: testRollout({ newVersion: "7" }) }, { functions });
    await expect(run).rejects.toThrow(CanaryFailed);
    await expect(
      canary({ plan, rollout: testRollout({ newVersion: "7" }) }, { functions }),
    ).rejects.toThrow(
      "version 7 failed 2 of 3 canary checks: home: expected statusCode 200, got 500; " +
        "missing: invoke failed: Error: timeout",
    );
  });

  it("needs the rollout Deploy wrote", async () => {
    await expect(canary({ plan }, { functions: fakeFunctions({}) })).rejects.toThrow(
      new TypeError("canary needs $.rollout (Deploy runs first)"),
    );
  });
});
