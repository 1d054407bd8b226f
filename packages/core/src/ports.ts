/**
 * Ports: what the step services need from the world, and nothing more. `@gantry/aws` implements
 * them over AWS SDK v3 clients; `@gantry/local` implements them on disk and in-process. Digests
 * are always lowercase hex SHA-256 here; adapters convert from S3's and Lambda's base64.
 */
import type { ObjectRef } from "./plan.ts";
import type { VerifiedTrigger } from "./trigger/claims.ts";

/** What S3 (or the local bucket directory) reports about an object. */
export interface ObjectInfo extends ObjectRef {
  readonly size: number;
  /** Full-object SHA-256, when the store has one (absent for composite multipart checksums). */
  readonly sha256?: string;
  readonly etag: string;
  readonly versionId?: string;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface CopyOptions {
  /** The digest the copy must have; the store refuses or reports a mismatch otherwise. */
  readonly sha256: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
}

/** Artifact buckets: objects addressed by bucket and key. */
export interface ArtifactStore {
  head(ref: ObjectRef): Promise<ObjectInfo | undefined>;
  /**
   * Server-side copy, with a SHA-256 computed by the store, of exactly the object `source`
   * describes (as `head` returned it): if the object changed since, the copy is refused, so
   * nothing but the verified bytes ever lands at `to`. Returns the new object.
   */
  copy(source: ObjectInfo, to: ObjectRef, options: CopyOptions): Promise<ObjectInfo>;
  readJson<T>(ref: ObjectRef): Promise<T | undefined>;
  /** Writes JSON only if the key is free; false when something is already there. */
  writeJsonIfAbsent(ref: ObjectRef, value: unknown): Promise<boolean>;
}

export interface StoredRecord<T> {
  readonly value: T;
  readonly etag: string;
}

/**
 * Small JSON records (locks, approvals, deployment records) in the stage's state bucket, with
 * the conditional writes that make locks and single-use decisions atomic.
 */
export interface RecordStore {
  /** The parsed record; throws a `SyntaxError` when the stored bytes are not JSON. */
  get<T>(key: string): Promise<StoredRecord<T> | undefined>;
  /** Creates the record only if the key is free (If-None-Match: *); undefined if it exists. */
  create<T>(key: string, value: T): Promise<StoredRecord<T> | undefined>;
  /** Replaces the record only if it still has `etag` (If-Match); undefined if it changed. */
  replace<T>(key: string, value: T, etag: string): Promise<StoredRecord<T> | undefined>;
  /** Writes unconditionally. */
  put<T>(key: string, value: T): Promise<void>;
  /** Deletes only if the record still has `etag`; false if it changed or is gone. */
  delete(key: string, etag: string): Promise<boolean>;
  /** Keys under a prefix, newest writes not guaranteed first. */
  list(prefix: string): Promise<string[]>;
}

/** A record's bytes exactly as stored, and the ETag of those bytes. */
export interface RecordBytes {
  readonly bytes: Uint8Array;
  readonly etag: string;
}

/**
 * Reads a record's bytes without parsing them: how an operator inspects a record that is not
 * JSON (a damaged lock) before breaking exactly those bytes with a conditional delete.
 */
export interface RecordBytesReader {
  getBytes(key: string): Promise<RecordBytes | undefined>;
}

export interface AliasState {
  readonly name: string;
  /** The primary version. */
  readonly version: string;
  /** Extra versions and their share of traffic, 0 < weight < 1. */
  readonly weights: Readonly<Record<string, number>>;
  readonly revisionId?: string;
}

export interface FunctionVersionInfo {
  readonly version: string;
  readonly codeSha256: string;
  readonly revisionId?: string;
}

export interface InvocationResult {
  /** The version that actually ran. */
  readonly executedVersion: string;
  /** Set when the function threw (Lambda's FunctionError: "Unhandled" / "Handled"). */
  readonly functionError?: string;
  /** The response payload, parsed from JSON when it is JSON. */
  readonly payload: unknown;
}

/** Lambda functions, versions and weighted aliases. */
export interface FunctionControl {
  getAlias(functionName: string, alias: string): Promise<AliasState | undefined>;
  getVersion(functionName: string, version: string): Promise<FunctionVersionInfo | undefined>;
  /** Replaces $LATEST's code from an object and waits until the update has finished. */
  updateCode(
    functionName: string,
    source: ObjectRef & { versionId?: string },
  ): Promise<FunctionVersionInfo>;
  /** Publishes $LATEST as a version, refusing if its code is not `codeSha256`. */
  publishVersion(
    functionName: string,
    options: { codeSha256: string; revisionId?: string; description: string },
  ): Promise<FunctionVersionInfo>;
  updateAlias(
    functionName: string,
    alias: string,
    routing: { version: string; weights: Readonly<Record<string, number>>; revisionId?: string },
  ): Promise<AliasState>;
  invoke(functionName: string, qualifier: string, event: unknown): Promise<InvocationResult>;
}

export type AlarmStateValue = "OK" | "ALARM" | "INSUFFICIENT_DATA";

export interface AlarmStatus {
  readonly name: string;
  readonly state: AlarmStateValue;
  readonly reason: string;
  readonly updatedAt: string;
  /**
   * The metric the alarm watches (CloudWatch's MetricName, e.g. `Errors`, `Duration`), when it
   * watches one metric; what a fix deployed for this alarm must improve (Duration: latency,
   * anything else: the failure rate).
   */
  readonly metricName?: string;
}

/** What one version served through an alias over a window: Lambda's `ExecutedVersion` metrics. */
export interface VersionMetricsQuery {
  readonly functionName: string;
  readonly alias: string;
  readonly version: string;
  /** Milliseconds since the epoch; the window is [from, to). */
  readonly from: number;
  readonly to: number;
}

export interface VersionMetrics {
  /** Sum of Invocations. */
  readonly invocations: number;
  /** Sum of Errors. */
  readonly errors: number;
  /** Sum of Throttles (requests refused, not counted in Invocations). */
  readonly throttles: number;
  /** p99 of Duration in milliseconds; absent when there was no invocation. */
  readonly p99DurationMs?: number;
}

/**
 * Per-version metrics (CloudWatch GetMetricData with the FunctionName, Resource
 * (`function:alias`) and ExecutedVersion dimensions in AWS; the local world's own datapoints).
 */
export interface VersionMetricsReader {
  read(query: VersionMetricsQuery): Promise<VersionMetrics>;
}

export interface AlarmReader {
  /** The named alarms' states; names that do not exist are simply absent from the result. */
  describe(names: readonly string[]): Promise<AlarmStatus[]>;
}

export interface MetricsPublisher {
  publish(name: string, value: number, dimensions: Readonly<Record<string, string>>): Promise<void>;
}

export type ExecutionStatus =
  | "RUNNING"
  | "SUCCEEDED"
  | "FAILED"
  | "TIMED_OUT"
  | "ABORTED"
  | "PENDING_REDRIVE";

/** The parts of Step Functions the functions call back into. */
export interface WorkflowCallbacks {
  sendTaskSuccess(taskToken: string, output: unknown): Promise<void>;
  sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void>;
  /** undefined when the execution does not exist. */
  executionStatus(executionArn: string): Promise<ExecutionStatus | undefined>;
}

export interface EmailMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

export interface Mailer {
  send(message: EmailMessage): Promise<void>;
}

/** HMAC keys for approval links: the current key signs; previous keys still verify. */
export interface SigningKeys {
  readonly current: { readonly id: string; readonly secret: string };
  readonly previous: readonly { readonly id: string; readonly secret: string }[];
}

export interface SecretSource {
  signingKeys(): Promise<SigningKeys>;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** The logging the step services do; Powertools' Logger satisfies it. */
export interface Log {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Checks an OIDC ID token: signature against the issuer's published keys (JWKS, cached),
 * issuer, audience, expiry and algorithm. Returns its claims, or throws InvalidInput naming why.
 * The registry checks (repository, commit) are ValidateInput's, not this port's.
 */
export interface TriggerTokenVerifier {
  verify(token: string): Promise<VerifiedTrigger>;
}
