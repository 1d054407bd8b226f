import {
  appendFileSync,
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
} from "node:fs";
import { dirname, join } from "node:path";
import type { ExecutionStatus } from "@gantry/core";
import {
  DamagedFileError,
  Quarantine,
  readSealedJson,
  readSealedLine,
  sealedLine,
  writeSealedJson,
} from "../storage/durable-file.ts";
import { executionArn, stateMachineArn } from "./arns.ts";
import type { HistoryEvent } from "./history.ts";

/** What is kept in memory for every execution: all DescribeExecution says but input and output. */
export interface ExecutionSummary {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly name: string;
  status: ExecutionStatus;
  readonly startDate: number;
  stopDate?: number;
  error?: string;
  cause?: string;
}

/** An execution as DescribeExecution reports it (times in epoch milliseconds). */
export interface ExecutionRecord extends ExecutionSummary {
  readonly input: string;
  output?: string;
}

/**
 * The durable promise to clean up after an execution that ended without running its own failure
 * path (stopped, failed past every Catch, interrupted by a crash), written before the cleanup
 * starts and removed once the execution is terminal. Whoever finds one at start finishes the job.
 */
export interface ReconcileIntent {
  /**
   * The status the execution takes once the cleanup has run: SUCCEEDED for a success whose
   * Finish failed for good (its output, `lastState`, has `cleanupFailure` and no `outcome`).
   */
  readonly status: "FAILED" | "ABORTED" | "TIMED_OUT" | "SUCCEEDED";
  /** The execution's error and cause (an abort through StopExecution may have neither). */
  readonly error?: string;
  readonly cause?: string;
  /** The last state document the execution had, as JSON text: what the cleanup works from. */
  readonly lastState: string;
  readonly stopDate: number;
}

/** An execution as found on disk at start: its record, and its unfinished cleanup if any. */
export interface StoredExecution {
  readonly record: ExecutionRecord;
  readonly intent?: ReconcileIntent;
}

/** The history events that end an execution, and the status each gives it. */
const TERMINAL_EVENTS: Readonly<Record<string, ExecutionStatus>> = {
  ExecutionSucceeded: "SUCCEEDED",
  ExecutionFailed: "FAILED",
  ExecutionAborted: "ABORTED",
  ExecutionTimedOut: "TIMED_OUT",
};

/** Every status an execution can have, as DescribeExecution reports it. */
export const EXECUTION_STATUSES = [
  "RUNNING",
  "SUCCEEDED",
  "FAILED",
  "TIMED_OUT",
  "ABORTED",
  "PENDING_REDRIVE",
] as const;

/**
 * Executions and their histories on disk, written as they happen:
 *
 *     <dir>/<state machine>/<execution name>/execution.json   (sealed JSON, written durably)
 *     <dir>/<state machine>/<execution name>/history.jsonl    (one sealed event per line, appended)
 *     <dir>/<state machine>/<execution name>/reconcile.json   (an unfinished cleanup, if any)
 *
 * A crash loses at most the event being written. A damaged execution.json is quarantined and
 * the execution rebuilt from its directory's name and its history, so it never vanishes (and its
 * name is never reused into the old history).
 */
export class ExecutionStore {
  readonly #dir: string;
  readonly #quarantine: Quarantine;
  /** Histories whose garbled lines were already reported (reported once, not at every read). */
  readonly #reported = new Set<string>();

  constructor(dir: string, quarantine?: Quarantine, log: (line: string) => void = console.warn) {
    this.#dir = dir;
    // Without the control plane's own, damaged files go beside (never inside) the executions.
    this.#quarantine = quarantine ?? new Quarantine(dirname(dir), log);
    mkdirSync(dir, { recursive: true });
  }

  /**
   * Every execution on disk, in no particular order. A RUNNING record whose history already
   * ends (a crash between the last event and the record) takes the history's ending; a damaged
   * or missing record is rebuilt from the history.
   */
  loadAll(): StoredExecution[] {
    const found: StoredExecution[] = [];
    for (const machine of safeList(this.#dir)) {
      for (const name of safeList(join(this.#dir, machine))) {
        try {
          found.push(this.#load(machine, name));
        } catch (error) {
          // Unreadable (not damaged: EACCES, EIO). Its name stays taken (its directory exists).
          this.#quarantine.report(
            join(this.#dir, machine, name),
            `could not be read (${error instanceof Error ? error.message : String(error)})`,
          );
        }
      }
    }
    return found;
  }

  /** The full record of an execution (input and output), read from disk. */
  load(summary: ExecutionSummary): ExecutionRecord | undefined {
    try {
      return readSealedJson(this.#recordFile(summary), isRecord);
    } catch {
      return undefined;
    }
  }

  /** Whether an execution of this name was ever stored (its name cannot be used again). */
  exists(stateMachineName: string, name: string): boolean {
    return existsSync(join(this.#dir, stateMachineName, name));
  }

  save(record: ExecutionRecord): void {
    writeSealedJson(this.#recordFile(record), record);
  }

  /** Removes an execution and its history for good (retention). */
  remove(summary: ExecutionSummary): void {
    rmSync(this.#executionDir(summary), { recursive: true, force: true });
  }

  saveIntent(summary: ExecutionSummary, intent: ReconcileIntent): void {
    writeSealedJson(this.#intentFile(summary), intent);
  }

  removeIntent(summary: ExecutionSummary): void {
    rmSync(this.#intentFile(summary), { force: true });
  }

  appendHistory(record: ExecutionSummary, event: HistoryEvent): void {
    appendFileSync(this.#historyFile(record), sealedLine(event));
  }

  /**
   * The history's events. A line that does not parse is skipped, so one garbled line hides
   * nothing after it; a last line cut short (a write a crash interrupted) loses that event only.
   * Either is reported once (listed with the damaged files, the file left in place).
   */
  readHistory(record: ExecutionSummary): HistoryEvent[] {
    const file = this.#historyFile(record);
    if (!existsSync(file)) return [];
    const lines = readFileSync(file, "utf8").split("\n");
    const events: HistoryEvent[] = [];
    let garbled = 0;
    let torn = false;
    lines.forEach((line, index) => {
      if (!line) return;
      // Each line carries its checksum: a garbled byte inside a string still parses.
      const event = readSealedLine(line);
      if (isEvent(event)) events.push(event);
      else if (index < lines.length - 1) garbled++;
      else torn = true;
    });
    if ((garbled > 0 || torn) && !this.#reported.has(file)) {
      this.#reported.add(file);
      const problems = [
        ...(garbled > 0 ? [`${garbled} garbled line(s), skipped`] : []),
        ...(torn ? ["its last line is cut short (an interrupted write): that event is lost"] : []),
      ];
      this.#quarantine.report(file, problems.join("; "));
    }
    return events;
  }

  /** Ends a torn last line, so the next event appended starts a line of its own. */
  repairHistoryTail(record: ExecutionSummary): void {
    const file = this.#historyFile(record);
    if (!existsSync(file)) return;
    const fd = openSync(file, "r");
    try {
      const size = fstatSync(fd).size;
      if (size === 0) return;
      const last = Buffer.alloc(1);
      readSync(fd, last, 0, 1, size - 1);
      if (last[0] === 0x0a) return;
    } finally {
      closeSync(fd);
    }
    appendFileSync(file, "\n");
  }

  #load(machine: string, name: string): StoredExecution {
    const dir = join(this.#dir, machine, name);
    const recordFile = join(dir, "execution.json");
    let record: ExecutionRecord | undefined;
    if (existsSync(recordFile)) {
      try {
        record = readSealedJson(recordFile, isRecord);
      } catch (error) {
        if (!(error instanceof DamagedFileError)) throw error;
        this.#quarantine.put(recordFile, error.reason);
      }
    }
    if (!record) {
      // Even a directory with no record and no history is a name in use: it is rebuilt (as
      // RUNNING if nothing says it ended, so it is cleaned up as an interrupted execution).
      record = this.#rebuild(machine, name, dir);
      this.save(record);
    } else if (record.status === "RUNNING") {
      const ended = endingOf(this.readHistory(record));
      if (ended) {
        record = { ...record, ...ended };
        this.save(record);
      }
    }
    let intent: ReconcileIntent | undefined;
    const intentFile = this.#intentFile(record);
    if (existsSync(intentFile)) {
      if (record.status !== "RUNNING") {
        this.removeIntent(record); // the execution ended after its cleanup: nothing left to do
      } else {
        try {
          intent = readSealedJson(intentFile, isIntent);
        } catch (error) {
          if (!(error instanceof DamagedFileError)) throw error;
          // Without it the execution is an interrupted one: it is cleaned up as such.
          this.#quarantine.put(intentFile, error.reason);
        }
      }
    }
    if (record.status === "RUNNING") this.repairHistoryTail(record);
    return { record, ...(intent ? { intent } : {}) };
  }

  /** An execution whose record was lost, from what survives: its directory and its history. */
  #rebuild(machine: string, name: string, dir: string): ExecutionRecord {
    const base = { stateMachineName: machine, name } as ExecutionSummary;
    const events = this.readHistory(base);
    const started = events.find((e) => e.type === "ExecutionStarted");
    const details = started?.executionStartedEventDetails as { input?: unknown } | undefined;
    return {
      executionArn: executionArn(machine, name),
      stateMachineArn: stateMachineArn(machine),
      stateMachineName: machine,
      name,
      status: "RUNNING",
      startDate: started?.timestamp ?? statSync(dir).mtimeMs,
      input: typeof details?.input === "string" ? details.input : "{}",
      ...endingOf(events),
    };
  }

  #executionDir(record: Pick<ExecutionSummary, "stateMachineName" | "name">): string {
    return join(this.#dir, record.stateMachineName, record.name);
  }

  #recordFile(record: Pick<ExecutionSummary, "stateMachineName" | "name">): string {
    return join(this.#executionDir(record), "execution.json");
  }

  #intentFile(record: Pick<ExecutionSummary, "stateMachineName" | "name">): string {
    return join(this.#executionDir(record), "reconcile.json");
  }

  #historyFile(record: Pick<ExecutionSummary, "stateMachineName" | "name">): string {
    return join(this.#executionDir(record), "history.jsonl");
  }
}

/** The ending a history records, if its last event ends the execution. */
function endingOf(events: readonly HistoryEvent[]): Partial<ExecutionRecord> | undefined {
  const last = events.at(-1);
  const status = last ? TERMINAL_EVENTS[last.type] : undefined;
  if (!last || !status) return undefined;
  const details = (Object.entries(last).find(([key]) => key.endsWith("EventDetails"))?.[1] ??
    {}) as { output?: unknown; error?: unknown; cause?: unknown };
  return {
    status,
    stopDate: last.timestamp,
    ...(typeof details.output === "string" ? { output: details.output } : {}),
    ...(typeof details.error === "string" ? { error: details.error } : {}),
    ...(typeof details.cause === "string" ? { cause: details.cause } : {}),
  };
}

function isEvent(value: unknown): value is HistoryEvent {
  const e = value as Partial<HistoryEvent> | null;
  return (
    typeof e === "object" && e !== null && typeof e.id === "number" && typeof e.type === "string"
  );
}

function isRecord(value: unknown): value is ExecutionRecord {
  const r = value as Partial<ExecutionRecord> | null;
  return (
    typeof r === "object" &&
    r !== null &&
    typeof r.executionArn === "string" &&
    typeof r.stateMachineArn === "string" &&
    typeof r.stateMachineName === "string" &&
    typeof r.name === "string" &&
    typeof r.status === "string" &&
    (EXECUTION_STATUSES as readonly string[]).includes(r.status) &&
    typeof r.startDate === "number" &&
    typeof r.input === "string"
  );
}

function isIntent(value: unknown): value is ReconcileIntent {
  const i = value as Partial<ReconcileIntent> | null;
  return (
    typeof i === "object" &&
    i !== null &&
    (i.status === "FAILED" ||
      i.status === "ABORTED" ||
      i.status === "TIMED_OUT" ||
      i.status === "SUCCEEDED") &&
    typeof i.lastState === "string" &&
    typeof i.stopDate === "number"
  );
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
}
