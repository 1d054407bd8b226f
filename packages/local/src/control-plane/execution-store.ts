import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { ExecutionStatus } from "@gantry/core";
import type { HistoryEvent } from "./history.ts";

/** An execution as DescribeExecution reports it (times in epoch milliseconds). */
export interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly name: string;
  status: ExecutionStatus;
  readonly startDate: number;
  stopDate?: number;
  readonly input: string;
  output?: string;
  error?: string;
  cause?: string;
}

/**
 * Executions and their histories on disk, written as they happen:
 *
 *     <dir>/<state machine>/<execution name>/execution.json   (rewritten atomically on change)
 *     <dir>/<state machine>/<execution name>/history.jsonl    (one event per line, appended)
 *
 * A crash loses at most the event being written; an execution left RUNNING on disk is one the
 * control plane was running when it died, which the next start reports as failed.
 */
export class ExecutionStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
    mkdirSync(dir, { recursive: true });
  }

  /** Every execution on disk, in no particular order. */
  loadAll(): ExecutionRecord[] {
    const records: ExecutionRecord[] = [];
    for (const machine of safeList(this.#dir)) {
      for (const name of safeList(join(this.#dir, machine))) {
        const file = join(this.#dir, machine, name, "execution.json");
        if (!existsSync(file)) continue;
        try {
          records.push(JSON.parse(readFileSync(file, "utf8")) as ExecutionRecord);
        } catch {
          // A record torn by a crash in the middle of its first write: its history still says what happened.
        }
      }
    }
    return records;
  }

  save(record: ExecutionRecord): void {
    const dir = this.#executionDir(record);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "execution.json");
    writeFileSync(`${file}.tmp`, JSON.stringify(record));
    renameSync(`${file}.tmp`, file);
  }

  appendHistory(record: ExecutionRecord, event: HistoryEvent): void {
    appendFileSync(join(this.#executionDir(record), "history.jsonl"), `${JSON.stringify(event)}\n`);
  }

  readHistory(record: ExecutionRecord): HistoryEvent[] {
    const file = join(this.#executionDir(record), "history.jsonl");
    if (!existsSync(file)) return [];
    const events: HistoryEvent[] = [];
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (!line) continue;
      try {
        events.push(JSON.parse(line) as HistoryEvent);
      } catch {
        break; // a line cut short by a crash is the last one
      }
    }
    return events;
  }

  #executionDir(record: ExecutionRecord): string {
    return join(this.#dir, record.stateMachineName, record.name);
  }
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
