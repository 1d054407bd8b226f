import type { GetExecutionHistoryCommand, HistoryEvent } from "@aws-sdk/client-sfn";
import { describe, expect, it } from "vitest";
import { eventsAfter, followExecution, type HistoryClient, pollDelay } from "./follow.ts";

/**
 * A history that grows as it is read, paged like GetExecutionHistory (offset tokens, forward or
 * reverse), counting the calls.
 */
function fakeHistory(total: number, growth: (call: number) => number) {
  const all: HistoryEvent[] = Array.from({ length: total }, (_, i) => ({
    id: i + 1,
    timestamp: new Date(1_000 * i),
    type: i === total - 1 ? "ExecutionSucceeded" : "PassStateEntered",
  }));
  let visible = 0;
  const calls: { reverseOrder?: boolean; nextToken?: string; maxResults?: number }[] = [];
  const client: HistoryClient = {
    send: (async (command: GetExecutionHistoryCommand) => {
      const input = command.input;
      calls.push({
        ...(input.reverseOrder ? { reverseOrder: true } : {}),
        ...(input.nextToken ? { nextToken: input.nextToken } : {}),
      });
      visible = Math.min(total, visible + growth(calls.length)); // events arrive between any two calls
      const events = all.slice(0, visible);
      const ordered = input.reverseOrder ? [...events].reverse() : events;
      const offset = Number(input.nextToken ?? 0);
      const size = input.maxResults ?? 100;
      const page = ordered.slice(offset, offset + size);
      return {
        events: page,
        ...(offset + size < ordered.length ? { nextToken: String(offset + size) } : {}),
        $metadata: {},
      };
    }) as HistoryClient["send"],
  };
  return { client, calls };
}

describe("eventsAfter", () => {
  it("reads everything forward the first time, then only what is new, newest pages first", async () => {
    const { client, calls } = fakeHistory(500, (call) => (call === 1 ? 250 : call === 2 ? 120 : 0));
    const first = await eventsAfter(client, "arn", 0);
    expect(first.map((e) => e.id)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    const before = calls.length;
    const next = await eventsAfter(client, "arn", 250, 50);
    expect(next.map((e) => e.id)).toEqual(Array.from({ length: 120 }, (_, i) => i + 251));
    // 120 new events in pages of 50, newest first: three pages, the last one reaching id 250.
    const later = calls.slice(before);
    expect(later).toHaveLength(3);
    expect(later.every((c) => c.reverseOrder)).toBe(true);
  });

  it("loses nothing and repeats nothing when events arrive between pages", async () => {
    const { client } = fakeHistory(300, (call) => (call === 1 ? 10 : 7));
    const seen: number[] = [];
    let last = 0;
    for (let i = 0; i < 60 && last < 300; i++) {
      const events = await eventsAfter(client, "arn", last, 3);
      seen.push(...events.map((e) => e.id ?? 0));
      last = events.at(-1)?.id ?? last;
    }
    expect(seen).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  });
});

describe("followExecution", () => {
  it("polls fast at first, then once a second, until an event ends the execution", async () => {
    const { client } = fakeHistory(40, () => 5);
    const delays: number[] = [];
    const batches: number[] = [];
    const ended = await followExecution({
      sfn: client,
      executionArn: "arn",
      onEvents: (events) => batches.push(events.length),
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    expect(ended).toBe("ended");
    expect(batches).toEqual([5, 5, 5, 5, 5, 5, 5, 5]);
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    expect(pollDelay(10)).toBe(1000);
  });

  it("retries transient failures, gives up after too many, and never retries a missing execution", async () => {
    let failures = 3;
    const flaky: HistoryClient = {
      send: (async () => {
        if (failures-- > 0)
          throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
        return {
          events: [{ id: 1, type: "ExecutionSucceeded", timestamp: new Date() }],
          $metadata: {},
        };
      }) as HistoryClient["send"],
    };
    const warnings: string[] = [];
    await expect(
      followExecution({
        sfn: flaky,
        executionArn: "arn",
        onEvents: () => {},
        onRetry: (m) => warnings.push(m),
        sleep: async () => {},
        endpoint: "http://127.0.0.1:1",
      }),
    ).resolves.toBe("ended");
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toContain("cannot reach http://127.0.0.1:1");

    const down: HistoryClient = {
      send: (async () => {
        throw Object.assign(new Error("refused"), { code: "ECONNREFUSED" });
      }) as HistoryClient["send"],
    };
    await expect(
      followExecution({
        sfn: down,
        executionArn: "arn",
        onEvents: () => {},
        sleep: async () => {},
        maxFailures: 4,
      }),
    ).rejects.toThrow("refused");

    const missing: HistoryClient = {
      send: (async () => {
        throw Object.assign(new Error("gone"), { name: "ExecutionDoesNotExist" });
      }) as HistoryClient["send"],
    };
    await expect(
      followExecution({
        sfn: missing,
        executionArn: "arn",
        onEvents: () => {},
        sleep: async () => {},
      }),
    ).rejects.toThrow("gone");
  });

  it("stops following (not the execution) when interrupted", async () => {
    const { client } = fakeHistory(1000, () => 1);
    const interrupt = new AbortController();
    let polls = 0;
    const ended = await followExecution({
      sfn: client,
      executionArn: "arn",
      onEvents: () => {
        if (++polls === 3) interrupt.abort();
      },
      sleep: async () => {},
      signal: interrupt.signal,
    });
    expect(ended).toBe("interrupted");
    expect(polls).toBe(3);
  });

  it("retries what is transient (throttling, server faults) and nothing else", async () => {
    const failingWith = (...errors: Error[]): HistoryClient => ({
      send: (async () => {
        const error = errors.shift();
        if (error) throw error;
        return {
          events: [{ id: 1, type: "ExecutionSucceeded", timestamp: new Date() }],
          $metadata: {},
        };
      }) as HistoryClient["send"],
    });
    const follow = (sfn: HistoryClient) =>
      followExecution({ sfn, executionArn: "arn", onEvents: () => {}, sleep: async () => {} });
    await expect(
      follow(
        failingWith(
          Object.assign(new Error("slow down"), { name: "ThrottlingException" }),
          Object.assign(new Error("unavailable"), { $metadata: { httpStatusCode: 503 } }),
        ),
      ),
    ).resolves.toBe("ended");
    await expect(
      follow(
        failingWith(
          Object.assign(new Error("denied"), {
            name: "AccessDeniedException",
            $metadata: { httpStatusCode: 400 },
          }),
        ),
      ),
    ).rejects.toThrow("denied");
    await expect(
      follow(
        failingWith(
          Object.assign(new Error("no credentials"), { name: "CredentialsProviderError" }),
        ),
      ),
    ).rejects.toThrow("no credentials");
  });
});
