/**
 * A small in-memory AWS behind the real SDK v3 clients (their `send` mocked with
 * aws-sdk-client-mock), for the contract suites: it answers the commands Gantry's adapters send
 * the way the services do (S3's 404 and 412, Lambda's revisions and waiters' states, Step
 * Functions' statuses), and records every command with its input, its outcome and whose
 * credentials signed it. Not a simulator of AWS: just enough state that each function's real
 * handler can walk each of its code paths.
 */
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SESv2Client } from "@aws-sdk/client-sesv2";
import { SFNClient } from "@aws-sdk/client-sfn";
import { base64ToHex, hexToBase64 } from "@gantry/core";
import { mockClient } from "aws-sdk-client-mock";

/** The services the functions call, by the prefix IAM uses for them. */
export type AwsService =
  | "s3"
  | "lambda"
  | "cloudwatch"
  | "states"
  | "ses"
  | "secretsmanager"
  | "scheduler"
  | "sts";

/** One command a function sent. */
export interface RecordedCall {
  readonly service: AwsService;
  /** The operation, e.g. `HeadObject` (the command class without `Command`). */
  readonly command: string;
  readonly input: Readonly<Record<string, unknown>>;
  /** The role whose credentials signed it, when the client was given an assumed role's. */
  readonly assumedRole?: string;
  /** What the service answered, when it was an error. */
  readonly error?: { readonly name: string; readonly status?: number };
}

/** An AWS service error as the SDK throws it: a name, an HTTP status and a fault. */
export function awsError(name: string, status: number, message = name): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status },
  });
}

export interface S3Object {
  readonly body?: string;
  /** Hex SHA-256 of the full object, when S3 has one. */
  readonly sha256?: string;
  readonly size: number;
  readonly etag: string;
  readonly versionId?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface FakeFunction {
  /** Hex CodeSha256 of each published version. */
  readonly versions: Map<string, { codeSha256: string; state: "Active" | "Pending" | "Failed" }>;
  latest: { codeSha256: string; revisionId: string };
  readonly aliases: Map<
    string,
    { version: string; weights: Record<string, number>; revisionId: string }
  >;
  /** What UpdateFunctionCode reports at once (GetFunction, the waiter's call, then says Successful). */
  updateStatus: "Successful" | "InProgress";
  /** The State of a version PublishVersion just created (Pending until Lambda prepared it). */
  publishState: "Active" | "Pending";
  /** What invoking a version answers: an API Gateway-style response, or a function error. */
  respond: (version: string, event: unknown) => { payload: unknown; functionError?: string };
}

export interface FakeAlarm {
  readonly state: "OK" | "ALARM" | "INSUFFICIENT_DATA";
  readonly composite?: boolean;
}

/** What one version served through its alias, as Lambda's per-version metrics count it. */
export interface FakeVersionMetrics {
  readonly invocations: number;
  readonly errors: number;
  readonly throttles?: number;
  readonly p99DurationMs?: number;
}

export interface FakeExecution {
  status: string;
  /** GetExecutionHistory's pages, newest first. */
  readonly history?: readonly Record<string, unknown>[][];
}

type Answer = (input: Record<string, unknown>) => unknown;

/** The state one scenario runs against, and what it recorded. */
export class FakeAws {
  readonly calls: RecordedCall[] = [];
  /** `bucket/key` → the current object. */
  readonly objects = new Map<string, S3Object>();
  readonly functions = new Map<string, FakeFunction>();
  readonly alarms = new Map<string, FakeAlarm>();
  /**
   * Per-version metrics (GetMetricData with the ExecutedVersion dimension): `function:alias:version`
   * → its numbers in whatever window is asked for (one datapoint, at StartTime). None: no data.
   */
  readonly versionMetrics = new Map<string, FakeVersionMetrics>();
  readonly executions = new Map<string, FakeExecution>();
  /** SecretId (the secret's ARN) → SecretString. */
  readonly secrets = new Map<string, string>();
  /** EventBridge Scheduler's schedules: `group/name` → the CreateSchedule input. */
  readonly schedules = new Map<string, Record<string, unknown>>();
  /** Task tokens that are no longer waiting: SendTask* answers TaskTimedOut. */
  readonly expiredTokens = new Set<string>();
  readonly emails: Record<string, unknown>[] = [];
  readonly #overrides = new Map<string, Answer[]>();
  /** Multipart uploads: UploadId → bytes copied into it so far. */
  readonly #uploads = new Map<string, number>();
  #serial = 0;

  /** Answers the next `service:command` with `answer` instead of the fake's own behaviour. */
  once(service: AwsService, command: string, answer: Answer): this {
    const key = `${service}:${command}`;
    this.#overrides.set(key, [...(this.#overrides.get(key) ?? []), answer]);
    return this;
  }

  put(bucket: string, key: string, object: Omit<S3Object, "etag"> & { etag?: string }): S3Object {
    const stored = { etag: `"${this.#next("etag")}"`, ...object };
    this.objects.set(`${bucket}/${key}`, stored);
    return stored;
  }

  putJson(bucket: string, key: string, value: unknown): S3Object {
    const body = JSON.stringify(value);
    return this.put(bucket, key, { body, size: body.length, versionId: this.#next("v") });
  }

  addFunction(
    name: string,
    fn: Partial<FakeFunction> & Pick<FakeFunction, "latest">,
  ): FakeFunction {
    const created: FakeFunction = {
      versions: new Map(),
      aliases: new Map(),
      updateStatus: "Successful",
      publishState: "Active",
      respond: (version) => ({
        payload: { statusCode: 200, body: `hello from version ${version}` },
      }),
      ...fn,
    };
    this.functions.set(name, created);
    return created;
  }

  /** Runs one command against the fake (what the mocked clients' `send` does). */
  async handle(
    service: AwsService,
    command: string,
    input: Record<string, unknown>,
    assumedRole?: string,
  ): Promise<unknown> {
    const record = (error?: unknown) => {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
      this.calls.push({
        service,
        command,
        input,
        ...(assumedRole ? { assumedRole } : {}),
        ...(e
          ? {
              error: {
                name: e.name ?? "Error",
                ...(e.$metadata?.httpStatusCode ? { status: e.$metadata.httpStatusCode } : {}),
              },
            }
          : {}),
      });
    };
    try {
      const override = this.#overrides.get(`${service}:${command}`)?.shift();
      const out = override ? await override(input) : this.#answer(service, command, input);
      record();
      return { $metadata: { httpStatusCode: 200 }, ...(out as object) };
    } catch (error) {
      record(error);
      throw error;
    }
  }

  #next(prefix: string): string {
    this.#serial += 1;
    return `${prefix}${this.#serial}`;
  }

  #answer(service: AwsService, command: string, input: Record<string, unknown>): unknown {
    const handlers: Partial<Record<string, Answer>> = {
      "s3:HeadObject": (i) => this.#headObject(i),
      "s3:GetObject": (i) => this.#getObject(i),
      "s3:PutObject": (i) => this.#putObject(i),
      "s3:DeleteObject": (i) => this.#deleteObject(i),
      "s3:ListObjectsV2": (i) => this.#listObjects(i),
      "s3:CopyObject": (i) => this.#copyObject(i),
      "s3:CreateMultipartUpload": () => {
        const id = this.#next("upload");
        this.#uploads.set(id, 0);
        return { UploadId: id };
      },
      "s3:UploadPartCopy": (i) => {
        this.#copySource(i);
        const [first = 0, last = -1] =
          /bytes=(\d+)-(\d+)/.exec(String(i.CopySourceRange))?.slice(1).map(Number) ?? [];
        const id = String(i.UploadId);
        this.#uploads.set(id, (this.#uploads.get(id) ?? 0) + last - first + 1);
        return { CopyPartResult: { ETag: `"${this.#next("part")}"` } };
      },
      "s3:CompleteMultipartUpload": (i) => this.#completeMultipart(i),
      "s3:AbortMultipartUpload": () => ({}),
      "lambda:GetAlias": (i) => this.#getAlias(i),
      "lambda:UpdateAlias": (i) => this.#updateAlias(i),
      "lambda:GetFunctionConfiguration": (i) => this.#configuration(i),
      "lambda:GetFunction": (i) => ({
        Configuration: { ...this.#configuration(i), LastUpdateStatus: "Successful" },
      }),
      "lambda:UpdateFunctionCode": (i) => this.#updateCode(i),
      "lambda:PublishVersion": (i) => this.#publish(i),
      "lambda:Invoke": (i) => this.#invoke(i),
      "cloudwatch:DescribeAlarms": (i) => this.#describeAlarms(i),
      "cloudwatch:GetMetricData": (i) => this.#getMetricData(i),
      "states:DescribeExecution": (i) => {
        const execution = this.executions.get(String(i.executionArn));
        if (!execution) throw awsError("ExecutionDoesNotExist", 400);
        return { executionArn: i.executionArn, status: execution.status };
      },
      "states:GetExecutionHistory": (i) => {
        const pages = this.executions.get(String(i.executionArn))?.history;
        if (!pages) throw awsError("ExecutionDoesNotExist", 400);
        const index = i.nextToken ? Number(i.nextToken) : 0;
        return {
          events: pages[index] ?? [],
          ...(index + 1 < pages.length ? { nextToken: String(index + 1) } : {}),
        };
      },
      "states:SendTaskSuccess": (i) => this.#completeTask(i),
      "states:SendTaskFailure": (i) => this.#completeTask(i),
      "ses:SendEmail": (i) => {
        this.emails.push(i);
        return { MessageId: this.#next("message") };
      },
      "scheduler:CreateSchedule": (i) => {
        const key = `${String(i.GroupName ?? "default")}/${String(i.Name)}`;
        if (this.schedules.has(key)) throw awsError("ConflictException", 409);
        this.schedules.set(key, i);
        return { ScheduleArn: `arn:aws:scheduler:::schedule/${key}` };
      },
      "scheduler:DeleteSchedule": (i) => {
        const key = `${String(i.GroupName ?? "default")}/${String(i.Name)}`;
        if (!this.schedules.delete(key)) throw awsError("ResourceNotFoundException", 404);
        return {};
      },
      "secretsmanager:GetSecretValue": (i) => {
        const value = this.secrets.get(String(i.SecretId));
        if (value === undefined) throw awsError("ResourceNotFoundException", 400);
        return { ARN: i.SecretId, SecretString: value, VersionId: "v1" };
      },
    };
    const handler = handlers[`${service}:${command}`];
    if (!handler) throw new Error(`the fake AWS does not answer ${service}:${command}`);
    return handler(input);
  }

  #headObject(input: Record<string, unknown>) {
    const object = this.objects.get(`${input.Bucket}/${input.Key}`);
    if (!object) throw awsError("NotFound", 404);
    return {
      ContentLength: object.size,
      ETag: object.etag,
      ...(object.versionId ? { VersionId: object.versionId } : {}),
      ...(object.sha256 && input.ChecksumMode === "ENABLED"
        ? { ChecksumSHA256: hexToBase64(object.sha256), ChecksumType: "FULL_OBJECT" }
        : {}),
      Metadata: { ...object.metadata },
    };
  }

  #getObject(input: Record<string, unknown>) {
    const object = this.objects.get(`${input.Bucket}/${input.Key}`);
    if (!object) throw awsError("NoSuchKey", 404);
    return {
      Body: {
        transformToString: async () => object.body ?? "",
        transformToByteArray: async () => new Uint8Array(Buffer.from(object.body ?? "", "utf8")),
      },
      ETag: object.etag,
      ...(object.versionId ? { VersionId: object.versionId } : {}),
    };
  }

  #putObject(input: Record<string, unknown>) {
    const key = `${input.Bucket}/${input.Key}`;
    const existing = this.objects.get(key);
    if (input.IfNoneMatch === "*" && existing) throw awsError("PreconditionFailed", 412);
    if (input.IfMatch !== undefined) {
      if (!existing) throw awsError("NoSuchKey", 404);
      if (existing.etag !== input.IfMatch) throw awsError("PreconditionFailed", 412);
    }
    const body = String(input.Body ?? "");
    const stored = this.put(String(input.Bucket), String(input.Key), {
      body,
      size: body.length,
      versionId: this.#next("v"),
    });
    return { ETag: stored.etag, VersionId: stored.versionId };
  }

  #deleteObject(input: Record<string, unknown>) {
    const key = `${input.Bucket}/${input.Key}`;
    const existing = this.objects.get(key);
    if (input.IfMatch !== undefined) {
      if (!existing) throw awsError("NoSuchKey", 404);
      if (existing.etag !== input.IfMatch) throw awsError("PreconditionFailed", 412);
    }
    this.objects.delete(key);
    return {};
  }

  #listObjects(input: Record<string, unknown>) {
    const prefix = `${input.Bucket}/${String(input.Prefix ?? "")}`;
    const keys = [...this.objects.keys()]
      .filter((k) => k.startsWith(prefix))
      .map((k) => k.slice(String(input.Bucket).length + 1))
      .sort();
    return { Contents: keys.map((Key) => ({ Key })), IsTruncated: false, KeyCount: keys.length };
  }

  /** The object a CopySource (`bucket/key?versionId=`) names, checked against CopySourceIfMatch. */
  #copySource(input: Record<string, unknown>): S3Object {
    const source = String(input.CopySource);
    const [path = "", query = ""] = source.split("?");
    const slash = path.indexOf("/");
    const bucket = path.slice(0, slash);
    const key = path
      .slice(slash + 1)
      .split("/")
      .map(decodeURIComponent)
      .join("/");
    const object = this.objects.get(`${bucket}/${key}`);
    if (!object) throw awsError("NoSuchKey", 404);
    const versionId = new URLSearchParams(query).get("versionId");
    if (versionId && versionId !== object.versionId) throw awsError("NoSuchVersion", 404);
    if (input.CopySourceIfMatch !== undefined && input.CopySourceIfMatch !== object.etag)
      throw awsError("PreconditionFailed", 412);
    return object;
  }

  #copyObject(input: Record<string, unknown>) {
    const source = this.#copySource(input);
    const copy = this.put(String(input.Bucket), String(input.Key), {
      size: source.size,
      ...(source.sha256 ? { sha256: source.sha256 } : {}),
      versionId: this.#next("v"),
      metadata: (input.Metadata ?? {}) as Record<string, string>,
    });
    return {
      CopyObjectResult: {
        ETag: copy.etag,
        ...(copy.sha256 ? { ChecksumSHA256: hexToBase64(copy.sha256) } : {}),
      },
      VersionId: copy.versionId,
    };
  }

  #completeMultipart(input: Record<string, unknown>) {
    const parts = ((input.MultipartUpload as { Parts?: unknown[] } | undefined)?.Parts ?? [])
      .length;
    const size = this.#uploads.get(String(input.UploadId));
    if (size === undefined) throw awsError("NoSuchUpload", 404);
    this.#uploads.delete(String(input.UploadId));
    // A multipart object has a checksum of checksums, not a full-object SHA-256.
    const stored = this.put(String(input.Bucket), String(input.Key), {
      size,
      versionId: this.#next("v"),
      etag: `"${this.#next("multipart")}-${parts}"`,
    });
    return { ETag: stored.etag, VersionId: stored.versionId };
  }

  #function(name: unknown): FakeFunction {
    const fn = this.functions.get(String(name));
    if (!fn)
      throw awsError("ResourceNotFoundException", 404, `Function not found: ${String(name)}`);
    return fn;
  }

  #getAlias(input: Record<string, unknown>) {
    const alias = this.#function(input.FunctionName).aliases.get(String(input.Name));
    if (!alias) throw awsError("ResourceNotFoundException", 404, "Alias not found");
    return {
      Name: input.Name,
      FunctionVersion: alias.version,
      ...(Object.keys(alias.weights).length > 0
        ? { RoutingConfig: { AdditionalVersionWeights: { ...alias.weights } } }
        : {}),
      RevisionId: alias.revisionId,
    };
  }

  #updateAlias(input: Record<string, unknown>) {
    const fn = this.#function(input.FunctionName);
    const alias = fn.aliases.get(String(input.Name));
    if (!alias) throw awsError("ResourceNotFoundException", 404, "Alias not found");
    if (input.RevisionId !== undefined && input.RevisionId !== alias.revisionId)
      throw awsError("PreconditionFailedException", 412);
    const routing = input.RoutingConfig as { AdditionalVersionWeights?: Record<string, number> };
    fn.aliases.set(String(input.Name), {
      version: String(input.FunctionVersion ?? alias.version),
      weights: { ...(routing?.AdditionalVersionWeights ?? {}) },
      revisionId: this.#next("alias-rev"),
    });
    return this.#getAlias(input);
  }

  #configuration(input: Record<string, unknown>) {
    const fn = this.#function(input.FunctionName);
    const qualifier = String(input.Qualifier ?? "$LATEST");
    if (qualifier === "$LATEST") {
      return {
        FunctionName: input.FunctionName,
        Version: "$LATEST",
        CodeSha256: hexToBase64(fn.latest.codeSha256),
        RevisionId: fn.latest.revisionId,
        LastUpdateStatus: "Successful",
        State: "Active",
      };
    }
    const version =
      fn.versions.get(qualifier) ??
      fn.versions.get(fn.aliases.get(qualifier)?.version ?? "") ??
      undefined;
    if (!version) throw awsError("ResourceNotFoundException", 404, "Version not found");
    // A version Lambda was still preparing when it was published is ready when asked again.
    if (version.state === "Pending") version.state = "Active";
    return {
      FunctionName: input.FunctionName,
      Version: fn.versions.has(qualifier) ? qualifier : fn.aliases.get(qualifier)?.version,
      CodeSha256: hexToBase64(version.codeSha256),
      State: version.state,
    };
  }

  #updateCode(input: Record<string, unknown>) {
    const fn = this.#function(input.FunctionName);
    const object = this.objects.get(`${input.S3Bucket}/${input.S3Key}`);
    if (!object?.sha256) throw awsError("InvalidParameterValueException", 400, "no such code");
    if (input.S3ObjectVersion !== undefined && input.S3ObjectVersion !== object.versionId)
      throw awsError("InvalidParameterValueException", 400, "no such object version");
    fn.latest = { codeSha256: object.sha256, revisionId: this.#next("rev") };
    return {
      FunctionName: input.FunctionName,
      Version: "$LATEST",
      CodeSha256: hexToBase64(object.sha256),
      RevisionId: fn.updateStatus === "Successful" ? fn.latest.revisionId : "rev-updating",
      LastUpdateStatus: fn.updateStatus,
    };
  }

  #publish(input: Record<string, unknown>) {
    const fn = this.#function(input.FunctionName);
    if (input.RevisionId !== undefined && input.RevisionId !== fn.latest.revisionId)
      throw awsError("PreconditionFailedException", 412);
    if (
      input.CodeSha256 !== undefined &&
      base64ToHex(String(input.CodeSha256)) !== fn.latest.codeSha256
    )
      throw awsError("InvalidParameterValueException", 400, "CodeSha256 does not match");
    const version = String(Math.max(0, ...[...fn.versions.keys()].map(Number)) + 1);
    fn.versions.set(version, { codeSha256: fn.latest.codeSha256, state: fn.publishState });
    return {
      FunctionName: input.FunctionName,
      Version: version,
      CodeSha256: hexToBase64(fn.latest.codeSha256),
      State: fn.publishState,
    };
  }

  #invoke(input: Record<string, unknown>) {
    const fn = this.#function(input.FunctionName);
    const qualifier = String(input.Qualifier ?? "$LATEST");
    const version = fn.aliases.get(qualifier)?.version ?? qualifier;
    if (version !== "$LATEST" && !fn.versions.has(version))
      throw awsError("ResourceNotFoundException", 404, "Version not found");
    const payload = input.Payload as Uint8Array | undefined;
    const event = payload ? JSON.parse(new TextDecoder().decode(payload)) : {};
    const answer = fn.respond(version, event);
    return {
      StatusCode: 200,
      ExecutedVersion: version,
      ...(answer.functionError ? { FunctionError: answer.functionError } : {}),
      Payload: new TextEncoder().encode(JSON.stringify(answer.payload)),
    };
  }

  #describeAlarms(input: Record<string, unknown>) {
    const names = (input.AlarmNames ?? [...this.alarms.keys()]) as string[];
    // Without AlarmTypes, CloudWatch returns metric alarms only.
    const types = (input.AlarmTypes ?? ["MetricAlarm"]) as string[];
    const found = names.flatMap((name) => {
      const alarm = this.alarms.get(name);
      return alarm ? [{ name, ...alarm }] : [];
    });
    const shape = (a: { name: string; state: string }) => ({
      AlarmName: a.name,
      StateValue: a.state,
      StateReason: `state ${a.state}`,
      StateUpdatedTimestamp: new Date(Date.now() - 60_000),
    });
    return {
      MetricAlarms: types.includes("MetricAlarm")
        ? found.filter((a) => !a.composite).map(shape)
        : [],
      CompositeAlarms: types.includes("CompositeAlarm")
        ? found.filter((a) => a.composite).map(shape)
        : [],
    };
  }

  #getMetricData(input: Record<string, unknown>) {
    type Query = {
      Id: string;
      MetricStat: {
        Metric: { MetricName: string; Dimensions: { Name: string; Value: string }[] };
        Stat: string;
      };
    };
    const at = input.StartTime as Date;
    const results = (input.MetricDataQueries as Query[]).map((q) => {
      const dims = Object.fromEntries(q.MetricStat.Metric.Dimensions.map((d) => [d.Name, d.Value]));
      const numbers = this.versionMetrics.get(`${dims.Resource}:${dims.ExecutedVersion}`);
      const value = numbers
        ? {
            Invocations: numbers.invocations,
            Errors: numbers.errors,
            Throttles: numbers.throttles ?? 0,
            Duration: numbers.p99DurationMs,
          }[q.MetricStat.Metric.MetricName]
        : undefined;
      return {
        Id: q.Id,
        Timestamps: value === undefined ? [] : [at],
        Values: value === undefined ? [] : [value],
        StatusCode: "Complete",
      };
    });
    return { MetricDataResults: results, Messages: [] };
  }

  #completeTask(input: Record<string, unknown>) {
    if (this.expiredTokens.has(String(input.taskToken)))
      throw awsError("TaskTimedOut", 400, "Task Timed Out");
    return {};
  }
}

/** The world the mocked clients answer from: one per scenario (see {@link useFakeAws}). */
const CURRENT = Symbol.for("gantry.contract.fakeAws");
type Holder = { [CURRENT]?: FakeAws };

export function currentFakeAws(): FakeAws {
  const aws = (globalThis as Holder)[CURRENT];
  if (!aws) throw new Error("no fake AWS is in use: call useFakeAws() first");
  return aws;
}

export function useFakeAws(aws: FakeAws): FakeAws {
  (globalThis as Holder)[CURRENT] = aws;
  return aws;
}

/** Credentials from an assumed role, tagged so calls signed with them are attributed to it. */
export type AssumedRoleCredentials = () => Promise<{
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  assumedRole: string;
}>;

/**
 * A stand-in for `fromTemporaryCredentials`: the mocked clients never sign a request, so the
 * real provider would never call STS. This records the AssumeRole the provider makes (once per
 * provider) and tags the credentials it returns with the role.
 */
export function fromTemporaryCredentials(options: {
  params: { RoleArn: string; RoleSessionName?: string };
}): AssumedRoleCredentials {
  currentFakeAws().calls.push({
    service: "sts",
    command: "AssumeRole",
    input: { ...options.params },
  });
  const identity = {
    accessKeyId: "ASIAASSUMEDROLEFAKE",
    secretAccessKey: "fake",
    sessionToken: "fake",
    assumedRole: options.params.RoleArn,
  };
  return async () => identity;
}

const CLIENTS: readonly [AwsService, new (config: object) => object][] = [
  ["s3", S3Client],
  ["lambda", LambdaClient],
  ["cloudwatch", CloudWatchClient],
  ["states", SFNClient],
  ["ses", SESv2Client],
  ["secretsmanager", SecretsManagerClient],
  ["scheduler", SchedulerClient],
];

/**
 * The assumed role whose credentials a client signs with, if any: the client's credentials
 * are resolved as the SDK would resolve them (in a function, its execution role's come from
 * the environment Lambda sets; an assumed role's from {@link fromTemporaryCredentials}).
 */
async function signedAs(client: unknown): Promise<string | undefined> {
  const credentials = (client as { config?: { credentials?: () => Promise<unknown> } }).config
    ?.credentials;
  const identity = (await credentials?.()) as { assumedRole?: string } | undefined;
  return identity?.assumedRole;
}

interface SendStub {
  callsFake(fn: (this: unknown, command: { input: object }) => Promise<unknown>): void;
}

/**
 * Mocks `send` of every SDK client the functions use: each command goes to the current fake
 * AWS, which records it. Call once per test file.
 */
export function mockSdkClients(): void {
  for (const [service, client] of CLIENTS) {
    const stub = mockClient(client as never) as unknown as { send: SendStub };
    stub.send.callsFake(async function (this: unknown, command: { input: object }) {
      const name = command.constructor.name.replace(/Command$/, "");
      return currentFakeAws().handle(
        service,
        name,
        command.input as Record<string, unknown>,
        await signedAs(this),
      );
    });
  }
}
