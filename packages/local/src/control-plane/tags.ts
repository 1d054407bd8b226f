import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  DamagedFileError,
  type Quarantine,
  readSealedJson,
  writeSealedJson,
} from "../storage/durable-file.ts";
import { SfnApiError } from "./errors.ts";

/** A resource tag, as the Step Functions API carries it. */
export interface Tag {
  readonly key: string;
  readonly value: string;
}

/** AWS's limits: 50 tags per resource, keys of 1 to 128 and values of up to 256 characters. */
const MAX_TAGS = 50;
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/**
 * The state machines' tags (TagResource, UntagResource, ListTagsForResource), kept beside each
 * state machine's creation date in `<dir>/<name>.tags.json`, so they survive a restart.
 */
export class TagStore {
  readonly #dir: string;
  readonly #quarantine: Quarantine | undefined;

  constructor(dir: string, quarantine?: Quarantine) {
    this.#dir = dir;
    this.#quarantine = quarantine;
  }

  /**
   * Reads every machine's tags file once (at open), so a damaged one is quarantined and
   * reported at start, not only when someone first asks for the tags. Returns how many were
   * damaged.
   */
  check(machines: Iterable<string>): number {
    const before = this.#quarantine?.files.length ?? 0;
    for (const machine of machines) this.#read(machine);
    return (this.#quarantine?.files.length ?? 0) - before;
  }

  list(machine: string): Tag[] {
    return Object.entries(this.#read(machine))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => ({ key, value }));
  }

  add(machine: string, tags: unknown): void {
    if (!Array.isArray(tags))
      throw new SfnApiError(
        "ValidationException",
        "1 validation error detected: 'tags' must be a list",
      );
    const current = this.#read(machine);
    tags.forEach((tag: unknown, index) => {
      const { key, value } = (tag ?? {}) as { key?: unknown; value?: unknown };
      validate(key, `tags.${index + 1}.member.key`, 1, 128);
      validate(value ?? "", `tags.${index + 1}.member.value`, 0, 256);
      current[key as string] = (value ?? "") as string;
    });
    if (Object.keys(current).length > MAX_TAGS)
      throw new SfnApiError(
        "TooManyTags",
        `Too many tags: a resource can have at most ${MAX_TAGS} tags`,
      );
    this.#write(machine, current);
  }

  remove(machine: string, keys: unknown): void {
    if (!Array.isArray(keys))
      throw new SfnApiError(
        "ValidationException",
        "1 validation error detected: 'tagKeys' must be a list",
      );
    const current = this.#read(machine);
    keys.forEach((key: unknown, index) => {
      validate(key, `tagKeys.${index + 1}.member`, 1, 128);
      delete current[key as string];
    });
    this.#write(machine, current);
  }

  #file(machine: string): string {
    return join(this.#dir, `${machine}.tags.json`);
  }

  /** The tags; a damaged file is quarantined and reported, and the machine has no tags. */
  #read(machine: string): Record<string, string> {
    const file = this.#file(machine);
    if (!existsSync(file)) return {};
    try {
      return readSealedJson(file, isTagMap);
    } catch (error) {
      if (!(error instanceof DamagedFileError)) throw error;
      this.#quarantine?.put(file, error.reason);
      return {};
    }
  }

  #write(machine: string, tags: Record<string, string>): void {
    writeSealedJson(this.#file(machine), tags);
  }
}

function isTagMap(value: unknown): value is Record<string, string> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === "string")
  );
}

function validate(value: unknown, at: string, min: number, max: number): void {
  if (
    typeof value !== "string" ||
    value.length < min ||
    value.length > max ||
    !TAG_TEXT.test(value)
  )
    throw new SfnApiError(
      "ValidationException",
      `1 validation error detected: Value '${String(value)}' at '${at}' failed to satisfy constraint: Member must have length between ${min} and ${max} and match the pattern ^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$`,
    );
}
