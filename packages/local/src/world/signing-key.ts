import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { type SecretSource, type SigningKeys, signingKeysFrom } from "@gantry/core";

interface KeyFile {
  readonly current: string;
  readonly previous?: string;
}

/**
 * The approval signing key of the local control plane: generated once (256 random bits) and
 * kept in `.gantry/signing-key.json`, readable by the owner only. It never leaves that file:
 * links carry only a key id derived from it.
 *
 * @example
 * ```ts
 * const secrets = localSigningKeys(".gantry/signing-key.json");
 * const { current } = await secrets.signingKeys();
 * ```
 */
export function localSigningKeys(file: string): SecretSource {
  let keys: SigningKeys | undefined;
  return {
    async signingKeys() {
      keys ??= load(file);
      return keys;
    },
  };
}

/** Makes a new current key and keeps the old one as previous (links it signed keep working). */
export function rotateLocalSigningKey(file: string): void {
  const old = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as KeyFile) : undefined;
  write(file, { current: newSecret(), ...(old ? { previous: old.current } : {}) });
}

function load(file: string): SigningKeys {
  if (!existsSync(file)) write(file, { current: newSecret() });
  const stored = JSON.parse(readFileSync(file, "utf8")) as KeyFile;
  return signingKeysFrom(stored.current, stored.previous);
}

function newSecret(): string {
  return randomBytes(32).toString("base64url");
}

function write(file: string, value: KeyFile): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(value), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}
