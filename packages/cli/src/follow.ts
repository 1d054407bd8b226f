import { GetExecutionHistoryCommand, type HistoryEvent, type SFNClient } from "@aws-sdk/client-sfn";
import { isTransient } from "@gantry/aws";
import { isExecutionEnd } from "@gantry/core";
import { explainError } from "./errors.ts";

/** The part of the SFN client following needs (a fake in tests). */
export type HistoryClient = Pick<SFNClient, "send">;

/**
 * Reads the events after `afterId`, oldest first, with GetExecutionHistory's paging. The first
 * read pages forward through everything; later reads page backwards from the newest event until
 * they reach one already seen, so each poll fetches only what is new (plus at most one page).
 *
 * @example
 * ```ts
 * const all = await eventsAfter(sfn, executionArn, 0);
 * const fresh = await eventsAfter(sfn, executionArn, all.at(-1)?.id ?? 0);
 * ```
 */
export async function eventsAfter(
  sfn: HistoryClient,
  executionArn: string,
  afterId: number,
  pageSize = 100,
): Promise<HistoryEvent[]> {
  if (afterId === 0) {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(
        new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }),
      );
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return dedupe(events);
  }
  const fresh = new Map<number, HistoryEvent>();
  let nextToken: string | undefined;
  pages: do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        reverseOrder: true,
        maxResults: pageSize,
        nextToken,
      }),
    );
    for (const event of page.events ?? []) {
      const id = event.id ?? 0;
      if (id <= afterId) break pages;
      fresh.set(id, event);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return [...fresh.values()].sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
}

function dedupe(events: readonly HistoryEvent[]): HistoryEvent[] {
  const byId = new Map<number, HistoryEvent>();
  for (const event of events) byId.set(event.id ?? byId.size, event);
  return [...byId.values()].sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
}

/**
 * How long to wait before poll number `n` (0-based): quick at first, when the early states
 * finish in milliseconds, then once a second.
 */
export function pollDelay(n: number): number {
  return Math.min(1000, 100 * 2 ** n);
}

export interface FollowOptions {
  readonly sfn: HistoryClient;
  readonly executionArn: string;
  /** Called with each batch of new events, oldest first. */
  readonly onEvents: (events: readonly HistoryEvent[]) => void;
  /** Called when a poll failed and will be retried. */
  readonly onRetry?: (message: string) => void;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Stops following (not the execution). */
  readonly signal?: AbortSignal | undefined;
  /** Consecutive failed polls tolerated before giving up. Default 30 (about half a minute). */
  readonly maxFailures?: number;
  readonly endpoint?: string | undefined;
}

/**
 * Follows an execution until an event ends it (or `signal` aborts): polls its history, passes
 * each batch of new events on, and returns how it ended ("interrupted" when aborted). What
 * @gantry/aws calls transient (throttling, server faults, network trouble: `isTransient`, the
 * adapters' own test) is retried; the command gives up after `maxFailures` polls in a row.
 */
export async function followExecution(options: FollowOptions): Promise<"ended" | "interrupted"> {
  let lastId = 0;
  let polls = 0;
  let failures = 0;
  const maxFailures = options.maxFailures ?? 30;
  while (!options.signal?.aborted) {
    try {
      const events = await eventsAfter(options.sfn, options.executionArn, lastId);
      failures = 0;
      if (events.length > 0) {
        lastId = events.at(-1)?.id ?? lastId;
        options.onEvents(events);
        if (events.some(isExecutionEnd)) return "ended";
      }
    } catch (error) {
      if (!isTransient(error)) throw error;
      failures++;
      if (failures >= maxFailures) throw error;
      const explained = explainError(error, { endpoint: options.endpoint });
      options.onRetry?.(`${explained.message}; retrying (${failures}/${maxFailures})`);
    }
    await options.sleep(failures > 0 ? 1000 : pollDelay(polls++), options.signal);
  }
  return "interrupted";
}
