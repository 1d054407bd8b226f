import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { type SecretSource, type SigningKeys, signingKeysFrom } from "@gantry/core";

interface KeyFile {
  readonly current: string;
  readonly previous?: string;
}

/**
 * A key of the local control plane (the approval link signing key in `.gantry/signing-key.json`,
 * the decision key in `.gantry/decision-key.json`): generated once (256 random bits), readable
 * by the owner only (0600). It never leaves that file: links and decision records carry only a
 * key id derived from it.
 *
 * @example
 * ```ts
 * const secrets = localSigningKeys(".gantry/signing-key.json");
 * const { current } = await secrets.signingKeys();
 * ```
 */
export function localSigningKeys(file: string, what?: string): SecretSource {
  let keys: SigningKeys | undefined;
  return {
    async signingKeys() {
      keys ??= load(file, what);
      return keys;
    },
  };
}

/** Makes a new current key and keeps the old one as previous (links it signed keep working). */
export function rotateLocalSigningKey(file: string): void {
  const old = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as KeyFile) : undefined;
  write(file, { current: newSecret(), ...(old ? { previous: old.current } : {}) });
}

function load(file: string, what?: string): SigningKeys {
  if (!existsSync(file)) write(file, { current: newSecret() });
  const stored = JSON.parse(readFileSync(file, "utf8")) as KeyFile;
  return signingKeysFrom(stored.current, stored.previous, what);
}

function newSecret(): string {
  return randomBytes(32).toString("base64url");
}

function write(file: string, value: KeyFile): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(value), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}
