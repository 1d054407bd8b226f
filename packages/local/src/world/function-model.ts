import { randomUUID } from "node:crypto";
import {
  type AliasState,
  ConcurrentModification,
  type FunctionVersionInfo,
  TargetNotFound,
} from "@gantry/core";

/**
 * Lambda's model of a function, as plain data and the rules that change it: $LATEST, numbered
 * versions and aliases with at most one weighted extra version, each with a revision id that
 * makes updates conditional. Names, refusals and messages are Lambda's. No I/O: `LocalFunctions`
 * (functions.ts) loads a {@link StoredFunction}, applies one of these and saves it.
 */

export interface VersionDescription {
  readonly version: string;
  readonly codeSha256: string;
  readonly createdAt: string;
  readonly description: string;
}

export interface FunctionDescription {
  readonly name: string;
  readonly handler: string;
  readonly timeoutMs: number;
  readonly memorySizeMb: number;
  readonly createdAt: string;
  readonly latest: {
    readonly codeSha256: string;
    readonly revisionId: string;
    readonly lastModified: string;
  };
  /** Published versions, oldest first. */
  readonly versions: readonly VersionDescription[];
  readonly aliases: readonly AliasState[];
}

/** Lambda's error names for requests it refuses (the AWS adapter's errors look the same). */
export type LambdaErrorName =
  | "InvalidParameterValueException"
  | "ResourceConflictException"
  | "InvalidRequestContentException";

/** A request Lambda would refuse, named as Lambda names it. */
export class LambdaApiError extends Error {
  constructor(name: LambdaErrorName, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = name;
  }
}

export interface StoredVersion {
  version: string;
  codeSha256: string;
  description: string;
  createdAt: string;
  revisionId: string;
}

export interface StoredAlias {
  version: string;
  weights: Record<string, number>;
  revisionId: string;
  updatedAt: string;
}

/** A function as it is stored (function.json): its configuration, versions and aliases. */
export interface StoredFunction {
  format: 1;
  name: string;
  handler: string;
  timeoutMs: number;
  memorySizeMb: number;
  environment: Record<string, string>;
  createdAt: string;
  latest: { codeSha256: string; revisionId: string; lastModified: string };
  versions: StoredVersion[];
  aliases: Record<string, StoredAlias>;
}

const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const ALIAS_NAME = /^(?!\d+$)[A-Za-z0-9_-]{1,128}$/;
const VERSION_NUMBER = /^[1-9]\d*$/;
export const LATEST = "$LATEST";

/** Whether Lambda would accept `name` as a function name (it is also a safe directory name). */
export function isFunctionName(name: string): boolean {
  return FUNCTION_NAME.test(name);
}

export function checkFunctionName(name: string): void {
  if (!FUNCTION_NAME.test(name)) {
    throw new LambdaApiError(
      "InvalidParameterValueException",
      `invalid function name ${JSON.stringify(name)}`,
    );
  }
}

export function checkAliasName(alias: string): void {
  if (!ALIAS_NAME.test(alias)) {
    throw new LambdaApiError(
      "InvalidParameterValueException",
      `invalid alias name ${JSON.stringify(alias)}`,
    );
  }
}

/**
 * A new function whose $LATEST and version "1" run `codeSha256`, with `alias` on version "1".
 *
 * @example
 * ```ts
 * const stored = newFunction({ name: "hello-prod", alias: "live", codeSha256, handler: "index.handler", timeoutMs: 3000, memorySizeMb: 128, environment: {}, now });
 * ```
 */
export function newFunction(args: {
  readonly name: string;
  readonly alias: string;
  readonly codeSha256: string;
  readonly handler: string;
  readonly timeoutMs: number;
  readonly memorySizeMb: number;
  readonly environment: Readonly<Record<string, string>>;
  /** ISO 8601. */
  readonly now: string;
}): StoredFunction {
  const { codeSha256, now } = args;
  return {
    format: 1,
    name: args.name,
    handler: args.handler,
    timeoutMs: args.timeoutMs,
    memorySizeMb: args.memorySizeMb,
    environment: { ...args.environment },
    createdAt: now,
    latest: { codeSha256, revisionId: randomUUID(), lastModified: now },
    versions: [
      { version: "1", codeSha256, description: "", createdAt: now, revisionId: randomUUID() },
    ],
    aliases: {
      [args.alias]: { version: "1", weights: {}, revisionId: randomUUID(), updatedAt: now },
    },
  };
}

/**
 * Adds an alias on `version` (CreateAlias). Throws ResourceConflictException if the alias
 * exists, TargetNotFound for an unknown version.
 */
export function addAlias(
  stored: StoredFunction,
  alias: string,
  version: string,
  now: string,
): AliasState {
  if (stored.aliases[alias]) {
    throw new LambdaApiError(
      "ResourceConflictException",
      `alias ${stored.name}:${alias} already exists`,
    );
  }
  checkVersionExists(stored, version);
  const created = { version, weights: {}, revisionId: randomUUID(), updatedAt: now };
  stored.aliases[alias] = created;
  return toAliasState(alias, created);
}

/** Gives $LATEST new code and a new revision id (UpdateFunctionCode). */
export function setLatestCode(
  stored: StoredFunction,
  codeSha256: string,
  now: string,
): FunctionVersionInfo {
  stored.latest = { codeSha256, revisionId: randomUUID(), lastModified: now };
  return { version: LATEST, codeSha256, revisionId: stored.latest.revisionId };
}

/**
 * Publishes $LATEST as the next version (PublishVersion). Refuses (InvalidParameterValueException)
 * when $LATEST's code is not `codeSha256`, and (ConcurrentModification) when `revisionId` is not
 * $LATEST's current one. When $LATEST has the newest version's code, that version is returned
 * and nothing is published, as Lambda does.
 */
export function publishLatest(
  stored: StoredFunction,
  options: { codeSha256: string; revisionId?: string; description: string },
  now: string,
): FunctionVersionInfo {
  const { latest } = stored;
  if (options.revisionId !== undefined && options.revisionId !== latest.revisionId) {
    throw new ConcurrentModification(
      `${stored.name} changed while Gantry was updating it (PublishVersion): $LATEST has revision ${latest.revisionId}, not ${options.revisionId}`,
    );
  }
  if (options.codeSha256 !== latest.codeSha256) {
    throw new LambdaApiError(
      "InvalidParameterValueException",
      `CodeSha256 ${options.codeSha256} does not match $LATEST's ${latest.codeSha256}`,
    );
  }
  const newest = stored.versions.at(-1);
  if (newest && newest.codeSha256 === latest.codeSha256) return publishedInfo(newest);
  const number = Math.max(0, ...stored.versions.map((v) => Number(v.version))) + 1;
  const version: StoredVersion = {
    version: String(number),
    codeSha256: latest.codeSha256,
    description: options.description.slice(0, 256),
    createdAt: now,
    revisionId: randomUUID(),
  };
  stored.versions.push(version);
  return publishedInfo(version);
}

/**
 * Points an alias at `version`, sending each of `weights`' versions its share (UpdateAlias).
 * Lambda's rules: the alias and the versions exist (TargetNotFound otherwise), at most one extra
 * version, a published one other than the primary, with 0 < weight < 1
 * (InvalidParameterValueException otherwise). A `revisionId` other than the alias's current one
 * is refused (ConcurrentModification).
 */
export function routeAlias(
  stored: StoredFunction,
  alias: string,
  routing: { version: string; weights: Readonly<Record<string, number>>; revisionId?: string },
  now: string,
): AliasState {
  const current = stored.aliases[alias];
  if (!current)
    throw new TargetNotFound(`alias ${stored.name}:${alias} does not exist (UpdateAlias)`);
  if (routing.revisionId !== undefined && routing.revisionId !== current.revisionId) {
    throw new ConcurrentModification(
      `${stored.name}:${alias} changed while Gantry was updating it (UpdateAlias): it has revision ${current.revisionId}, not ${routing.revisionId}`,
    );
  }
  checkVersionExists(stored, routing.version);
  checkWeights(stored, routing.version, routing.weights);
  const updated: StoredAlias = {
    version: routing.version,
    weights: { ...routing.weights },
    revisionId: randomUUID(),
    updatedAt: now,
  };
  stored.aliases[alias] = updated;
  return toAliasState(alias, updated);
}

/**
 * The version a qualifier runs: the alias's primary, or one of its weighted versions drawn with
 * `random` (a number in [0, 1)); a qualifier that is not an alias is the version itself.
 */
export function routeVersion(
  stored: StoredFunction,
  qualifier: string,
  random: () => number,
): string {
  const alias = stored.aliases[qualifier];
  if (!alias) return qualifier;
  const weighted = Object.entries(alias.weights);
  if (weighted.length === 0) return alias.version;
  let r = random();
  for (const [version, weight] of weighted) {
    if (r < weight) return version;
    r -= weight;
  }
  return alias.version;
}

function checkVersionExists(stored: StoredFunction, version: string): void {
  if (version !== LATEST && !stored.versions.some((v) => v.version === version)) {
    throw new TargetNotFound(`version ${version} of ${stored.name} does not exist`);
  }
}

function checkWeights(
  stored: StoredFunction,
  primary: string,
  weights: Readonly<Record<string, number>>,
): void {
  const entries = Object.entries(weights);
  const refuse = (reason: string) => {
    throw new LambdaApiError(
      "InvalidParameterValueException",
      `invalid routing for ${stored.name}: ${reason}`,
    );
  };
  if (entries.length === 0) return;
  if (entries.length > 1) refuse("an alias can send traffic to at most one additional version");
  if (primary === LATEST)
    refuse("$LATEST is not supported for an alias pointing to more than one version");
  for (const [version, weight] of entries) {
    if (!VERSION_NUMBER.test(version))
      refuse(`additional version ${JSON.stringify(version)} is not a published version`);
    if (version === primary) refuse(`version ${version} is already the primary version`);
    checkVersionExists(stored, version);
    if (typeof weight !== "number" || !Number.isFinite(weight) || weight <= 0 || weight >= 1) {
      refuse(`weight ${String(weight)} for version ${version} is not between 0 and 1 (exclusive)`);
    }
  }
}

/** A version's code and revision: a number or $LATEST; undefined when there is none. */
export function versionInfo(
  stored: StoredFunction,
  version: string,
): FunctionVersionInfo | undefined {
  if (version === LATEST) {
    return {
      version: LATEST,
      codeSha256: stored.latest.codeSha256,
      revisionId: stored.latest.revisionId,
    };
  }
  const found = stored.versions.find((v) => v.version === version);
  return found && publishedInfo(found);
}

function publishedInfo(version: StoredVersion): FunctionVersionInfo {
  return {
    version: version.version,
    codeSha256: version.codeSha256,
    revisionId: version.revisionId,
  };
}

export function toAliasState(name: string, alias: StoredAlias): AliasState {
  return {
    name,
    version: alias.version,
    weights: { ...alias.weights },
    revisionId: alias.revisionId,
  };
}

/** The function's aliases, by name. */
export function aliasesOf(stored: StoredFunction): AliasState[] {
  return Object.entries(stored.aliases)
    .map(([name, alias]) => toAliasState(name, alias))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** What `describe` answers: the configuration, the published versions, the aliases. */
export function describeStored(stored: StoredFunction): FunctionDescription {
  return {
    name: stored.name,
    handler: stored.handler,
    timeoutMs: stored.timeoutMs,
    memorySizeMb: stored.memorySizeMb,
    createdAt: stored.createdAt,
    latest: { ...stored.latest },
    versions: stored.versions.map(({ version, codeSha256, createdAt, description }) => ({
      version,
      codeSha256,
      createdAt,
      description,
    })),
    aliases: aliasesOf(stored),
  };
}
