import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Where the operator secret lives in the data directory; `gantry approve` reads it there. */
export const OPERATOR_SECRET_FILE = "operator-secret";

/**
 * The local operator's proof of identity: 256 random bits in `<home>/operator-secret`, mode
 * 0600, so only the user who owns the data directory can read it (and so decide approvals at
 * a terminal). Created on first start, kept across restarts. Returns the secret.
 *
 * @example
 * ```ts
 * const secret = ensureOperatorSecret(".gantry");
 * ```
 */
export function ensureOperatorSecret(home: string): string {
  const file = join(home, OPERATOR_SECRET_FILE);
  if (!existsSync(file)) {
    mkdirSync(home, { recursive: true, mode: 0o700 });
    writeFileSync(`${file}.tmp`, `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }
  return readFileSync(file, "utf8").trim();
}
