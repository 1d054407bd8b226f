import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { testVerdict } from "@gantry/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import type { ExecutionRecord } from "../../control-plane/execution-store.ts";
import type { HistoryEvent } from "../../control-plane/history.ts";
import type { ExecutionEvent } from "../../control-plane/local-step-functions.ts";
import type { ExecutionListing } from "./executions.ts";
import { layoutGraph } from "./graph-layout.ts";
import { graphOf } from "./graph-model.ts";
import { streamExecution } from "./live.ts";

const ARN = "arn:aws:states:us-east-1:000000000000:execution:gantry-prod:e1";

/** Local Step Functions with one execution whose history the test writes. */
function fakeStepFunctions(history: HistoryEvent[]) {
  const listeners = new Set<(event: ExecutionEvent) => void>();
  return {
    listeners,
    subscribe(listener: (event: ExecutionEvent) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    getExecutionHistory: () => ({ events: [...history] }),
    append(event: HistoryEvent) {
      history.push(event);
      for (const l of listeners)
        l({ executionArn: ARN, stateMachineName: "gantry-prod", event, status: "RUNNING" });
    },
  };
}

const event = (id: number, type: string, details: Record<string, unknown> = {}): HistoryEvent => ({
  id,
  previousEventId: id - 1,
  timestamp: 1_000 + id,
  type,
  ...details,
});

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
});

async function serve(stepFunctions: ReturnType<typeof fakeStepFunctions>): Promise<string> {
  const graph = graphOf({
    StartAt: "Work",
    States: { Work: { Type: "Task", Next: "Done" }, Done: { Type: "Succeed" } },
  } as never);
  const layout = await layoutGraph(graph);
  const record = { executionArn: ARN, stateMachineName: "gantry-prod" } as ExecutionRecord;
  const listing = {
    executionArn: ARN,
    name: "e1",
    service: "s",
    stage: "prod",
    startDate: 1000,
  } as ExecutionListing;
  server = createServer((req, res) => {
    const after = Number(new URL(req.url ?? "/", "http://x").searchParams.get("after") ?? 0);
    streamExecution(
      req,
      res,
      { record, layout },
      { stepFunctions, world: async () => ({ alarms: [] }), listing },
      after,
      {
        worldIntervalMs: 20,
        batchMs: 5,
      },
    );
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

type Sent = { event: string; data: unknown };

/** Reads a response's server-sent events, a batch at a time. */
function eventsOf(response: Response) {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  return {
    /** The events that arrive until `until` is satisfied (or the stream ends). */
    async until(until: (events: Sent[]) => boolean): Promise<Sent[]> {
      const events: Sent[] = [];
      while (!until(events)) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const name = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (name && data) events.push({ event: name, data: JSON.parse(data) });
        }
      }
      return events;
    },
  };
}

const hasStatus = (events: Sent[]) => events.some((e) => e.event === "status");

describe("streamExecution", () => {
  it("sends the rows after the client's last event, then live statuses, and unsubscribes when the client leaves", async () => {
    const stepFunctions = fakeStepFunctions([
      event(1, "ExecutionStarted", { executionStartedEventDetails: { input: "{}" } }),
      event(2, "TaskStateEntered", { stateEnteredEventDetails: { name: "Work", input: "{}" } }),
    ]);
    const url = await serve(stepFunctions);
    const controller = new AbortController();
    const response = await fetch(`${url}?after=1`, { signal: controller.signal });
    expect(response.headers.get("content-type")).toContain("text/event-stream");

    const stream = eventsOf(response);
    const first = await stream.until(hasStatus);
    const rows = first.find((e) => e.event === "rows")?.data as { html: string };
    expect(rows.html).toContain('data-event-id="2"');
    expect(rows.html).not.toContain('data-event-id="1"');
    const status = first.find((e) => e.event === "status")?.data as {
      nodes: Record<string, { status: string }>;
    };
    expect(status.nodes.Work?.status).toBe("running");
    expect(stepFunctions.listeners.size).toBe(1);

    stepFunctions.append(
      event(3, "TaskStateExited", { stateExitedEventDetails: { name: "Work", output: "{}" } }),
    );
    const next = await stream.until(hasStatus);
    expect(
      (next.find((e) => e.event === "status")?.data as typeof status | undefined)?.nodes.Work
        ?.status,
    ).toBe("succeeded");

    controller.abort();
    await expect.poll(() => stepFunctions.listeners.size).toBe(0);
  });

  it("ends the stream, and unsubscribes, when the execution ends", async () => {
    const stepFunctions = fakeStepFunctions([
      event(1, "ExecutionStarted", { executionStartedEventDetails: { input: "{}" } }),
      event(2, "TaskStateEntered", { stateEnteredEventDetails: { name: "Work", input: "{}" } }),
    ]);
    const url = await serve(stepFunctions);
    const response = await fetch(url);
    const stream = eventsOf(response);
    await stream.until(hasStatus);
    stepFunctions.append(
      event(3, "TaskStateExited", { stateExitedEventDetails: { name: "Work", output: "{}" } }),
    );
    stepFunctions.append(
      event(4, "SucceedStateEntered", { stateEnteredEventDetails: { name: "Done", input: "{}" } }),
    );
    stepFunctions.append(
      event(5, "ExecutionSucceeded", { executionSucceededEventDetails: { output: "{}" } }),
    );
    const events = await stream.until(() => false); // to the end of the stream
    expect(events.map((e) => e.event)).toContain("end");
    const last = events.filter((e) => e.event === "status").at(-1)?.data as {
      status: string;
      nodes: Record<string, { status: string }>;
    };
    expect(last.status).toBe("SUCCEEDED");
    expect(last.nodes.Done?.status).toBe("succeeded");
    expect(stepFunctions.listeners.size).toBe(0);
  });

  it("sends the Version analysis panel when a check's verdict changes it, and not otherwise", async () => {
    const stepFunctions = fakeStepFunctions([
      event(1, "ExecutionStarted", { executionStartedEventDetails: { input: "{}" } }),
      event(2, "TaskStateEntered", { stateEnteredEventDetails: { name: "Work", input: "{}" } }),
    ]);
    const url = await serve(stepFunctions);
    const controller = new AbortController();
    const stream = eventsOf(await fetch(url, { signal: controller.signal }));
    type Status = { analysis?: string };
    const statusOf = (events: Sent[]) =>
      events.find((e) => e.event === "status")?.data as Status | undefined;
    // The first status carries the panel as it stands.
    expect(statusOf(await stream.until(hasStatus))?.analysis).toContain("No version analysis");

    stepFunctions.append(
      event(3, "TaskStateExited", { stateExitedEventDetails: { name: "Work", output: "{}" } }),
    );
    stepFunctions.append(
      event(4, "TaskStateEntered", {
        stateEnteredEventDetails: { name: "CheckAlarms", input: "{}" },
      }),
    );
    const unchanged = statusOf(await stream.until(hasStatus));
    expect(unchanged).toBeDefined();
    expect(unchanged).not.toHaveProperty("analysis");

    const output = JSON.stringify({ rollout: { analysis: testVerdict() } });
    stepFunctions.append(
      event(5, "TaskStateExited", { stateExitedEventDetails: { name: "CheckAlarms", output } }),
    );
    const changed = statusOf(await stream.until(hasStatus));
    expect(changed?.analysis).toContain('data-verdict="pass"');
    controller.abort();
  });
});
