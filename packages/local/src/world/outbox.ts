import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { EmailMessage, Mailer } from "@gantry/core";
import {
  DamagedFileError,
  Quarantine,
  readSealedJson,
  writeFileDurably,
  writeSealedJson,
} from "../storage/durable-file.ts";

/** One message of the outbox, as the web lists and shows it. */
export interface OutboxMessage extends EmailMessage {
  readonly id: string;
  readonly date: string;
  /** The .eml file (RFC 5322) under the outbox directory. */
  readonly file: string;
}

/**
 * Where email goes locally: every message is written as an RFC 5322 file
 * (`.gantry/outbox/<time>-<id>.eml`, multipart/alternative with the text and HTML bodies) that
 * any mail client opens, plus a JSON twin the web's /outbox page reads. Optionally forwarded
 * to another Mailer (an SMTP mail catcher). Both are written whole or not at all, the JSON with
 * a checksum; a damaged JSON twin is moved to the quarantine and reported, and the message is
 * left out of the list (its .eml stays).
 *
 * @example
 * ```ts
 * const outbox = new Outbox(".gantry/outbox");
 * await outbox.send({ from, to: ["alice@example.com"], subject, text, html });
 * outbox.list()[0]?.subject;
 * ```
 */
export class Outbox implements Mailer {
  readonly #dir: string;
  readonly #forward: Mailer | undefined;
  readonly #quarantine: Quarantine;

  /** `quarantine` takes damaged files (default: one of the directory above `dir`). */
  constructor(dir: string, forward?: Mailer, quarantine?: Quarantine) {
    this.#dir = dir;
    this.#forward = forward;
    this.#quarantine = quarantine ?? new Quarantine(dirname(dir));
    mkdirSync(dir, { recursive: true });
  }

  async send(message: EmailMessage): Promise<void> {
    const now = new Date();
    const id = `${now.toISOString().replace(/[-:.TZ]/g, "")}-${randomBytes(4).toString("hex")}`;
    const file = `${id}.eml`;
    writeFileDurably(join(this.#dir, file), toRfc5322(message, now, id), 0o600);
    const stored: OutboxMessage = { ...message, id, date: now.toISOString(), file };
    writeSealedJson(join(this.#dir, `${id}.json`), stored, 0o600);
    // The outbox copy is the one that counts locally: a mail catcher that is down is a note, not a failure.
    await this.#forward?.send(message).catch((error: unknown) => {
      process.stderr.write(
        `gantry: could not forward ${id} over SMTP: ${error instanceof Error ? error.message : String(error)}\n`,
      );
    });
  }

  /** Newest first. */
  list(): OutboxMessage[] {
    let files: string[];
    try {
      files = readdirSync(this.#dir).filter((f) => f.endsWith(".json"));
    } catch {
      return [];
    }
    return files
      .sort()
      .reverse()
      .map((f) => this.#read(join(this.#dir, f)))
      .filter((m): m is OutboxMessage => m !== undefined);
  }

  get(id: string): OutboxMessage | undefined {
    if (!/^[0-9]{17}-[0-9a-f]{8}$/.test(id)) return undefined;
    return this.#read(join(this.#dir, `${id}.json`));
  }

  /** A message's JSON twin; undefined if missing or damaged (then quarantined). */
  #read(file: string): OutboxMessage | undefined {
    try {
      return readSealedJson(file, isOutboxMessage);
    } catch (error) {
      if (error instanceof DamagedFileError) this.#quarantine.put(file, error.reason);
      return undefined;
    }
  }

  /** The raw RFC 5322 text of a message. */
  raw(id: string): string | undefined {
    const message = this.get(id);
    return message && readFileSync(join(this.#dir, message.file), "utf8");
  }
}

function isOutboxMessage(value: unknown): value is OutboxMessage {
  if (typeof value !== "object" || value === null) return false;
  const m = value as Record<string, unknown>;
  return (
    typeof m.id === "string" &&
    typeof m.date === "string" &&
    typeof m.file === "string" &&
    /^[0-9]{17}-[0-9a-f]{8}\.eml$/.test(m.file) &&
    typeof m.from === "string" &&
    Array.isArray(m.to) &&
    typeof m.subject === "string" &&
    typeof m.text === "string" &&
    typeof m.html === "string"
  );
}

/** A multipart/alternative message; the HTML part base64 (its lines can be long), text 8-bit. */
export function toRfc5322(message: EmailMessage, date: Date, id: string): string {
  const boundary = `gantry-${randomBytes(12).toString("hex")}`;
  const headers = [
    `From: ${header(message.from)}`,
    `To: ${message.to.map(header).join(", ")}`,
    `Subject: ${encodeWord(message.subject)}`,
    `Date: ${date.toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <${id}@gantry.local>`,
    "MIME-Version: 1.0",
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
  ];
  const html = Buffer.from(message.html, "utf8")
    .toString("base64")
    .replace(/.{1,76}/g, "$&\r\n");
  return [
    ...headers,
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    message.text.replace(/\r?\n/g, "\r\n"),
    `--${boundary}`,
    "Content-Type: text/html; charset=utf-8",
    "Content-Transfer-Encoding: base64",
    "",
    html.trimEnd(),
    `--${boundary}--`,
    "",
  ].join("\r\n");
}

/** Header values may not carry line breaks (header injection). */
function header(value: string): string {
  return value.replace(/[\r\n]+/g, " ");
}

/** RFC 2047 encoded-word for non-ASCII subjects. */
function encodeWord(value: string): string {
  const clean = header(value);
  return /^[\x20-\x7e]*$/.test(clean)
    ? clean
    : `=?UTF-8?B?${Buffer.from(clean, "utf8").toString("base64")}?=`;
}
