import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import {
  MIN_SIGNING_SECRET_LENGTH,
  type SecretSource,
  type SigningKeys,
  signingKeysFrom,
} from "@gantry/core";
import {
  DamagedFileError,
  type Quarantine,
  readSealedJson,
  writeSealedJson,
} from "../storage/durable-file.ts";

interface KeyFile {
  readonly current: string;
  readonly previous?: string;
}

/**
 * A key of the local control plane (the approval link signing key in `.gantry/signing-key.json`,
 * the decision key in `.gantry/decision-key.json`): generated once (256 random bits), readable
 * by the owner only (0600), written whole or not at all with a checksum. It never leaves that
 * file: links and decision records carry only a key id derived from it.
 *
 * A key file found damaged (torn, garbled, not a key) is moved to the quarantine, reported, and
 * replaced by a new key, without keeping the damaged one as "previous": links signed by the old
 * link key answer 403, decisions sealed by the old decision key do not verify
 * (ApprovalNotVerified). Both fail closed; the deployments waiting then are started again
 * (docs/operations.md, "A damaged file in the data directory"). Without a quarantine, or when
 * the file cannot be moved, the load fails with a DamagedFileError naming the file.
 *
 * @example
 * ```ts
 * const secrets = localSigningKeys(".gantry/signing-key.json");
 * const { current } = await secrets.signingKeys();
 * ```
 */
export function localSigningKeys(
  file: string,
  what?: string,
  quarantine?: Quarantine,
): SecretSource {
  let keys: SigningKeys | undefined;
  return {
    async signingKeys() {
      keys ??= load(file, what, quarantine);
      return keys;
    },
  };
}

/**
 * Makes a new current key and keeps the old one as previous (links it signed keep working). A
 * damaged key file is replaced without a previous key.
 */
export function rotateLocalSigningKey(file: string): void {
  let old: KeyFile | undefined;
  try {
    old = existsSync(file) ? readSealedJson(file, isKeyFile) : undefined;
  } catch (error) {
    if (!(error instanceof DamagedFileError)) throw error;
  }
  writeSealedJson(file, { current: newSecret(), ...(old ? { previous: old.current } : {}) });
}

function load(file: string, what: string | undefined, quarantine?: Quarantine): SigningKeys {
  if (!existsSync(file)) writeSealedJson(file, { current: newSecret() });
  let stored: KeyFile;
  try {
    stored = readSealedJson(file, isKeyFile);
  } catch (error) {
    if (!(error instanceof DamagedFileError)) throw error;
    const advice = `${what ?? "the approval signing key"} is damaged: ${error.reason}. Stop the control plane, move ${file} aside and start it again: a new key is made, and links or decisions of the old key fail closed (docs/operations.md, "A damaged file in the data directory")`;
    if (!quarantine) throw new DamagedFileError(file, advice);
    quarantine.put(
      file,
      `${error.reason}; replaced by a new key (links and decisions of the old one fail closed)`,
    );
    if (existsSync(file)) throw new DamagedFileError(file, advice);
    stored = { current: newSecret() };
    writeSealedJson(file, stored);
  }
  return signingKeysFrom(stored.current, stored.previous, what);
}

function isKeyFile(value: unknown): value is KeyFile {
  if (typeof value !== "object" || value === null) return false;
  const { current, previous } = value as Record<string, unknown>;
  return (
    typeof current === "string" &&
    current.length >= MIN_SIGNING_SECRET_LENGTH &&
    (previous === undefined || typeof previous === "string")
  );
}

function newSecret(): string {
  return randomBytes(32).toString("base64url");
}
