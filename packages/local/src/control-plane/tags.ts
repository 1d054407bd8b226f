import { randomBytes } from "node:crypto";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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

  constructor(dir: string) {
    this.#dir = dir;
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

  #read(machine: string): Record<string, string> {
    try {
      return JSON.parse(readFileSync(this.#file(machine), "utf8")) as Record<string, string>;
    } catch {
      return {};
    }
  }

  #write(machine: string, tags: Record<string, string>): void {
    const file = this.#file(machine);
    const tmp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
    writeFileSync(tmp, JSON.stringify(tags));
    renameSync(tmp, file);
  }
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
