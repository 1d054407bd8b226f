/**
 * An in-memory world for workflow tests: the ports of @gantry/core with the semantics the real
 * services have (ETags and conditional writes, numbered versions, weighted aliases with
 * RevisionIds, alarm states), plus hooks to inject faults and to react to alias changes.
 *
 * A function's "code" is its artifact's bytes: JSON saying what an invocation answers, e.g.
 * `{"statusCode":200,"body":"hello"}` or `{"throws":"Boom"}`.
 */
import {
  type AlarmReader,
  type AlarmStateValue,
  type AlarmStatus,
  type AliasState,
  ArtifactChecksumMismatch,
  type ArtifactStore,
  type CopyOptions,
  type EmailMessage,
  type FunctionControl,
  type FunctionVersionInfo,
  type InvocationResult,
  type Mailer,
  type MetricsPublisher,
  type ObjectInfo,
  type ObjectRef,
  type RecordBytes,
  type RecordBytesReader,
  type RecordStore,
  type StoredRecord,
  sha256Hex,
  type VersionMetrics,
  type VersionMetricsQuery,
  type VersionMetricsReader,
} from "../index.ts";

let counter = 0;
const nextTag = () => `"${(++counter).toString(16).padStart(8, "0")}"`;

/** Makes the next `times` calls of an operation throw `error`. */
export class Faults {
  readonly #planned = new Map<string, { error: () => Error; times: number }>();
  readonly calls: string[] = [];

  fail(operation: string, error: () => Error, times = 1): void {
    this.#planned.set(operation, { error, times });
  }

  check(operation: string): void {
    this.calls.push(operation);
    const planned = this.#planned.get(operation);
    if (!planned || planned.times === 0) return;
    planned.times--;
    throw planned.error();
  }
}

export class MemoryRecords implements RecordStore, RecordBytesReader {
  readonly data = new Map<string, { json: string; etag: string }>();
  readonly faults: Faults;
  constructor(faults = new Faults()) {
    this.faults = faults;
  }

  async get<T>(key: string): Promise<StoredRecord<T> | undefined> {
    this.faults.check("records.get");
    const item = this.data.get(key);
    return item && { value: JSON.parse(item.json) as T, etag: item.etag };
  }
  async getBytes(key: string): Promise<RecordBytes | undefined> {
    this.faults.check("records.getBytes");
    const item = this.data.get(key);
    return item && { bytes: Buffer.from(item.json, "utf8"), etag: item.etag };
  }
  async create<T>(key: string, value: T): Promise<StoredRecord<T> | undefined> {
    this.faults.check("records.create");
    if (this.data.has(key)) return undefined;
    return this.#set(key, value);
  }
  async replace<T>(key: string, value: T, etag: string): Promise<StoredRecord<T> | undefined> {
    this.faults.check("records.replace");
    if (this.data.get(key)?.etag !== etag) return undefined;
    return this.#set(key, value);
  }
  async put<T>(key: string, value: T): Promise<void> {
    this.faults.check("records.put");
    this.#set(key, value);
  }
  async delete(key: string, etag: string): Promise<boolean> {
    this.faults.check("records.delete");
    if (this.data.get(key)?.etag !== etag) return false;
    return this.data.delete(key);
  }
  async list(prefix: string): Promise<string[]> {
    return [...this.data.keys()].filter((k) => k.startsWith(prefix));
  }
  #set<T>(key: string, value: T): StoredRecord<T> {
    const etag = nextTag();
    this.data.set(key, { json: JSON.stringify(value), etag });
    return { value, etag };
  }
}

interface StoredObject {
  bytes: Buffer;
  sha256: string;
  etag: string;
  versionId: string;
  metadata: Record<string, string>;
  tags: Record<string, string>;
}

export class MemoryArtifacts implements ArtifactStore {
  readonly objects = new Map<string, StoredObject>();
  readonly faults: Faults;
  constructor(faults = new Faults()) {
    this.faults = faults;
  }

  /** What CI's publish does: upload bytes with their SHA-256. */
  put(ref: ObjectRef, bytes: Buffer | string): string {
    const body = Buffer.from(bytes);
    const sha256 = sha256Hex(body);
    this.objects.set(`${ref.bucket}/${ref.key}`, {
      bytes: body,
      sha256,
      etag: nextTag(),
      versionId: `v${++counter}`,
      metadata: {},
      tags: {},
    });
    return sha256;
  }
  bytes(ref: ObjectRef): Buffer | undefined {
    return this.objects.get(`${ref.bucket}/${ref.key}`)?.bytes;
  }
  object(ref: ObjectRef): StoredObject | undefined {
    return this.objects.get(`${ref.bucket}/${ref.key}`);
  }

  async head(ref: ObjectRef): Promise<ObjectInfo | undefined> {
    this.faults.check("artifacts.head");
    const o = this.objects.get(`${ref.bucket}/${ref.key}`);
    return o && info(ref, o);
  }
  async copy(from: ObjectInfo, to: ObjectRef, options: CopyOptions): Promise<ObjectInfo> {
    this.faults.check("artifacts.copy");
    const source = this.objects.get(`${from.bucket}/${from.key}`);
    if (!source) throw Object.assign(new Error("NoSuchKey"), { name: "NoSuchKey" });
    if (source.etag !== from.etag) {
      throw new ArtifactChecksumMismatch(`${from.key} changed after it was verified`);
    }
    const copy: StoredObject = {
      ...source,
      etag: nextTag(),
      versionId: `v${++counter}`,
      metadata: { ...options.metadata },
      tags: { ...options.tags },
    };
    this.objects.set(`${to.bucket}/${to.key}`, copy);
    return info(to, copy);
  }
  async readJson<T>(ref: ObjectRef): Promise<T | undefined> {
    const o = this.objects.get(`${ref.bucket}/${ref.key}`);
    return o && (JSON.parse(o.bytes.toString("utf8")) as T);
  }
  async writeJsonIfAbsent(ref: ObjectRef, value: unknown): Promise<boolean> {
    if (this.objects.has(`${ref.bucket}/${ref.key}`)) return false;
    this.put(ref, JSON.stringify(value));
    return true;
  }
}

function info(ref: ObjectRef, o: StoredObject): ObjectInfo {
  return {
    ...ref,
    size: o.bytes.length,
    sha256: o.sha256,
    etag: o.etag,
    versionId: o.versionId,
    metadata: o.metadata,
  };
}

interface MemoryFunction {
  latest: { sha256: string; code: Buffer };
  revision: number;
  versions: Map<string, { sha256: string; code: Buffer }>;
  aliases: Map<string, { version: string; weights: Record<string, number>; revision: number }>;
}

/**
 * A version's behaviour, read from its code bytes. `onFunction` overrides it where the code runs
 * in a particular function: a version that passes preprod and fails under prod's conditions.
 */
interface Behaviour {
  statusCode?: number;
  body?: string;
  throws?: string;
  onFunction?: Record<string, Omit<Behaviour, "onFunction">>;
}

export class MemoryFunctions implements FunctionControl {
  readonly fns = new Map<string, MemoryFunction>();
  /** Every alias state the rollout went through, in order. */
  readonly aliasHistory: {
    functionName: string;
    alias: string;
    version: string;
    weights: Record<string, number>;
  }[] = [];
  readonly invocations: { functionName: string; qualifier: string; version: string }[] = [];
  #aliasListeners: ((functionName: string, alias: AliasState) => void)[] = [];

  readonly artifacts: MemoryArtifacts;
  readonly faults: Faults;
  constructor(artifacts: MemoryArtifacts, faults = new Faults()) {
    this.artifacts = artifacts;
    this.faults = faults;
  }

  /** A deployed function with version 1 running `code` behind `alias`. */
  create(functionName: string, alias: string, code: Behaviour): string {
    const bytes = Buffer.from(JSON.stringify(code));
    const sha256 = sha256Hex(bytes);
    this.fns.set(functionName, {
      latest: { sha256, code: bytes },
      revision: 1,
      versions: new Map([["1", { sha256, code: bytes }]]),
      aliases: new Map([[alias, { version: "1", weights: {}, revision: 1 }]]),
    });
    return sha256;
  }

  onAliasChange(listener: (functionName: string, alias: AliasState) => void): void {
    this.#aliasListeners.push(listener);
  }

  alias(functionName: string, alias: string): AliasState | undefined {
    const a = this.fns.get(functionName)?.aliases.get(alias);
    return (
      a && {
        name: alias,
        version: a.version,
        weights: { ...a.weights },
        revisionId: String(a.revision),
      }
    );
  }

  async getAlias(functionName: string, alias: string): Promise<AliasState | undefined> {
    this.faults.check("functions.getAlias");
    return this.alias(functionName, alias);
  }
  async getVersion(
    functionName: string,
    version: string,
  ): Promise<FunctionVersionInfo | undefined> {
    this.faults.check("functions.getVersion");
    const fn = this.fns.get(functionName);
    const v = version === "$LATEST" ? fn?.latest : fn?.versions.get(version);
    return v && { version, codeSha256: v.sha256, revisionId: String(fn?.revision) };
  }
  async updateCode(
    functionName: string,
    source: ObjectRef & { versionId?: string },
  ): Promise<FunctionVersionInfo> {
    this.faults.check("functions.updateCode");
    const fn = this.#fn(functionName);
    const code = this.artifacts.bytes(source);
    if (!code)
      throw Object.assign(new Error("S3 object not found"), {
        name: "InvalidParameterValueException",
      });
    fn.latest = { sha256: sha256Hex(code), code };
    fn.revision++;
    return { version: "$LATEST", codeSha256: fn.latest.sha256, revisionId: String(fn.revision) };
  }
  async publishVersion(
    functionName: string,
    options: { codeSha256: string; revisionId?: string },
  ): Promise<FunctionVersionInfo> {
    this.faults.check("functions.publishVersion");
    const fn = this.#fn(functionName);
    if (options.revisionId && options.revisionId !== String(fn.revision)) {
      throw Object.assign(new Error("revision changed"), { name: "ConcurrentModification" });
    }
    if (options.codeSha256 !== fn.latest.sha256) {
      throw Object.assign(new Error("CodeSha256 does not match"), {
        name: "InvalidParameterValueException",
      });
    }
    for (const [version, v] of fn.versions) {
      if (v.sha256 === fn.latest.sha256) return { version, codeSha256: v.sha256 };
    }
    const version = String(fn.versions.size + 1);
    fn.versions.set(version, { ...fn.latest });
    return { version, codeSha256: fn.latest.sha256 };
  }
  async updateAlias(
    functionName: string,
    alias: string,
    routing: { version: string; weights: Readonly<Record<string, number>>; revisionId?: string },
  ): Promise<AliasState> {
    this.faults.check("functions.updateAlias");
    const fn = this.#fn(functionName);
    const current = fn.aliases.get(alias);
    if (!current) throw Object.assign(new Error("alias not found"), { name: "TargetNotFound" });
    if (routing.revisionId && routing.revisionId !== String(current.revision)) {
      throw Object.assign(new Error("alias revision changed"), { name: "ConcurrentModification" });
    }
    for (const v of [routing.version, ...Object.keys(routing.weights)]) {
      if (!fn.versions.has(v))
        throw Object.assign(new Error(`no version ${v}`), {
          name: "InvalidParameterValueException",
        });
    }
    const next = {
      version: routing.version,
      weights: { ...routing.weights },
      revision: current.revision + 1,
    };
    fn.aliases.set(alias, next);
    this.aliasHistory.push({ functionName, alias, version: next.version, weights: next.weights });
    const state = this.alias(functionName, alias) as AliasState;
    for (const listener of this.#aliasListeners) listener(functionName, state);
    return state;
  }
  async invoke(
    functionName: string,
    qualifier: string,
    _event: unknown,
  ): Promise<InvocationResult> {
    this.faults.check("functions.invoke");
    const fn = this.#fn(functionName);
    const aliased = fn.aliases.get(qualifier);
    const version = aliased ? aliased.version : qualifier;
    const code = fn.versions.get(version)?.code;
    if (!code)
      throw Object.assign(new Error(`no version ${version}`), {
        name: "ResourceNotFoundException",
      });
    this.invocations.push({ functionName, qualifier, version });
    const written = JSON.parse(code.toString("utf8")) as Behaviour;
    const behaviour = written.onFunction?.[functionName] ?? written;
    if (behaviour.throws) {
      return {
        executedVersion: version,
        functionError: "Unhandled",
        payload: { errorType: behaviour.throws, errorMessage: "boom" },
      };
    }
    return {
      executedVersion: version,
      payload: { statusCode: behaviour.statusCode ?? 200, body: behaviour.body ?? "" },
    };
  }
  #fn(name: string): MemoryFunction {
    const fn = this.fns.get(name);
    if (!fn) throw Object.assign(new Error(`no function ${name}`), { name: "TargetNotFound" });
    return fn;
  }
}

export class MemoryAlarms implements AlarmReader {
  readonly states = new Map<string, AlarmStatus>();
  readonly faults: Faults;
  readonly #listeners = new Set<(status: AlarmStatus) => void>();
  constructor(faults = new Faults()) {
    this.faults = faults;
  }

  /**
   * Sets an alarm's state; a change is told to every {@link onChange} listener (CloudWatch's
   * event). `metricName` (e.g. `Duration`) is kept from the alarm's earlier state unless given.
   */
  set(
    name: string,
    state: AlarmStateValue,
    reason = `set to ${state} by the test`,
    metricName = this.states.get(name)?.metricName,
  ): void {
    const changed = this.states.get(name)?.state !== state;
    const status: AlarmStatus = {
      name,
      state,
      reason,
      updatedAt: new Date().toISOString(),
      ...(metricName ? { metricName } : {}),
    };
    this.states.set(name, status);
    if (changed) for (const listener of this.#listeners) listener(status);
  }

  /** Listens to state changes (as an EventBridge rule on "Alarm State Change" does). */
  onChange(listener: (status: AlarmStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  async describe(names: readonly string[]): Promise<AlarmStatus[]> {
    this.faults.check("alarms.describe");
    return names.flatMap((n) => {
      const s = this.states.get(n);
      return s ? [s] : [];
    });
  }
}

export class MemoryMetrics implements MetricsPublisher {
  readonly published: {
    name: string;
    value: number;
    dimensions: Readonly<Record<string, string>>;
  }[] = [];
  async publish(
    name: string,
    value: number,
    dimensions: Readonly<Record<string, string>>,
  ): Promise<void> {
    this.published.push({ name, value, dimensions });
  }
}

export class MemoryMailer implements Mailer {
  readonly outbox: EmailMessage[] = [];
  async send(message: EmailMessage): Promise<void> {
    this.outbox.push(message);
  }
}

/** What one version served, or a function of the query (windows, read counts) that says it. */
export type VersionMetricsSource =
  | VersionMetrics
  | ((query: VersionMetricsQuery) => VersionMetrics);

/**
 * Per-version metrics (the `ExecutedVersion` series) set by the test per function and version;
 * a version nobody set served nothing. Every query is recorded, so a test can check the windows.
 *
 * @example
 * ```ts
 * const metrics = new MemoryVersionMetrics();
 * metrics.set("hello-prod", "2", { invocations: 120, errors: 120, throttles: 0, p99DurationMs: 40 });
 * ```
 */
export class MemoryVersionMetrics implements VersionMetricsReader {
  readonly queries: VersionMetricsQuery[] = [];
  readonly faults: Faults;
  readonly #sources = new Map<string, VersionMetricsSource>();
  constructor(faults = new Faults()) {
    this.faults = faults;
  }

  set(functionName: string, version: string, source: VersionMetricsSource): void {
    this.#sources.set(`${functionName}\n${version}`, source);
  }

  async read(query: VersionMetricsQuery): Promise<VersionMetrics> {
    this.faults.check("versionMetrics.read");
    this.queries.push(query);
    const source = this.#sources.get(`${query.functionName}\n${query.version}`);
    if (!source) return { invocations: 0, errors: 0, throttles: 0 };
    return typeof source === "function" ? source(query) : source;
  }
}
