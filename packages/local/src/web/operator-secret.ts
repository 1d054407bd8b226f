import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Quarantine, writeFileDurably } from "../storage/durable-file.ts";

/** Where the operator secret lives in the data directory; `gantry approve` reads it there. */
export const OPERATOR_SECRET_FILE = "operator-secret";

/** What the file holds: 256 random bits, base64url, and a newline. */
const SECRET = /^[A-Za-z0-9_-]{43}$/;

/**
 * The local operator's proof of identity: 256 random bits in `<home>/operator-secret`, mode
 * 0600, so only the user who owns the data directory can read it (and so decide approvals at
 * a terminal). Created on first start (written whole or not at all), kept across restarts.
 * A damaged one (torn, empty, not a secret) is moved to the quarantine, reported and replaced:
 * the CLI reads the file at each call, so nothing else changes. Returns the secret.
 *
 * @example
 * ```ts
 * const secret = ensureOperatorSecret(".gantry");
 * ```
 */
export function ensureOperatorSecret(home: string, quarantine?: Quarantine): string {
  const file = join(home, OPERATOR_SECRET_FILE);
  if (existsSync(file)) {
    const secret = readFileSync(file, "utf8").trim();
    if (SECRET.test(secret)) return secret;
    quarantine?.put(
      file,
      "not an operator secret (a torn or garbled write); replaced by a new one",
    );
  }
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString("base64url");
  writeFileDurably(file, `${secret}\n`, 0o600);
  return secret;
}
