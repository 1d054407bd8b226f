import type { IncomingMessage, ServerResponse } from "node:http";
import type { HistoryEvent } from "../../control-plane/history.ts";
import type { LocalStepFunctions } from "../../control-plane/local-step-functions.ts";
import { renderAnalysis } from "./analysis-view.ts";
import type { DeploymentWorldSnapshot } from "./deployment-world.ts";
import { type LoadedExecution, readHistory, track } from "./execution-data.ts";
import {
  approvalRuns,
  renderAlarms,
  renderApproval,
  renderHistoryRows,
  renderSummary,
  renderTraffic,
} from "./execution-page.ts";
import type { HistoryRow } from "./execution-status.ts";
import type { ExecutionListing } from "./executions.ts";
import { type NodeView, nodeView } from "./graph-svg.ts";

/**
 * The execution view's live updates, as server-sent events
 * (`GET /executions/<state machine>/<name>/events`). The stream subscribes to the local Step
 * Functions' history events for this one execution and sends:
 *
 *     event: rows     id: <last event id>   { html }   history rows to append (escaped <tr>s)
 *     event: status   { status, nodes: { <state>: NodeView }, taken: [edge ids], summary,
 *                       analysis? }   analysis: the Version analysis panel, when it changed
 *     event: world    { traffic, alarms, approval, summary }   when the snapshot changed
 *     event: end      {}                                        the execution has ended
 *
 * It starts with the rows after the client's last event id (`Last-Event-ID` on a reconnect, or
 * `?after=`), then the full status, so no event is lost between the page and the stream. Bursts
 * are sent together; the world (traffic, alarms, approval) is polled every `worldIntervalMs`.
 * When the client goes away, or the execution ends, everything is unsubscribed and cleared.
 */

export interface LiveSources {
  readonly stepFunctions: Pick<LocalStepFunctions, "subscribe" | "getExecutionHistory">;
  /** The traffic, alarms and approval around the deployment, now. */
  readonly world: () => Promise<DeploymentWorldSnapshot>;
  readonly listing: ExecutionListing;
}

export interface LiveOptions {
  readonly worldIntervalMs?: number;
  readonly heartbeatMs?: number;
  /** How long to gather a burst of events before sending it. */
  readonly batchMs?: number;
}

/** Answers an event-stream request for one execution until it ends or the client leaves. */
export function streamExecution(
  req: IncomingMessage,
  res: ServerResponse,
  loaded: LoadedExecution,
  sources: LiveSources,
  after: number,
  options: LiveOptions = {},
): void {
  const arn = loaded.record.executionArn;
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    connection: "keep-alive",
  });
  res.write("retry: 2000\n\n");

  let closed = false;
  let pending: HistoryRow[] = [];
  let flushTimer: NodeJS.Timeout | undefined;
  let worldTimer: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  const sentNodes = new Map<string, string>();
  /** The Version analysis panel as last sent (the page rendered it before the stream began). */
  let sentAnalysis: string | undefined;
  const sentWorld = new Map<string, string>();

  const send = (event: string, data: unknown, id?: number) => {
    if (closed) return;
    res.write(
      `${id !== undefined ? `id: ${id}\n` : ""}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`,
    );
  };

  // Subscribing and reading the history happen in the same tick: no event falls between them.
  const unsubscribe = sources.stepFunctions.subscribe((message) => {
    if (message.executionArn === arn) onEvent(message.event);
  });
  const { tracker, rows } = track(loaded.layout, readHistory(sources.stepFunctions, arn));

  const cleanUp = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    clearTimeout(flushTimer);
    clearInterval(worldTimer);
    clearInterval(heartbeat);
  };
  req.on("close", cleanUp);
  res.on("close", cleanUp);

  const summaryHtml = () =>
    renderSummary({
      listing: sources.listing,
      tracker,
      now: Date.now(),
    }).value;

  const status = () => {
    const nodes: Record<string, NodeView> = {};
    for (const node of loaded.layout.graph.nodes) {
      const view = nodeView(node, tracker.run(node.name));
      const text = JSON.stringify(view);
      if (sentNodes.get(node.name) === text) continue;
      sentNodes.set(node.name, text);
      nodes[node.name] = view;
    }
    // A new verdict comes with a check's end: sent with the status that event changed.
    const analysis = renderAnalysis(tracker.progress).value;
    const analysisChanged = analysis !== sentAnalysis;
    sentAnalysis = analysis;
    return {
      status: tracker.status,
      nodes,
      taken: [...tracker.takenEdges()],
      summary: summaryHtml(),
      ...(analysisChanged ? { analysis } : {}),
    };
  };

  const sendRows = (batch: readonly HistoryRow[]) => {
    if (batch.length === 0) return;
    send(
      "rows",
      { html: renderHistoryRows(batch).value, count: tracker.lastEventId },
      batch.at(-1)?.id,
    );
  };

  let worldRead: Promise<void> | undefined;
  /** Sends the world's panels that changed; one read at a time. */
  const sendWorld = (): Promise<void> => {
    if (closed) return Promise.resolve();
    worldRead ??= (async () => {
      try {
        const world = await sources.world();
        const parts: Record<string, string> = {
          traffic: renderTraffic(world).value,
          alarms: renderAlarms(world).value,
          approval: renderApproval(world.approval, approvalRuns(tracker)).value,
          summary: summaryHtml(),
        };
        const changed: Record<string, string> = {};
        for (const [key, value] of Object.entries(parts)) {
          if (sentWorld.get(key) === value) continue;
          sentWorld.set(key, value);
          changed[key] = value;
        }
        if (Object.keys(changed).length > 0) send("world", changed);
      } catch {
        // the world is read again on the next tick
      } finally {
        worldRead = undefined;
      }
    })();
    return worldRead;
  };

  const finish = async () => {
    await worldRead; // a read that started before the end
    await sendWorld(); // and the world as the execution left it
    send("end", { status: tracker.status });
    cleanUp();
    res.end();
  };

  const flush = () => {
    flushTimer = undefined;
    const batch = pending;
    pending = [];
    sendRows(batch);
    send("status", status());
    if (tracker.status !== "RUNNING") void finish();
  };

  function onEvent(event: HistoryEvent): void {
    if (closed || event.id <= tracker.lastEventId) return;
    pending.push(tracker.apply(event));
    flushTimer ??= setTimeout(flush, options.batchMs ?? 25);
  }

  worldTimer = setInterval(() => void sendWorld(), options.worldIntervalMs ?? 1000);
  heartbeat = setInterval(() => {
    if (!closed) res.write(": keep-alive\n\n");
  }, options.heartbeatMs ?? 15_000);
  worldTimer.unref();
  heartbeat.unref();

  sendRows(rows.filter((row) => row.id > after));
  send("status", status());
  if (tracker.status !== "RUNNING") void finish();
  else void sendWorld();
}

/** The last event id the client has: `Last-Event-ID` (a reconnect) or `?after=`. */
export function lastEventIdOf(req: IncomingMessage, url: URL): number {
  const header = req.headers["last-event-id"];
  const raw = typeof header === "string" ? header : (url.searchParams.get("after") ?? "0");
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}
