import { describe, expect, it } from "vitest";
import { CanaryFailed } from "../errors.ts";
import type { InvocationResult } from "../ports.ts";
import type { CanarySpec } from "../registry.ts";
import { T0, testPlan, testRollout } from "../testing/fixtures.ts";
import { prodWithTwoVersions } from "../testing/world.ts";
import { canary, runCanaryCheck, runCanaryChecks } from "./canary.ts";

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

  it("fails a bodyIncludes check on a null payload as a body mismatch", async () => {
    const functions = fakeFunctions({ a: ok(null) });
    expect(
      await runCanaryChecks(functions, "f", "2", spec({ name: "a", bodyIncludes: "hello" })),
    ).toEqual([{ name: "a", passed: false, detail: 'body does not include "hello"' }]);
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

  // Lambda's error shape is used only when both fields are strings; anything else is shown as it is.
  it.each([
    ["no errorMessage", { errorType: "Boom" }, '{"errorType":"Boom"}'],
    [
      "a non-string errorMessage",
      { errorType: "Boom", errorMessage: 42 },
      '{"errorType":"Boom","errorMessage":42}',
    ],
    ["a text payload", "Task timed out", "Task timed out"],
    ["a null payload", null, "null"],
    ["no payload", undefined, ""],
  ])("shows a function error with %s as the payload itself", async (_, payload, shown) => {
    const functions = fakeFunctions({
      a: { executedVersion: "2", functionError: "Unhandled", payload },
    });
    expect(await runCanaryChecks(functions, "f", "2", spec({ name: "a" }))).toEqual([
      { name: "a", passed: false, detail: `function error (Unhandled): ${shown}` },
    ]);
  });

  it("keeps a detail of exactly 300 characters whole", async () => {
    const payload = "e".repeat(300 - "function error (Handled): ".length);
    const functions = fakeFunctions({
      a: { executedVersion: "2", functionError: "Handled", payload },
    });
    const [result] = await runCanaryChecks(functions, "f", "2", spec({ name: "a" }));
    expect(result?.detail).toBe(`function error (Handled): ${payload}`);
  });

  it("clips a long function error payload: the whole detail stays within 300 characters", async () => {
    const functions = fakeFunctions({
      a: { executedVersion: "2", functionError: "Handled", payload: "e".repeat(500) },
    });
    const [result] = await runCanaryChecks(functions, "f", "2", spec({ name: "a" }));
    const detail = `function error (Handled): ${"e".repeat(500)}`;
    expect(result?.detail).toBe(`${detail.slice(0, 300)}…`);
  });

  it("clips whatever the new version answers, e.g. an enormous statusCode, and an invoke error", async () => {
    const functions = fakeFunctions({
      a: ok({ statusCode: "5".repeat(100_000) }),
      b: Object.assign(new Error("x".repeat(100_000)), { name: "ServiceException" }),
    });
    const results = await runCanaryChecks(functions, "f", "2", {
      checks: [
        { name: "a", event: {}, expect: { statusCode: 200 } },
        { name: "b", event: {}, expect: {} },
      ],
    });
    for (const result of results) expect(result.detail.length).toBeLessThanOrEqual(301);
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

describe("runCanaryCheck", () => {
  // The version analysis's synthetic requests: one check at a time, judged as the canary judges.
  it("judges one check against the qualifier, and a failed invoke as a failure", async () => {
    const functions = fakeFunctions({
      a: ok({ statusCode: 200, body: "hello" }),
      b: {
        executedVersion: "7",
        functionError: "Unhandled",
        payload: { errorType: "Boom", errorMessage: "x" },
      },
      c: new Error("Rate exceeded"),
    });
    const [a, b, c] = spec(
      { name: "a", statusCode: 200, bodyIncludes: "hello" },
      { name: "b" },
      { name: "c" },
    ).checks;
    expect(await runCanaryCheck(functions, "f", "7", a as never)).toEqual({
      name: "a",
      passed: true,
      detail: "ok (version 2)",
    });
    expect(await runCanaryCheck(functions, "f", "7", b as never)).toEqual({
      name: "b",
      passed: false,
      detail: "function error (Unhandled): Boom: x",
    });
    expect(await runCanaryCheck(functions, "f", "7", c as never)).toEqual({
      name: "c",
      passed: false,
      detail: "invoke failed: Error: Rate exceeded",
    });
    expect(functions.calls.map((call) => call.qualifier)).toEqual(["7", "7", "7"]);
  });
});

describe("canary", () => {
  const plan = {
    ...testPlan(),
    canary: spec(
      { name: "home", statusCode: 200, bodyIncludes: "hello v2" },
      { name: "health", statusCode: 200 },
    ),
  };
  const clock = { now: () => T0 };
  /** Deploy's output: version 2 published, no traffic yet. */
  const fresh = () => testRollout({ stepIndex: -1, weight: 0 });

  it("invokes the new version directly, not the alias, and only then gives it the first traffic step", async () => {
    const { functions } = await prodWithTwoVersions();
    const rollout = await canary({ plan, rollout: fresh() }, { functions, clock });

    expect(functions.invocations.map((i) => `${i.functionName}:${i.qualifier}`)).toEqual([
      "hello-prod:2",
      "hello-prod:2",
    ]);
    expect(rollout.canary?.version).toBe("2");
    expect(rollout.canary?.results.map((r) => r.passed)).toEqual([true, true]);
    expect(rollout).toMatchObject({ phase: "steps", stepIndex: 0, weight: plan.rollout.steps[0] });
    expect(functions.alias("hello-prod", "live")).toMatchObject({
      version: "1",
      weights: { "2": (plan.rollout.steps[0] ?? 0) / 100 },
    });
  });

  it("throws CanaryFailed listing every failed check, and the new version never gets traffic", async () => {
    const { functions } = await prodWithTwoVersions();
    const failing = {
      ...plan,
      canary: spec(
        { name: "home", statusCode: 200, bodyIncludes: "hello v9" },
        { name: "teapot", statusCode: 418 },
      ),
    };
    await expect(canary({ plan: failing, rollout: fresh() }, { functions, clock })).rejects.toThrow(
      new CanaryFailed(
        'version 2 failed 2 of 2 canary checks: home: body does not include "hello v9"; teapot: expected statusCode 418, got 200',
      ),
    );
    expect(functions.alias("hello-prod", "live")).toMatchObject({ version: "1", weights: {} });
  });

  it("moves no traffic when the rollout goes straight to promotion (no steps, or the same version)", async () => {
    const { functions } = await prodWithTwoVersions();
    const rollout = await canary(
      { plan, rollout: testRollout({ phase: "promote", stepIndex: -1, weight: 0 }) },
      { functions, clock },
    );
    expect(rollout.phase).toBe("promote");
    expect(rollout.canary?.results.every((r) => r.passed)).toBe(true);
    expect(functions.aliasHistory).toEqual([]);
  });

  it("does not shift again when the rollout already has its first traffic step", async () => {
    const { functions } = await prodWithTwoVersions();
    await functions.updateAlias("hello-prod", "live", { version: "1", weights: { "2": 0.1 } });
    const changes = functions.aliasHistory.length;
    const rollout = testRollout({ holdEndsAt: new Date(T0 - 30_000).toISOString() });
    const next = await canary({ plan, rollout }, { functions, clock });
    expect(next).toEqual({ ...rollout, canary: { version: "2", results: next.canary?.results } });
    expect(functions.aliasHistory).toHaveLength(changes);
  });

  it.each([
    ["no rollout", undefined],
    ["a rollout without a new version", testRollout({ newVersion: "" })],
  ])("needs the rollout Deploy wrote (%s)", async (_, rollout) => {
    const { functions } = await prodWithTwoVersions();
    await expect(
      canary({ plan, ...(rollout ? { rollout } : {}) }, { functions, clock }),
    ).rejects.toThrow(new TypeError("canary needs $.rollout (Deploy runs first)"));
    expect(functions.invocations).toEqual([]);
  });
});
