import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { EmailMessage, Mailer } from "@gantry/core";

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
 * to another Mailer (an SMTP mail catcher).
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

  constructor(dir: string, forward?: Mailer) {
    this.#dir = dir;
    this.#forward = forward;
    mkdirSync(dir, { recursive: true });
  }

  async send(message: EmailMessage): Promise<void> {
    const now = new Date();
    const id = `${now.toISOString().replace(/[-:.TZ]/g, "")}-${randomBytes(4).toString("hex")}`;
    const file = `${id}.eml`;
    writeFileSync(join(this.#dir, file), toRfc5322(message, now, id), { mode: 0o600 });
    const stored: OutboxMessage = { ...message, id, date: now.toISOString(), file };
    writeFileSync(join(this.#dir, `${id}.json`), JSON.stringify(stored), { mode: 0o600 });
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
      .map((f) => JSON.parse(readFileSync(join(this.#dir, f), "utf8")) as OutboxMessage);
  }

  get(id: string): OutboxMessage | undefined {
    if (!/^[0-9]{17}-[0-9a-f]{8}$/.test(id)) return undefined;
    try {
      return JSON.parse(readFileSync(join(this.#dir, `${id}.json`), "utf8")) as OutboxMessage;
    } catch {
      return undefined;
    }
  }

  /** The raw RFC 5322 text of a message. */
  raw(id: string): string | undefined {
    const message = this.get(id);
    return message && readFileSync(join(this.#dir, message.file), "utf8");
  }
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
