/**
 * Issue 19: an execution's end is crash-safe (its cleanup runs before it is marked terminal, and
 * is retried at every start until done), a damaged record never makes it vanish, no failure of
 * the event loop or of a history write reaches the process, and finished executions are bounded.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StateMachineDefinition } from "aws-local-stepfunctions";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TaskTokenRegistry } from "../engine/task-tokens.ts";
import type { TaskHandler } from "../engine/workflow-engine.ts";
import { Quarantine, writeSealedJson } from "../storage/durable-file.ts";
import { ExecutionStore } from "./execution-store.ts";
import { LocalStepFunctions, type LocalStepFunctionsOptions } from "./local-step-functions.ts";

const TASK_ARN = "arn:aws:lambda:us-east-1:000000000000:function:work";
const MACHINE = "lifecycle";
const MACHINE_ARN = `arn:aws:states:us-east-1:000000000000:stateMachine:${MACHINE}`;
const arnOf = (name: string) =>
  `arn:aws:states:us-east-1:000000000000:execution:${MACHINE}:${name}`;

/** A Task that takes a while, so an execution is still running when the test stops it. */
const slowTask: TaskHandler = () =>
  Promise.race([gate, new Promise((r) => setTimeout(r, 300))]).then(() => ({ ok: true }));

/** One Task, then success. */
const definition = {
  StartAt: "Work",
  States: {
    Work: { Type: "Task", Resource: TASK_ARN, TimeoutSeconds: 30, Next: "Done" },
    Done: { Type: "Succeed" },
  },
};

let dir: string;
let opened: LocalStepFunctions[];
let cleanups: { error: string; cause: string; lastState: unknown; statusDuring?: string }[];
let release: () => void;
let gate: Promise<void>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gantry-lifecycle-"));
  opened = [];
  cleanups = [];
  gate = new Promise((resolve) => {
    release = resolve;
  });
});

afterEach(async () => {
  release();
  for (const cp of opened) await cp.shutdown().catch(() => undefined);
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

interface OpenOptions {
  readonly cleanup?: "ok" | "throws";
  /** What the cleanup says it did, for the execution's cause. */
  readonly note?: string;
  readonly handler?: TaskHandler;
  readonly extra?: Partial<LocalStepFunctionsOptions>;
}

async function open(options: OpenOptions = {}): Promise<LocalStepFunctions> {
  const cp = await LocalStepFunctions.open({
    dir,
    tokens: new TaskTokenRegistry(),
    stateMachines: [
      {
        name: MACHINE,
        definition: definition as StateMachineDefinition,
        definitionText: JSON.stringify(definition),
        handlers: { [TASK_ARN]: options.handler ?? slowTask },
      },
    ],
    onAbandoned: async (_machine, lastState, error, cause) => {
      const name = (lastState as { arn?: string }).arn;
      const statusDuring = name ? diskStatus(name) : undefined;
      cleanups.push({ error, cause, lastState, ...(statusDuring ? { statusDuring } : {}) });
      if (options.cleanup === "throws") throw new Error("the state bucket is unreachable");
      return options.note;
    },
    log: () => undefined,
    ...options.extra,
  });
  opened.push(cp);
  return cp;
}

async function ended(cp: LocalStepFunctions, arn: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const described = cp.describeExecution(arn);
    if (described.status !== "RUNNING") return described;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${arn} did not end`);
}

/** The status execution.json holds (sealed or bare). */
function diskStatus(name: string): string | undefined {
  const file = join(dir, "executions", MACHINE, name, "execution.json");
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(readFileSync(file, "utf8")) as {
    status?: string;
    value?: { status?: string };
  };
  return parsed.value?.status ?? parsed.status;
}

function history(cp: LocalStepFunctions, arn: string) {
  return cp.getExecutionHistory({ executionArn: arn, maxResults: 1000 }).events;
}

/** An execution left RUNNING on disk, as a kill -9 in the middle of its Task leaves it. */
function crashedExecution(name: string, extraHistory = ""): string {
  const executionDir = join(dir, "executions", MACHINE, name);
  mkdirSync(executionDir, { recursive: true });
  const input = JSON.stringify({ arn: name });
  writeFileSync(
    join(executionDir, "execution.json"),
    JSON.stringify({
      executionArn: arnOf(name),
      stateMachineArn: MACHINE_ARN,
      stateMachineName: MACHINE,
      name,
      status: "RUNNING",
      startDate: 1_000,
      input,
    }),
  );
  const events = [
    {
      id: 1,
      previousEventId: 0,
      timestamp: 1_000,
      type: "ExecutionStarted",
      executionStartedEventDetails: { input },
    },
    {
      id: 2,
      previousEventId: 1,
      timestamp: 1_001,
      type: "TaskStateEntered",
      stateEnteredEventDetails: {
        name: "Work",
        input: JSON.stringify({ arn: name, step: "traffic" }),
      },
    },
  ];
  writeFileSync(
    join(executionDir, "history.jsonl"),
    `${events.map((e) => JSON.stringify(e)).join("\n")}\n${extraHistory}`,
  );
  return arnOf(name);
}

// Each open builds the engine (a few hundred milliseconds), more on a busy machine.
vi.setConfig({ testTimeout: 30_000 });

describe("an execution's end is crash-safe", () => {
  it("retries a cleanup that failed at start at every later start, and stays RUNNING until it ran", async () => {
    const arn = crashedExecution("interrupted");
    const first = await open({ cleanup: "throws" });
    expect(cleanups).toHaveLength(1);
    // Not FAILED yet: that would make the cleanup look done (and never retried).
    expect(first.describeExecution(arn).status).toBe("RUNNING");
    await first.shutdown();

    const second = await open({ cleanup: "throws" });
    expect(cleanups).toHaveLength(2);
    expect(second.describeExecution(arn).status).toBe("RUNNING");
    await second.shutdown();

    const third = await open();
    expect(cleanups).toHaveLength(3);
    expect(cleanups[2]).toMatchObject({
      error: "ControlPlaneRestarted",
      lastState: { arn: "interrupted", step: "traffic" },
      statusDuring: "RUNNING",
    });
    expect(third.describeExecution(arn)).toMatchObject({
      status: "FAILED",
      error: "ControlPlaneRestarted",
    });
    const events = history(third, arn);
    expect(events.map((e) => e.type)).toEqual([
      "ExecutionStarted",
      "TaskStateEntered",
      "ExecutionFailed",
    ]);
    expect(events.map((e) => e.id)).toEqual([1, 2, 3]);
    expect(existsSync(join(dir, "executions", MACHINE, "interrupted", "reconcile.json"))).toBe(
      false,
    );
    await third.shutdown();

    // Done is done: a fourth start cleans nothing up.
    await open();
    expect(cleanups).toHaveLength(3);
  });

  it("ends without a second cleanup an execution that died after its last event or its terminal record", async () => {
    const intent = JSON.stringify({
      status: "FAILED",
      error: "States.Runtime",
      cause: "boom",
      lastState: "{}",
      stopDate: Date.now(),
    });
    // Killed after the ExecutionFailed event, before execution.json said FAILED.
    const afterEvent = crashedExecution(
      "after-event",
      `${JSON.stringify({ id: 3, previousEventId: 2, timestamp: Date.now(), type: "ExecutionFailed", executionFailedEventDetails: { error: "States.Runtime", cause: "boom" } })}\n`,
    );
    writeFileSync(join(dir, "executions", MACHINE, "after-event", "reconcile.json"), intent);
    // Killed after execution.json said FAILED, before the intent was removed.
    crashedExecution("after-record");
    const recordFile = join(dir, "executions", MACHINE, "after-record", "execution.json");
    const record = JSON.parse(readFileSync(recordFile, "utf8"));
    writeFileSync(
      recordFile,
      JSON.stringify({ ...record, status: "FAILED", stopDate: Date.now(), error: "X" }),
    );
    writeFileSync(join(dir, "executions", MACHINE, "after-record", "reconcile.json"), intent);

    const cp = await open();
    expect(cleanups).toEqual([]);
    expect(cp.describeExecution(afterEvent)).toMatchObject({ status: "FAILED", cause: "boom" });
    expect(history(cp, afterEvent).map((e) => e.type)).toEqual([
      "ExecutionStarted",
      "TaskStateEntered",
      "ExecutionFailed",
    ]);
    for (const name of ["after-event", "after-record"])
      expect(existsSync(join(dir, "executions", MACHINE, name, "reconcile.json"))).toBe(false);
  });

  it("keeps a stopped execution RUNNING until its cleanup ran, then ABORTED with the stop's error", async () => {
    const first = await open({ cleanup: "throws" });
    const { executionArn } = first.startExecution({
      stateMachineArn: MACHINE_ARN,
      name: "stopped",
      input: JSON.stringify({ arn: "stopped" }),
    });
    await new Promise((r) => setTimeout(r, 50));
    await first.stopExecution({ executionArn, error: "Operator", cause: "stopped by alice" });
    expect(cleanups).toMatchObject([{ error: "Operator", cause: "stopped by alice" }]);
    expect(first.describeExecution(executionArn).status).toBe("RUNNING");
    await first.shutdown();

    const second = await open();
    expect(cleanups.at(-1)).toMatchObject({ error: "Operator", cause: "stopped by alice" });
    expect(second.describeExecution(executionArn)).toMatchObject({
      status: "ABORTED",
      error: "Operator",
      cause: "stopped by alice",
    });
    const events = history(second, executionArn);
    expect(events.at(-1)).toMatchObject({
      type: "ExecutionAborted",
      executionAbortedEventDetails: { error: "Operator", cause: "stopped by alice" },
    });
    expect(events.filter((e) => e.type === "ExecutionAborted")).toHaveLength(1);
  });

  it("runs the cleanup of a failure past every Catch while the execution is still RUNNING", async () => {
    const cp = await open({
      handler: async () => {
        throw Object.assign(new Error("boom"), { name: "States.Runtime" });
      },
    });
    const { executionArn } = cp.startExecution({
      stateMachineArn: MACHINE_ARN,
      name: "failing",
      input: JSON.stringify({ arn: "failing" }),
    });
    const done = await ended(cp, executionArn);
    expect(done.status).toBe("FAILED");
    expect(cleanups).toMatchObject([{ statusDuring: "RUNNING" }]);
    expect(history(cp, executionArn).at(-1)?.type).toBe("ExecutionFailed");
  });
});

describe("what the cleanup did is in the execution's cause", () => {
  it("appends the cleanup's note to ControlPlaneRestarted's cause", async () => {
    const arn = crashedExecution("completed-before-the-crash");
    const note = "the deployment had completed (promoted and baked): recorded as deployed";
    const cp = await open({ note });
    const described = cp.describeExecution(arn);
    expect(described).toMatchObject({ status: "FAILED", error: "ControlPlaneRestarted" });
    expect(described.cause).toContain("the local control plane stopped");
    expect(described.cause).toContain(note);
    expect(history(cp, arn).at(-1)).toMatchObject({
      type: "ExecutionFailed",
      executionFailedEventDetails: { cause: described.cause },
    });
  });
});

describe("a success whose Finish failed is recorded before it is SUCCEEDED", () => {
  /** Deployed's output after Finish's Catch: nothing recorded, the cleanup's failure kept. */
  const unrecorded =
    (arn: string): TaskHandler =>
    async (input) =>
      (input as { arn?: string }).arn === arn
        ? { arn, cleanupFailure: { Error: "InjectedFault", Cause: "the Finish function failed" } }
        : { arn: (input as { arn?: string }).arn };

  it("runs the cleanup while RUNNING, then ends SUCCEEDED with its output; a plain success runs none", async () => {
    const cp = await open({ handler: unrecorded("unrecorded") });
    const { executionArn } = cp.startExecution({
      stateMachineArn: MACHINE_ARN,
      name: "unrecorded",
      input: JSON.stringify({ arn: "unrecorded" }),
    });
    const done = await ended(cp, executionArn);
    expect(done.status).toBe("SUCCEEDED");
    expect(JSON.parse(done.output ?? "null")).toMatchObject({ cleanupFailure: {} });
    expect(cleanups).toMatchObject([
      { lastState: { arn: "unrecorded", cleanupFailure: {} }, statusDuring: "RUNNING" },
    ]);
    const events = history(cp, executionArn);
    expect(events.filter((e) => e.type === "ExecutionSucceeded")).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({
      type: "ExecutionSucceeded",
      executionSucceededEventDetails: { output: done.output },
    });

    const plain = cp.startExecution({
      stateMachineArn: MACHINE_ARN,
      name: "plain",
      input: JSON.stringify({ arn: "plain" }),
    });
    expect((await ended(cp, plain.executionArn)).status).toBe("SUCCEEDED");
    expect(cleanups).toHaveLength(1);
  });

  it("keeps it RUNNING when the cleanup fails, and ends it SUCCEEDED once a later start ran it", async () => {
    const first = await open({ cleanup: "throws", handler: unrecorded("retried") });
    const { executionArn } = first.startExecution({
      stateMachineArn: MACHINE_ARN,
      name: "retried",
      input: JSON.stringify({ arn: "retried" }),
    });
    for (let i = 0; i < 500 && cleanups.length === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    await first.shutdown();
    expect(first.describeExecution(executionArn).status).toBe("RUNNING");
    expect(existsSync(join(dir, "executions", MACHINE, "retried", "reconcile.json"))).toBe(true);

    const second = await open();
    expect(cleanups).toHaveLength(2);
    expect(cleanups[1]).toMatchObject({ lastState: { arn: "retried", cleanupFailure: {} } });
    expect(second.describeExecution(executionArn).status).toBe("SUCCEEDED");
    expect(history(second, executionArn).at(-1)?.type).toBe("ExecutionSucceeded");
    expect(existsSync(join(dir, "executions", MACHINE, "retried", "reconcile.json"))).toBe(false);
  });
});

describe("a damaged record never makes an execution vanish", () => {
  it("quarantines a torn execution.json, rebuilds the execution from its history, cleans it up and keeps its name taken", async () => {
    const arn = crashedExecution("torn");
    const recordFile = join(dir, "executions", MACHINE, "torn", "execution.json");
    writeFileSync(recordFile, '{"executionArn":"arn:aws:states:us-e');
    const quarantined: string[] = [];
    const quarantine = new Quarantine(dir, (line) => quarantined.push(line));
    const cp = await open({ extra: { quarantine } });

    expect(quarantine.files).toHaveLength(1);
    expect(quarantine.files[0]?.file).toBe(join("executions", MACHINE, "torn", "execution.json"));
    expect(quarantined[0]).toContain("torn");
    expect(cleanups).toMatchObject([
      { error: "ControlPlaneRestarted", lastState: { arn: "torn", step: "traffic" } },
    ]);
    expect(cp.describeExecution(arn)).toMatchObject({
      status: "FAILED",
      input: JSON.stringify({ arn: "torn" }),
      startDate: 1_000,
    });
    expect(() =>
      cp.startExecution({ stateMachineArn: MACHINE_ARN, name: "torn", input: "{}" }),
    ).toThrow(expect.objectContaining({ name: "ExecutionAlreadyExists" }));
    expect(history(cp, arn).map((e) => e.id)).toEqual([1, 2, 3]);
  });

  it("quarantines and reports a damaged state machine file or tags file", async () => {
    mkdirSync(join(dir, "state-machines"), { recursive: true });
    writeFileSync(join(dir, "state-machines", `${MACHINE}.json`), '{"name":"lifecy');
    writeFileSync(join(dir, "state-machines", `${MACHINE}.tags.json`), '{"team":"plat\u0000');
    const quarantine = new Quarantine(dir, () => undefined);
    const cp = await open({ extra: { quarantine } });
    expect(cp.listTagsForResource({ resourceArn: MACHINE_ARN })).toEqual([]);
    expect(quarantine.files.map((f) => f.file).sort()).toEqual([
      join("state-machines", `${MACHINE}.json`),
      join("state-machines", `${MACHINE}.tags.json`),
    ]);
    expect(typeof cp.describeStateMachine(MACHINE_ARN).creationDate).toBe("number");
    cp.tagResource({ resourceArn: MACHINE_ARN, tags: [{ key: "team", value: "platform" }] });
    expect(cp.listTagsForResource({ resourceArn: MACHINE_ARN })).toEqual([
      { key: "team", value: "platform" },
    ]);
  });

  it("keeps a name taken when only its history survived", async () => {
    const now = Date.now();
    const executionDir = join(dir, "executions", MACHINE, "ghost");
    mkdirSync(executionDir, { recursive: true });
    writeFileSync(
      join(executionDir, "history.jsonl"),
      [
        {
          id: 1,
          previousEventId: 0,
          timestamp: now,
          type: "ExecutionStarted",
          executionStartedEventDetails: { input: '{"a":1}' },
        },
        {
          id: 2,
          previousEventId: 1,
          timestamp: now + 1,
          type: "ExecutionSucceeded",
          executionSucceededEventDetails: { output: '{"b":2}' },
        },
      ]
        .map((e) => `${JSON.stringify(e)}\n`)
        .join(""),
    );
    const cp = await open();
    expect(cp.describeExecution(arnOf("ghost"))).toMatchObject({
      status: "SUCCEEDED",
      input: '{"a":1}',
      output: '{"b":2}',
      startDate: now,
      stopDate: now + 1,
    });
    expect(cleanups).toEqual([]);
    expect(() =>
      cp.startExecution({ stateMachineArn: MACHINE_ARN, name: "ghost", input: "{}" }),
    ).toThrow(expect.objectContaining({ name: "ExecutionAlreadyExists" }));
  });

  it("reads past a garbled history line; only a torn last line is dropped", async () => {
    const arn = crashedExecution(
      "garbled",
      `{"id":3,"previousEv\u0000garbage\n${JSON.stringify({ id: 4, previousEventId: 3, timestamp: 2_000, type: "TaskStateExited", stateExitedEventDetails: { name: "Work", output: "{}" } })}\n{"id":5,"prev`,
    );
    const quarantine = new Quarantine(dir, () => undefined);
    const cp = await open({ extra: { quarantine } });
    const events = history(cp, arn);
    expect(events.map((e) => [e.id, e.type])).toEqual([
      [1, "ExecutionStarted"],
      [2, "TaskStateEntered"],
      [4, "TaskStateExited"],
      [5, "ExecutionFailed"],
    ]);
    // Reported once, left in place: the rest of it is still read.
    expect(quarantine.files).toMatchObject([
      {
        file: join("executions", MACHINE, "garbled", "history.jsonl"),
        reason: expect.stringMatching(/1 garbled line.*cut short/),
      },
    ]);
    expect(existsSync(join(dir, "executions", MACHINE, "garbled", "history.jsonl"))).toBe(true);
  });
});

describe("no failure reaches the process", () => {
  it("refuses inputs nested too deep before storing anything, and runs every input it accepts", async () => {
    const cp = await open({ handler: async () => ({ ok: true }) });
    const accepted: string[] = [];
    for (const depth of [100, 500, 1000, 1001, 2000, 3100, 3500, 4400, 5000, 10_000]) {
      const input = "[".repeat(depth) + "]".repeat(depth);
      const name = `deep-${depth}`;
      try {
        cp.startExecution({ stateMachineArn: MACHINE_ARN, name, input });
        accepted.push(name);
      } catch (error) {
        expect(error).toMatchObject({ name: "InvalidExecutionInput" });
        expect(existsSync(join(dir, "executions", MACHINE, name))).toBe(false);
      }
    }
    expect(accepted).toEqual(["deep-100", "deep-500", "deep-1000"]);
    for (const name of accepted) expect((await ended(cp, arnOf(name))).status).toBe("SUCCEEDED");
  });

  it("fails only the execution whose history write failed, with a named cause, and cleans it up", async () => {
    const append = ExecutionStore.prototype.appendHistory;
    let failed = false;
    vi.spyOn(ExecutionStore.prototype, "appendHistory").mockImplementation(function (
      this: ExecutionStore,
      record,
      event,
    ) {
      if (record.name === "victim" && event.type === "TaskStateEntered" && !failed) {
        failed = true;
        throw Object.assign(new Error("EMFILE: too many open files, open 'history.jsonl'"), {
          code: "EMFILE",
        });
      }
      return append.call(this, record, event);
    });
    const logged: string[] = [];
    const cp = await open({ extra: { log: (line) => logged.push(line) } });
    const victim = cp.startExecution({
      stateMachineArn: MACHINE_ARN,
      name: "victim",
      input: JSON.stringify({ arn: "victim" }),
    });
    const bystander = cp.startExecution({
      stateMachineArn: MACHINE_ARN,
      name: "bystander",
      input: JSON.stringify({ arn: "bystander" }),
    });
    const done = await ended(cp, victim.executionArn);
    expect(done).toMatchObject({ status: "FAILED", error: "States.Runtime" });
    expect(done.cause).toContain("EMFILE");
    expect(cleanups).toMatchObject([{ error: "States.Runtime", statusDuring: "RUNNING" }]);
    expect(history(cp, victim.executionArn).at(-1)).toMatchObject({ type: "ExecutionFailed" });
    expect((await ended(cp, bystander.executionArn)).status).toBe("SUCCEEDED");
    expect(logged.some((line) => line.includes("EMFILE"))).toBe(true);
  });
});

describe("finished executions are bounded", () => {
  it("stores nothing for a refused StartExecution", async () => {
    const cp = await open();
    for (const input of ["{", "x".repeat(300_000), 42, "[".repeat(2000) + "]".repeat(2000)])
      expect(() =>
        cp.startExecution({ stateMachineArn: MACHINE_ARN, name: "refused", input }),
      ).toThrow(expect.objectContaining({ name: "InvalidExecutionInput" }));
    expect(existsSync(join(dir, "executions", MACHINE))).toBe(false);
    expect(cp.listExecutions({ stateMachineArn: MACHINE_ARN }).executions).toEqual([]);
  });

  it("keeps the newest executions up to the count, deleting the rest from disk; never a running one", async () => {
    const cp = await open({
      handler: async () => ({ ok: true }),
      extra: { retention: { maxAgeDays: 90, maxCount: 2 } },
    });
    for (const name of ["one", "two", "three", "four"]) {
      cp.startExecution({ stateMachineArn: MACHINE_ARN, name, input: "{}" });
      await ended(cp, arnOf(name));
      await new Promise((r) => setTimeout(r, 5));
    }
    const names = () =>
      cp.listExecutions({ stateMachineArn: MACHINE_ARN }).executions.map((e) => e.name);
    expect(names()).toEqual(["four", "three"]);
    expect(readdirSync(join(dir, "executions", MACHINE)).sort()).toEqual(["four", "three"]);
  });

  it("deletes executions older than the age limit at start, and reads input and output from disk", async () => {
    const old = join(dir, "executions", MACHINE, "old");
    mkdirSync(old, { recursive: true });
    writeFileSync(
      join(old, "execution.json"),
      JSON.stringify({
        executionArn: arnOf("old"),
        stateMachineArn: MACHINE_ARN,
        stateMachineName: MACHINE,
        name: "old",
        status: "SUCCEEDED",
        startDate: Date.now() - 100 * 86_400_000,
        stopDate: Date.now() - 99 * 86_400_000,
        input: "{}",
      }),
    );
    const first = await open({ handler: async () => ({ done: 1 }) });
    first.startExecution({ stateMachineArn: MACHINE_ARN, name: "recent", input: '{"x":1}' });
    await ended(first, arnOf("recent"));
    expect(existsSync(old)).toBe(false);
    // Once finished, its input is not held in memory: DescribeExecution reads what is on disk.
    const recordFile = join(dir, "executions", MACHINE, "recent", "execution.json");
    const onDisk = JSON.parse(readFileSync(recordFile, "utf8")).value;
    writeSealedJson(recordFile, { ...onDisk, input: '{"x":"from disk"}' });
    expect(first.describeExecution(arnOf("recent")).input).toBe('{"x":"from disk"}');
    writeSealedJson(recordFile, onDisk);
    await first.shutdown();

    const second = await open();
    expect(
      second.listExecutions({ stateMachineArn: MACHINE_ARN }).executions.map((e) => e.name),
    ).toEqual(["recent"]);
    expect(second.describeExecution(arnOf("recent"))).toMatchObject({
      status: "SUCCEEDED",
      input: '{"x":1}',
      output: JSON.stringify({ done: 1 }),
    });
  });
});
