import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import {
  type ApprovalDecision,
  currentRecordKeys,
  type DeploymentRecord,
  type PreprodEvidence,
  recordKeys,
  type Stage,
  type VerifiedTrigger,
  type VersionVerdict,
  verdictOf,
} from "@gantry/core";
import { defaultStateBucketName } from "@gantry/stacks/names";
import { stageOption, stringOption } from "../args.ts";
import { CliError, explainError, UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { guardClientOutput, parseRemoteJson } from "../remote-text.ts";
import { printJson } from "../render/json.ts";
import { describeVerdict } from "../render/text.ts";
import type { Target } from "../target.ts";
import { type CommandContext, say, targetOf, wantsJson } from "./context.ts";

/** The local control plane's state bucket of a stage (packages/local's `stateBucketOf`). */
export const localStateBucket = (stage: Stage): string => `gantry-state-${stage}`;

/** One hop of the artifact: where the bytes were seen, and their SHA-256 there. */
export interface ProvenanceHop {
  /** `preprod bucket`, `preprod Lambda`, `<stage> bucket`, `<stage> Lambda`. */
  readonly hop: string;
  /** `s3://bucket/key` for a bucket, `version N` for a Lambda version. */
  readonly where: string | null;
  /** The SHA-256 seen there (a Lambda version's CodeSha256, as hex); null if not recorded. */
  readonly sha256: string | null;
  /** Equal to the requested SHA-256; null when the hop was not reached or not recorded. */
  readonly matches: boolean | null;
}

/**
 * What `gantry provenance --json` prints: one deployment's provenance, from the record its
 * Finish wrote (the newest amendment of it, if the reconcile amended it).
 *
 * ```
 * {
 *   stage, service,
 *   record: string,               // the state bucket key read
 *   amended: boolean,             // true when it is an amendment of the first record
 *   commit: string,               // the request's version (git SHA)
 *   repository: { name?, id?, url?, verified: boolean } | null,
 *   artifact: {
 *     requested: { key, sha256 },
 *     hops: [{ hop, where, sha256, matches }],  // preprod bucket, preprod Lambda, stage bucket, stage Lambda
 *     verdict: "same-bytes" | "mismatch" | "incomplete"
 *   },
 *   lambda: { newVersion, previousVersion } | null,
 *   trigger: { actor, ciRunUrl?, verified: VerifiedTrigger | null },
 *   approval: { how, by, at, channel, principal?, comment?, approvalId?, rule? } | null,
 *   execution: { arn, name, startedAt }, finishedAt,
 *   outcome: { status, error?, cause?, version?, note? },
 *   rollback: { restoredVersion, removedVersion?, verifiedAt } | null,
 *   fixFor: string[],             // `gantry deploy --fix-for`: the alarms it fixed; [] otherwise
 *   analysis: VersionVerdict | null  // the last version verdict (the one that stopped it, if one did)
 * }
 * ```
 */
export interface ProvenanceDocument {
  readonly stage: string;
  readonly service: string;
  readonly record: string;
  readonly amended: boolean;
  readonly commit: string;
  readonly repository: DeploymentRecord["repository"] | null;
  readonly artifact: {
    readonly requested: { readonly key: string | null; readonly sha256: string };
    readonly hops: readonly ProvenanceHop[];
    readonly verdict: "same-bytes" | "mismatch" | "incomplete";
  };
  readonly lambda: { readonly newVersion: string; readonly previousVersion: string } | null;
  readonly trigger: {
    readonly actor: string;
    readonly ciRunUrl?: string;
    readonly verified: VerifiedTrigger | null;
  };
  readonly approval:
    | (Omit<ApprovalDecision, "approved" | "verified"> & { readonly channel: string })
    | null;
  readonly execution: { readonly arn: string; readonly name: string; readonly startedAt: string };
  readonly finishedAt: string;
  readonly outcome: DeploymentRecord["outcome"];
  readonly rollback: DeploymentRecord["rollback"] | null;
  /** The alarms the deployment was a fix for (`gantry deploy --fix-for`); empty otherwise. */
  readonly fixFor: readonly string[];
  /** The record's last version verdict; null without version analysis (or an earlier Gantry). */
  readonly analysis: VersionVerdict | null;
}

/** Where an approval came from, for a person. */
const CHANNELS: Readonly<Record<ApprovalDecision["how"], string>> = {
  "not-required": "not required by the stage's policy",
  auto: "auto-approval rule",
  approver: "emailed link",
  operator: "terminal (operator API)",
};

/**
 * The provenance document of one deployment record (already read through the remote-text
 * guard). Tolerates records written by an earlier Gantry (no repository, no CodeSha256s).
 *
 * @example
 * ```ts
 * const doc = provenanceOf(record, "deployments/hello-service/2026-11-30T10-00-00-000Z_x.json");
 * doc.artifact.verdict; // "same-bytes"
 * ```
 */
export function provenanceOf(record: DeploymentRecord, key: string): ProvenanceDocument {
  const requested = record.sha256;
  const hop = (name: string, where: string | null, sha256: string | undefined): ProvenanceHop => ({
    hop: name,
    where,
    sha256: sha256 ?? null,
    matches: sha256 === undefined ? null : sha256 === requested,
  });
  const hops: ProvenanceHop[] = [];
  const preprod: PreprodEvidence | undefined = record.preprod;
  if (preprod?.required) {
    hops.push(
      hop(
        "preprod bucket",
        preprod.bucket && preprod.key ? `s3://${preprod.bucket}/${preprod.key}` : null,
        preprod.sha256,
      ),
      hop("preprod Lambda", `version ${preprod.preprodVersion}`, preprod.codeSha256),
    );
  }
  const artifact = record.artifact;
  hops.push(
    hop(
      `${record.stage} bucket`,
      artifact
        ? `s3://${artifact.bucket}/${artifact.key}${artifact.versionId ? ` (version id ${artifact.versionId})` : ""}`
        : null,
      artifact?.sha256,
    ),
    hop(
      `${record.stage} Lambda`,
      record.release ? `version ${record.release.newVersion}` : null,
      record.release?.codeSha256,
    ),
  );
  const verdict = hops.some((h) => h.matches === false)
    ? "mismatch"
    : hops.every((h) => h.matches === true)
      ? "same-bytes"
      : "incomplete";
  const approval = record.approval;
  return {
    stage: record.stage,
    service: record.service,
    record: key,
    amended: record.amends !== undefined,
    commit: record.version,
    repository: record.repository ?? null,
    artifact: {
      requested: { key: artifact?.key ?? null, sha256: requested },
      hops,
      verdict,
    },
    lambda: record.release
      ? { newVersion: record.release.newVersion, previousVersion: record.release.previousVersion }
      : null,
    trigger: {
      actor: record.trigger.actor,
      ...(record.trigger.ciRunUrl ? { ciRunUrl: record.trigger.ciRunUrl } : {}),
      verified: record.trigger.verified ?? null,
    },
    approval: approval
      ? {
          how: approval.how,
          by: approval.by,
          at: approval.at,
          channel: CHANNELS[approval.how] ?? approval.how,
          ...(approval.principal ? { principal: approval.principal } : {}),
          ...(approval.comment ? { comment: approval.comment } : {}),
          ...(approval.approvalId ? { approvalId: approval.approvalId } : {}),
          ...(approval.rule ? { rule: approval.rule } : {}),
        }
      : null,
    execution: {
      arn: record.execution.id,
      name: record.execution.name,
      startedAt: record.execution.startedAt,
    },
    finishedAt: record.finishedAt,
    outcome: record.outcome,
    rollback: record.rollback ?? null,
    fixFor: Array.isArray(record.fixFor)
      ? record.fixFor.filter((alarm): alarm is string => typeof alarm === "string")
      : [],
    // Known fields only: a record in a shape this Gantry does not know shows no verdict.
    analysis: verdictOf(record.analysis) ?? null,
  };
}

/**
 * The provenance for a person, one fact a line.
 *
 * @example
 * ```ts
 * for (const line of provenanceLines(doc)) console.log(line);
 * ```
 */
export function provenanceLines(doc: ProvenanceDocument): string[] {
  const lines = [
    `Provenance of ${doc.service} ${doc.commit.slice(0, 12)} in ${doc.stage}`,
    `  record       ${doc.record}${doc.amended ? " (an amendment of the execution's first record)" : ""}`,
    `  commit       ${doc.commit}`,
    `  repository   ${repositoryText(doc.repository)}`,
    `  artifact     ${doc.artifact.requested.key ?? "(not copied)"}, requested SHA-256 ${doc.artifact.requested.sha256}`,
  ];
  const width = Math.max(...doc.artifact.hops.map((h) => h.hop.length));
  for (const hop of doc.artifact.hops) {
    const seen =
      hop.sha256 === null
        ? "not recorded (not reached, or recorded by an earlier Gantry)"
        : `${hop.sha256} ${hop.matches ? "= requested" : "≠ requested"}`;
    lines.push(`    ${hop.hop.padEnd(width)}  ${hop.where ?? "-"}: ${seen}`);
  }
  lines.push(`  verdict      ${VERDICTS[doc.artifact.verdict]}`);
  lines.push(
    `  lambda       ${doc.lambda ? `version ${doc.lambda.newVersion} (previous ${doc.lambda.previousVersion})` : "no version was published"}`,
  );
  lines.push(...triggerLines(doc.trigger));
  lines.push(`  approval     ${approvalText(doc.approval)}`);
  lines.push(`  execution    ${doc.execution.arn}`);
  lines.push(`               started ${doc.execution.startedAt}, finished ${doc.finishedAt}`);
  lines.push(`  outcome      ${outcomeText(doc.outcome)}`);
  if (doc.outcome.note) lines.push(`               note: ${doc.outcome.note}`);
  if (doc.fixFor.length > 0) {
    lines.push(
      `  fix for      ${doc.fixFor.join(", ")} (deployed during an incident; judged by the version analysis)`,
    );
  }
  lines.push(
    `  analysis     ${doc.analysis ? describeVerdict(doc.analysis).replace(/^analysis /, "last verdict ") : "none (the stage has no version analysis, or no hold ended)"}`,
  );
  lines.push(`  rollback     ${rollbackText(doc.rollback)}`);
  return lines;
}

const VERDICTS: Readonly<Record<ProvenanceDocument["artifact"]["verdict"], string>> = {
  "same-bytes": "the same bytes at every hop (each equals the requested SHA-256)",
  mismatch: "MISMATCH: a hop recorded other bytes than the requested SHA-256",
  incomplete: "no mismatch, but not every hop was reached or recorded",
};

function repositoryText(repository: ProvenanceDocument["repository"]): string {
  if (!repository) return "unknown (no verified trigger, and the registry names no repositoryUrl)";
  const what = repository.name ?? repository.url ?? "?";
  const id = repository.id ? ` (id ${repository.id})` : "";
  const url = repository.name && repository.url ? `, ${repository.url}` : "";
  return repository.verified
    ? `${what}${id}${url} (verified: OIDC ID token)`
    : `${what} (unverified claim: the registry's repositoryUrl; nothing proved the commit came from it)`;
}

function triggerLines(trigger: ProvenanceDocument["trigger"]): string[] {
  const ci = trigger.ciRunUrl ? `, CI run ${trigger.ciRunUrl}` : "";
  const v = trigger.verified;
  if (!v) return [`  trigger      ${trigger.actor} (unverified claim: no ID token)${ci}`];
  const facts = [
    `repository ${v.repository}`,
    `ref ${v.ref}`,
    `commit ${v.sha}`,
    ...(v.workflowRef
      ? [`workflow ${v.workflowRef}`]
      : v.workflow
        ? [`workflow ${v.workflow}`]
        : []),
    ...(v.eventName ? [`event ${v.eventName}`] : []),
    ...(v.environment ? [`environment ${v.environment}`] : []),
    ...(v.runId ? [`run ${v.runId}${v.runAttempt ? ` attempt ${v.runAttempt}` : ""}`] : []),
  ];
  return [
    `  trigger      ${v.actor} (verified: ID token from ${v.issuer}, audience ${v.audience})${ci}`,
    `               ${facts.join(", ")}`,
    `               token issued ${v.issuedAt}, subject ${v.subject}`,
  ];
}

function approvalText(approval: ProvenanceDocument["approval"]): string {
  if (!approval) return "none recorded (the deployment ended before its approval)";
  if (approval.how === "not-required") return `not required by the stage's policy (${approval.at})`;
  if (approval.how === "auto") {
    const rule = approval.rule ? ` #${approval.rule.index} (${approval.rule.matched})` : "";
    return `auto-approved at ${approval.at} by rule${rule} on verified claims`;
  }
  const principal = approval.principal ? `, as ${approval.principal}` : "";
  const comment = approval.comment ? `: "${approval.comment}"` : "";
  return `approved by ${approval.by} at ${approval.at}, via ${approval.channel}${principal}${comment}`;
}

function outcomeText(outcome: ProvenanceDocument["outcome"]): string {
  const error = outcome.error
    ? `: ${outcome.error}${outcome.cause ? ` (${outcome.cause})` : ""}`
    : "";
  if (outcome.status === "deployed")
    return `deployed${outcome.version ? ` (version ${outcome.version})` : ""}`;
  return `${outcome.status}${error}`;
}

function rollbackText(rollback: ProvenanceDocument["rollback"]): string {
  if (!rollback) return "none";
  if (rollback.restoredVersion === null) return `nothing had been changed (${rollback.verifiedAt})`;
  const removed = rollback.removedVersion ? `, version ${rollback.removedVersion} removed` : "";
  return `version ${rollback.restoredVersion} serves all traffic again${removed} (verified ${rollback.verifiedAt})`;
}

/**
 * `gantry provenance --stage S --service NAME [--version SHA] [--state-bucket NAME] [--json]`:
 * shows, from the deployment records the pipeline wrote to the stage's state bucket, where a
 * deployment came from and what it did (see {@link ProvenanceDocument}). Without --version, the
 * newest deployment; with it, the newest of that commit. Locally the bucket is the plane's
 * `gantry-state-<stage>` (its S3 endpoint serves `deployments/` read-only); in AWS it is
 * --state-bucket, else GANTRY_STATE_BUCKET, else the default name for the caller's account and
 * region. Exit 0 when found; 2 for usage; 5 when there is no such record or it cannot be read.
 *
 * @example
 * ```sh
 * gantry provenance --stage prod --service hello-service --version 3f2a9c1e0b7d --json
 * ```
 */
export async function provenanceCommand(context: CommandContext): Promise<ExitCode> {
  const { options } = context;
  const stage = stageOption(context.command, options, true) as Stage;
  const service = stringOption(options, "service");
  if (!service) throw new UsageError(context.command, "--service is required");
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(service)) {
    throw new UsageError(context.command, `--service must be a service name, got ${service}`);
  }
  const version = stringOption(options, "version");
  if (version !== undefined && !/^[0-9a-f]{7,40}$/.test(version)) {
    throw new UsageError(context.command, "--version must be 7 to 40 lowercase hex characters");
  }
  const target = targetOf(context);
  const bucket = await stateBucketOf(
    target,
    stage,
    stringOption(options, "state-bucket") ?? context.io.env.GANTRY_STATE_BUCKET,
  );
  const errorContext = {
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    aws: target.kind === "aws",
    subject: `s3://${bucket}/${recordKeys.deploymentsOf(service)}`,
  };
  let found: { key: string; record: DeploymentRecord } | undefined;
  try {
    found = await newestRecord(target.s3, bucket, service, version, (key, why) =>
      context.io.stderr.write(`gantry: note: skipped s3://${bucket}/${key}: ${why}\n`),
    );
  } catch (error) {
    throw explainError(error, errorContext);
  }
  if (!found) {
    throw new CliError(
      ExitCode.Failed,
      `no deployment record of ${service}${version ? ` ${version}` : ""} in ${stage} (s3://${bucket}/${recordKeys.deploymentsOf(service)})`,
      [
        "a record is written when a deployment that passed input validation ends",
        `\`gantry list --service ${service} --stage ${stage}\` shows its executions`,
      ],
    );
  }
  const doc = provenanceOf(found.record, found.key);
  if (wantsJson(context)) printJson(context.io.stdout, doc);
  else say(context, ...provenanceLines(doc));
  return ExitCode.Ok;
}

async function stateBucketOf(
  target: Target,
  stage: Stage,
  given: string | undefined,
): Promise<string> {
  if (given) return given;
  if (target.kind === "local") return localStateBucket(stage);
  const region = await target.s3.config.region();
  const sts = guardClientOutput(new STSClient({ region }));
  try {
    const caller = await sts.send(new GetCallerIdentityCommand({}));
    return defaultStateBucketName(stage, caller.Account ?? "", region);
  } catch (error) {
    throw explainError(error, { aws: true });
  }
}

/** The current record keys of a service, oldest first (ListObjectsV2, every page). */
async function recordKeysOf(s3: S3Client, bucket: string, service: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: recordKeys.deploymentsOf(service),
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return currentRecordKeys(keys);
}

/** Largest record read, in bytes: real ones are a few KiB. */
const MAX_RECORD_BYTES = 1024 * 1024;

async function newestRecord(
  s3: S3Client,
  bucket: string,
  service: string,
  version: string | undefined,
  skipped: (key: string, why: string) => void,
): Promise<{ key: string; record: DeploymentRecord } | undefined> {
  const keys = await recordKeysOf(s3, bucket, service);
  // Newest first. Every record is read until one matches: an execution started through the
  // plain API may have any name, so the key does not say which version it deployed.
  for (const key of keys.reverse()) {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if ((object.ContentLength ?? 0) > MAX_RECORD_BYTES) {
      skipped(key, `larger than ${MAX_RECORD_BYTES} bytes`);
      continue;
    }
    const text = (await object.Body?.transformToString("utf8")) ?? "";
    let record: unknown;
    try {
      record = parseRemoteJson(text);
    } catch {
      skipped(key, "not JSON");
      continue;
    }
    if (!isRecord(record, service)) {
      skipped(key, "not a deployment record of this service");
      continue;
    }
    if (!version || record.version.startsWith(version)) return { key, record };
  }
  return undefined;
}

/** Enough of a deployment record to show (a damaged or foreign object is skipped). */
function isRecord(value: unknown, service: string): value is DeploymentRecord {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Partial<DeploymentRecord>;
  return (
    r.service === service &&
    typeof r.version === "string" &&
    typeof r.sha256 === "string" &&
    typeof r.stage === "string" &&
    typeof r.finishedAt === "string" &&
    typeof r.trigger?.actor === "string" &&
    typeof r.execution?.id === "string" &&
    typeof r.outcome?.status === "string"
  );
}
