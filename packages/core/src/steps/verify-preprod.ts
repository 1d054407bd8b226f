import * as z from "zod/mini";
import { ArtifactChecksumMismatch, ArtifactNotFound, PreprodNotValidated } from "../errors.ts";
import type { AlarmReader, ArtifactStore, FunctionControl } from "../ports.ts";
import { actorSchema, ciRunUrlSchema } from "../request.ts";
import { type DeploymentState, type PreprodEvidence, validationKey } from "../state.ts";

/** The record CI writes to the preprod bucket once preprod tests have passed. */
export interface ValidationRecord {
  readonly service: string;
  readonly version: string;
  readonly sha256: string;
  readonly validatedAt: string;
  readonly validatedBy: string;
  readonly ciRunUrl?: string;
}

/** Largest validation record read, in bytes of JSON (real ones are about 300). */
export const MAX_VALIDATION_RECORD_BYTES = 2048;

// Whoever can write the preprod bucket writes this record: a lower-trust writer than the
// registry. Its fields reach the approval email and page, so each is checked like input.
const validationRecordSchema = z.strictObject({
  service: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,39}$/, "must be a service name")),
  version: z.string().check(z.regex(/^[0-9a-f]{7,40}$/, "must be a git commit SHA")),
  sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/, "must be a SHA-256 digest")),
  validatedAt: z.string().check(
    z.regex(
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/,
      "must be an ISO 8601 time",
    ),
    z.refine((v) => !Number.isNaN(Date.parse(v)), "must be a real time"),
  ),
  validatedBy: actorSchema,
  ciRunUrl: z.optional(ciRunUrlSchema),
});

/**
 * Checks a validation record as read from the preprod bucket, or throws
 * {@link PreprodNotValidated} naming what is wrong with it.
 *
 * @example
 * ```ts
 * const record = parseValidationRecord(await artifacts.readJson(ref));
 * ```
 */
export function parseValidationRecord(value: unknown): ValidationRecord {
  let size: number;
  try {
    // Only undefined or a function stringify to undefined; any short stand-in is under the limit.
    // Stryker disable next-line StringLiteral: any short stand-in for undefined measures the same
    size = Buffer.byteLength(JSON.stringify(value) ?? "");
  } catch {
    size = Number.POSITIVE_INFINITY;
  }
  if (size > MAX_VALIDATION_RECORD_BYTES) {
    throw new PreprodNotValidated(
      `the preprod validation record is ${size} bytes; at most ${MAX_VALIDATION_RECORD_BYTES} are read`,
    );
  }
  const parsed = validationRecordSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    // The schema is flat: no path has a second segment to separate. ("(record)", disabled with
    // it, is pinned by the JSON null test.)
    // Stryker disable next-line StringLiteral: the "." separator never shows (flat schema)
    const field = issue.path.join(".") || "(record)";
    if (issue.code === "unrecognized_keys") return `${issue.keys.join(", ")}: not a known field`;
    if (issue.code === "invalid_type") return `${field}: must be ${issue.expected}`;
    return `${field}: ${issue.message}`;
  });
  throw new PreprodNotValidated(
    `the preprod validation record is malformed (${problems.join("; ")})`,
  );
}

/** Read-only views of the preprod account (through an assumed role in AWS). */
export interface VerifyPreprodDeps {
  readonly artifacts: Pick<ArtifactStore, "head" | "readJson">;
  readonly functions: Pick<FunctionControl, "getAlias" | "getVersion">;
  readonly alarms: AlarmReader;
}

/**
 * Proves the artifact is what preprod ran and passed: the object is there with the requested
 * SHA-256, a validation record exists for this version and these bytes, the preprod alias
 * serves exactly this code at 100%, and no preprod alarm is firing.
 *
 * @example
 * ```ts
 * const evidence = await verifyPreprod(state, { artifacts, functions, alarms });
 * if (evidence.required) console.log(`validated by ${evidence.validatedBy}`);
 * ```
 */
export async function verifyPreprod(
  state: Pick<DeploymentState, "plan" | "request">,
  deps: VerifyPreprodDeps,
): Promise<PreprodEvidence> {
  const { plan, request } = state;
  const preprod = plan.preprod;
  if (!preprod) return { required: false };
  const sha256 = request.artifact.sha256;
  const where = `s3://${plan.source.bucket}/${plan.source.key}`;

  const object = await deps.artifacts.head(plan.source);
  if (!object) throw new ArtifactNotFound(`no artifact at ${where}`);
  if (object.sha256 !== sha256) {
    throw new ArtifactChecksumMismatch(
      `${where} has SHA-256 ${object.sha256 ?? "(none recorded)"}, the request says ${sha256}`,
    );
  }

  const stored = await deps.artifacts
    .readJson<unknown>({
      bucket: preprod.bucket,
      key: validationKey(plan.service, request.version),
    })
    .catch((error: unknown) => {
      if (error instanceof SyntaxError)
        throw new PreprodNotValidated("the preprod validation record is not JSON");
      throw error;
    });
  if (stored === undefined) {
    throw new PreprodNotValidated(
      `no preprod validation record for ${plan.service} ${request.version}: run the preprod ` +
        "tests, then `gantry artifact validate`",
    );
  }
  const record = parseValidationRecord(stored);
  if (record.service !== plan.service || record.version !== request.version) {
    throw new PreprodNotValidated(
      `the preprod validation record at ${validationKey(plan.service, request.version)} is for ` +
        `${record.service} ${record.version}`,
    );
  }
  if (record.sha256 !== sha256) {
    throw new PreprodNotValidated(
      `preprod validated ${plan.service} ${request.version} with SHA-256 ${record.sha256}, not ${sha256}`,
    );
  }

  const alias = await deps.functions.getAlias(preprod.functionName, preprod.alias);
  if (!alias)
    throw new PreprodNotValidated(
      `preprod alias ${preprod.functionName}:${preprod.alias} does not exist`,
    );
  if (Object.keys(alias.weights).length > 0) {
    throw new PreprodNotValidated(
      `preprod ${preprod.functionName}:${preprod.alias} is in the middle of a rollout`,
    );
  }
  const running = await deps.functions.getVersion(preprod.functionName, alias.version);
  if (running?.codeSha256 !== sha256) {
    throw new PreprodNotValidated(
      `preprod ${preprod.functionName}:${preprod.alias} runs version ${alias.version} with code ` +
        `${running?.codeSha256 ?? "(unknown)"}, not ${sha256}`,
    );
  }

  const alarms = await deps.alarms.describe(preprod.alarms);
  const missing = preprod.alarms.filter((name) => !alarms.some((a) => a.name === name));
  if (missing.length > 0)
    throw new PreprodNotValidated(`preprod alarms not found: ${missing.join(", ")}`);
  const firing = alarms.filter((a) => a.state === "ALARM");
  if (firing.length > 0) {
    throw new PreprodNotValidated(
      `preprod alarm in ALARM: ${firing.map((a) => a.name).join(", ")}`,
    );
  }

  return {
    required: true,
    validatedAt: record.validatedAt,
    validatedBy: record.validatedBy,
    ...(record.ciRunUrl ? { ciRunUrl: record.ciRunUrl } : {}),
    preprodVersion: alias.version,
    alarms,
    // What was seen at this hop, for the deployment record (gantry provenance).
    bucket: plan.source.bucket,
    key: plan.source.key,
    sha256: object.sha256,
    codeSha256: running.codeSha256,
  };
}
