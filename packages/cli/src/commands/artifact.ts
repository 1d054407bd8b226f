import { createHash } from "node:crypto";
import { appendFileSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { ValidationRecord } from "@gantry/core";
import {
  artifactPrefixOf,
  base64ToHex,
  type FieldIssue,
  hexToBase64,
  InvalidInput,
  parseDeploymentRequest,
  type Registry,
  serviceOf,
  validationKey,
} from "@gantry/core";
import { stringOption } from "../args.ts";
import { defaultActor, defaultCiRunUrl } from "../ci-env.ts";
import { CliError, explainError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { parseRemoteJson } from "../remote-text.ts";
import { shortSha } from "../render/format.ts";
import { printJson } from "../render/json.ts";
import { invalidInput, requestInput } from "../request.ts";
import { type CommandContext, note, registryOf, say, targetOf, wantsJson } from "./context.ts";

/** The default key of a published artifact: `<prefix><version>/<sha256[0:16]>.zip`. */
export function defaultArtifactKey(
  registry: Registry,
  service: string,
  version: string,
  sha256: string,
): string {
  return `${artifactPrefixOf(registry, service)}${version}/${sha256.slice(0, 16)}.zip`;
}

/**
 * Checks some of a request's fields with the core schema, keeping only the issues about them
 * (the others get placeholders), and the service against the registry. Exit 2 on any problem.
 */
function checkFields(
  registry: Registry,
  values: Parameters<typeof requestInput>[0],
  fields: readonly string[],
): void {
  const placeholder = {
    service: "placeholder",
    version: "0000000",
    artifactKey: "placeholder/artifact.zip",
    sha256: "0".repeat(64),
    actor: "placeholder",
  };
  const issues: FieldIssue[] = [];
  try {
    parseDeploymentRequest(requestInput({ ...placeholder, ...values }));
  } catch (error) {
    if (!(error instanceof InvalidInput)) throw error;
    issues.push(...error.issues.filter((issue) => fields.includes(issue.field)));
  }
  const service = values.service;
  if (service && !issues.some((i) => i.field === "service") && !serviceOf(registry, service)) {
    const known = Object.keys(registry.services).sort();
    issues.push({
      field: "service",
      reason: `is not a registered service (known: ${known.join(", ") || "none"})`,
    });
  }
  if (issues.length > 0)
    throw invalidInput(issues, ["services are registered in gantry.registry.ts"]);
}

function isPreconditionFailed(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === "PreconditionFailed" || e.$metadata?.httpStatusCode === 412;
}

/** The SHA-256 (hex) S3 holds for an object, hashing its bytes when no checksum was stored. */
async function storedSha256(s3: S3Client, bucket: string, key: string): Promise<string> {
  const head = await s3.send(
    new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: "ENABLED" }),
  );
  const stored = head.ChecksumSHA256?.includes("-") ? undefined : head.ChecksumSHA256;
  const hex = stored ? base64ToHex(stored) : undefined;
  if (hex) return hex;
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = await object.Body?.transformToByteArray();
  return createHash("sha256")
    .update(bytes ?? new Uint8Array())
    .digest("hex");
}

/**
 * `gantry artifact publish`: hashes the zip, uploads it once to the preprod bucket with its
 * SHA-256 and If-None-Match: * (the same bytes again is fine; other bytes under the key are
 * refused: artifacts are immutable), and prints the key and hash for the deploy step.
 */
export async function publishCommand(context: CommandContext): Promise<ExitCode> {
  const { options, io } = context;
  const service = stringOption(options, "service");
  const version = stringOption(options, "version");
  const file = stringOption(options, "file");
  const issues: FieldIssue[] = [];
  if (!file) issues.push({ field: "--file", reason: "is required" });
  let bytes: Buffer | undefined;
  if (file) {
    const path = resolve(io.cwd, file);
    try {
      if (!statSync(path).isFile()) throw new Error("not a file");
      bytes = readFileSync(path);
    } catch {
      issues.push({ field: "--file", reason: `cannot read ${path}` });
    }
  }
  const { registry } = await registryOf(context);
  try {
    checkFields(registry, { service, version }, ["service", "version"]);
  } catch (error) {
    const more = (error as CliError).details?.issues as FieldIssue[] | undefined;
    throw invalidInput([...(more ?? []), ...issues]);
  }
  if (issues.length > 0 || !bytes || !service || !version) throw invalidInput(issues);

  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const key =
    stringOption(options, "key") ?? defaultArtifactKey(registry, service, version, sha256);
  checkFields(registry, { service, version, artifactKey: key }, ["artifact.key"]);
  const prefix = artifactPrefixOf(registry, service);
  if (!key.startsWith(prefix)) {
    throw invalidInput([{ field: "artifact.key", reason: `must start with ${prefix}` }]);
  }
  const bucket = stringOption(options, "bucket") ?? registry.stages.preprod.sourceBucket;

  const target = targetOf(context);
  const errorContext = { endpoint: target.endpoint, aws: target.kind === "aws", subject: bucket };
  let uploaded = true;
  try {
    await target.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: bytes,
        ContentType: "application/zip",
        ChecksumSHA256: hexToBase64(sha256),
        IfNoneMatch: "*",
        Metadata: { "gantry-service": service, "gantry-version": version, "gantry-sha256": sha256 },
      }),
    );
  } catch (error) {
    if (!isPreconditionFailed(error)) throw explainError(error, errorContext);
    const existing = await storedSha256(target.s3, bucket, key).catch((e: unknown) => {
      throw explainError(e, errorContext);
    });
    if (existing !== sha256) {
      throw new CliError(
        ExitCode.Failed,
        `s3://${bucket}/${key} already holds other bytes (SHA-256 ${existing}, this file is ${sha256}): artifacts are immutable`,
        [
          "publish this build under its own key (the default key contains the SHA-256), or as a new version",
          "a build that does not reproduce the same bytes for the same commit should get a new version",
        ],
        { bucket, key, sha256, existingSha256: existing },
      );
    }
    uploaded = false;
  }

  if (io.env.GITHUB_OUTPUT) {
    appendFileSync(io.env.GITHUB_OUTPUT, `key=${key}\nsha256=${sha256}\nbucket=${bucket}\n`);
  }
  const result = { bucket, key, sha256, size: bytes.length, uploaded };
  if (wantsJson(context)) printJson(io.stdout, result);
  else {
    note(
      context,
      uploaded
        ? `published ${service} ${shortSha(version)} (${bytes.length} bytes) to s3://${bucket}/${key}`
        : `already published: s3://${bucket}/${key} holds these exact bytes`,
    );
    say(context, `key=${key}`, `sha256=${sha256}`);
  }
  return ExitCode.Ok;
}

/**
 * `gantry artifact validate`: after preprod tests pass, writes the validation record prod's
 * VerifyPreprod step requires (`validations/<service>/<version>.json`), once. The same version
 * and SHA-256 again (a retried job) is fine; another SHA-256 for the version is refused.
 */
export async function validateCommand(context: CommandContext): Promise<ExitCode> {
  const { options, io } = context;
  const explicitUrl = stringOption(options, "ci-run-url");
  const values = {
    service: stringOption(options, "service"),
    version: stringOption(options, "version"),
    sha256: stringOption(options, "sha256"),
    actor: stringOption(options, "actor") ?? defaultActor(io.env),
    ciRunUrl: explicitUrl ?? defaultCiRunUrl(io.env),
  };
  const { registry } = await registryOf(context);
  const fields = ["service", "version", "artifact.sha256", "trigger.actor", "trigger.ciRunUrl"];
  try {
    checkFields(registry, values, fields);
  } catch (error) {
    const issues = (error as CliError).details?.issues as { field: string }[] | undefined;
    if (explicitUrl || !issues?.every((i) => i.field === "--ci-run-url")) throw error;
    values.ciRunUrl = undefined; // a guessed URL the schema refuses is left out
  }
  const { service, version, sha256, actor, ciRunUrl } = values;
  if (!service || !version || !sha256) throw new Error("checked above"); // for the type checker
  const bucket = stringOption(options, "bucket") ?? registry.stages.preprod.artifactBucket;
  const key = validationKey(service, version);
  const record: ValidationRecord = {
    service,
    version,
    sha256,
    validatedAt: new Date(io.now()).toISOString(),
    validatedBy: actor,
    ...(ciRunUrl ? { ciRunUrl } : {}),
  };

  const target = targetOf(context);
  const errorContext = { endpoint: target.endpoint, aws: target.kind === "aws", subject: bucket };
  let written: ValidationRecord = record;
  let created = true;
  try {
    await target.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: JSON.stringify(record),
        ContentType: "application/json",
        IfNoneMatch: "*",
      }),
    );
  } catch (error) {
    if (!isPreconditionFailed(error)) throw explainError(error, errorContext);
    const existing = await readRecord(target.s3, bucket, key).catch((e: unknown) => {
      throw explainError(e, errorContext);
    });
    if (!existing || existing.sha256 !== sha256 || existing.service !== service) {
      throw new CliError(
        ExitCode.Failed,
        `preprod already validated ${service} ${version} with SHA-256 ${existing?.sha256 ?? "(unreadable record)"}, not ${sha256}`,
        [
          "a version is validated once, for one artifact: build and publish a new version",
          `the record: s3://${bucket}/${key}`,
        ],
        { bucket, key, existing },
      );
    }
    written = existing;
    created = false;
  }
  if (wantsJson(context)) printJson(io.stdout, { bucket, key, created, record: written });
  else {
    say(
      context,
      created
        ? `validated ${service} ${shortSha(version)} (sha256 ${sha256.slice(0, 16)}…) for prod: s3://${bucket}/${key}`
        : `already validated by ${written.validatedBy} at ${written.validatedAt}: s3://${bucket}/${key}`,
    );
  }
  return ExitCode.Ok;
}

async function readRecord(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<ValidationRecord | undefined> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const text = (await object.Body?.transformToString("utf8")) ?? "";
  try {
    return parseRemoteJson<ValidationRecord>(text);
  } catch {
    return undefined;
  }
}
