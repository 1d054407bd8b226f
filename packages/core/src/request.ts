import * as z from "zod/mini";
import { type FieldIssue, InvalidInput } from "./errors.ts";
import { unsafeCharacter } from "./text.ts";
import type { VerifiedTrigger } from "./trigger/claims.ts";

/**
 * The StartExecution input: only what CI knows. Policy (targets, buckets, alarms, rollout,
 * approvers) is never accepted from the caller; it comes from the service registry.
 */
export interface DeploymentRequest {
  readonly service: string;
  /** The git commit the artifact was built from (7 to 40 lowercase hex characters). */
  readonly version: string;
  readonly artifact: {
    /** Object key in the stage's source bucket, under the service's prefix. */
    readonly key: string;
    /** SHA-256 of the artifact's bytes, 64 lowercase hex characters. */
    readonly sha256: string;
  };
  readonly trigger: {
    /**
     * Who or what started it (a CI user name, a bot such as `dependabot[bot]`), as the caller
     * claims: shown as a claim and never trusted for anything (no auto-approval on it).
     */
    readonly actor: string;
    readonly ciRunUrl?: string;
    /**
     * An OIDC ID token for the stage's audience (GitHub Actions', or the local issuer's): the
     * caller's proof. Only in the StartExecution input: ValidateInput verifies it, removes it,
     * and puts what it proved in `verified`.
     */
    readonly idToken?: string;
    /**
     * Set by ValidateInput only (a caller sending it is refused): the token's verified claims.
     * Absent means the trigger is unverified, which the registry must allow for the stage.
     */
    readonly verified?: VerifiedTrigger;
  };
  /**
   * `gantry deploy --fix-for <alarm>`: the alarms (of the stage's registry alarms, at most
   * {@link MAX_FIX_FOR}) this
   * deployment fixes. Only they may already be in ALARM; they do not stop it, the version
   * analysis judges it, auto-approval never applies and the approval email says so.
   */
  readonly fixFor?: readonly string[];
}

/**
 * Largest request accepted, in bytes of JSON. A request without a token is a few hundred bytes;
 * a GitHub Actions ID token is 1 to 2 KiB today and may carry up to {@link MAX_ID_TOKEN_LENGTH}
 * characters, so 12 KiB leaves room for the largest token plus every other field at its limit.
 * The token never reaches the state (ValidateInput removes it).
 */
export const MAX_REQUEST_BYTES = 12 * 1024;
export const MAX_ID_TOKEN_LENGTH = 8192;
export const MAX_KEY_LENGTH = 512;

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const GIT_SHA = /^[0-9a-f]{7,40}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const ACTOR = /^[A-Za-z0-9][A-Za-z0-9._@+[\]-]{0,99}$/;
/** What a CI user or bot name may look like (no spaces, no control or invisible characters). */
export const actorSchema = z
  .string()
  .check(z.regex(ACTOR, "must be 1 to 100 characters: letters, digits and . _ @ + [ ] -"));
/** A compact JWS: header, payload, signature (empty for `alg: none`, refused later). */
/** Most alarms one deployment may be a fix for (`--fix-for`, repeated). */
export const MAX_FIX_FOR = 5;
/** CloudWatch alarm names: 1 to 255 characters, printable ASCII here (no control characters). */
const ALARM_NAME = /^[\x21-\x7E][\x20-\x7E]{0,254}$/;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const ID_TOKEN_SHAPE = `must be an OIDC ID token: a compact JWS (three base64url parts separated by dots) of at most ${MAX_ID_TOKEN_LENGTH} characters`;
/** Key segments: letters, digits and a few punctuation marks S3 and shells treat literally. */
const KEY_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._+=-]*$/;

// zod/mini: the same schemas as zod's classic API, tree-shakable (13 KiB in a Lambda bundle
// instead of 440 KiB).
const artifactKey = z.string().check(
  z.maxLength(MAX_KEY_LENGTH, `must be at most ${MAX_KEY_LENGTH} characters`),
  z.superRefine((key, ctx) => {
    const reason = keyProblem(key);
    if (reason) ctx.addIssue({ code: "custom", message: reason, input: key });
  }),
);

/**
 * A CI run URL, as people will see it (approval emails, pages, terminals): an http(s) URL of
 * printable ASCII. The WHATWG parser would quietly drop a CR, LF or tab from what it parses,
 * but the string as given is what gets shown, so such characters are refused, not ignored.
 */
export const ciRunUrlSchema = z.string().check(
  z.maxLength(2048, "must be at most 2048 characters"),
  z.superRefine((value, ctx) => {
    if (!/^[\x21-\x7E]*$/.test(value)) {
      const bad = unsafeCharacter(value);
      ctx.addIssue({
        code: "custom",
        message: bad
          ? `must not contain control or invisible characters (found ${bad})`
          : "must be printable ASCII without spaces (percent-encode anything else)",
        input: value,
      });
      return;
    }
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: "custom", message: "must be an absolute URL", input: value });
      return;
    }
    const local = url.hostname === "127.0.0.1" || url.hostname === "localhost";
    if (url.protocol !== "https:" && !(url.protocol === "http:" && local)) {
      ctx.addIssue({ code: "custom", message: "must be an https URL", input: value });
    }
    if (url.username || url.password) {
      ctx.addIssue({ code: "custom", message: "must not carry credentials", input: value });
    }
  }),
);

const requestSchema = z.strictObject({
  service: z
    .string()
    .check(z.regex(SERVICE_NAME, "must be a service name: lowercase letters, digits, dashes")),
  version: z
    .string()
    .check(z.regex(GIT_SHA, "must be a git commit SHA: 7 to 40 lowercase hex characters")),
  artifact: z.strictObject({
    key: artifactKey,
    sha256: z
      .string()
      .check(z.regex(SHA256, "must be a SHA-256 digest: 64 lowercase hex characters")),
  }),
  trigger: z.strictObject({
    actor: actorSchema,
    ciRunUrl: z.optional(ciRunUrlSchema),
    // `verified` is not here: only ValidateInput sets it, so a caller sending it is refused.
    idToken: z.optional(
      z
        .string()
        .check(
          z.refine((t) => t.length <= MAX_ID_TOKEN_LENGTH && COMPACT_JWS.test(t), ID_TOKEN_SHAPE),
        ),
    ),
  }),
  fixFor: z.optional(
    z
      .array(
        z
          .string()
          .check(z.regex(ALARM_NAME, "must be an alarm name: 1 to 255 printable characters")),
      )
      .check(
        z.minLength(1, "must name at least one alarm"),
        // A fix for more than a few alarms at once is not one fix; the bound also keeps the
        // state small (the names travel in the request, the plan and every verdict).
        z.maxLength(MAX_FIX_FOR, `must name at most ${MAX_FIX_FOR} alarms`),
        z.refine((alarms) => new Set(alarms).size === alarms.length, "must not repeat an alarm"),
      ),
  ),
});

/** Why a key is refused, or undefined when it is a plain relative path. */
function keyProblem(key: string): string | undefined {
  if (key.length === 0) return "must not be empty";
  if (key.startsWith("/")) return "must be relative (no leading slash)";
  if (key.includes("\\")) return "must not contain backslashes";
  if (key.includes("%")) return "must not contain percent-encoding";
  const segments = key.split("/");
  if (segments.some((s) => s === "")) return "must not contain empty path segments";
  if (segments.some((s) => s === "." || s === "..")) return "must not contain . or .. segments";
  if (segments.some((s) => !KEY_SEGMENT.test(s))) {
    return "segments must start with a letter or digit and use only letters, digits and . _ + = -";
  }
  if (!key.endsWith(".zip")) return "must name a .zip file";
  return undefined;
}

/**
 * Parses a StartExecution input into a {@link DeploymentRequest}, or throws {@link InvalidInput}
 * naming every field that is wrong and why. Unknown fields are refused, not ignored. Whether the
 * service exists is the registry's question, not this one's.
 *
 * @example
 * ```ts
 * import { parseDeploymentRequest } from "@gantry/core";
 * parseDeploymentRequest({
 *   service: "hello-service",
 *   version: "3f2a9c1",
 *   artifact: { key: "hello-service/3f2a9c1.zip", sha256: "a".repeat(64) },
 *   trigger: { actor: "octocat" },
 * });
 * ```
 */
export function parseDeploymentRequest(input: unknown): DeploymentRequest {
  // StartExecution takes any JSON text: name a JSON value that is not an object for what it is.
  const kind = jsonKind(input);
  if (kind !== undefined && kind !== "object") {
    throw new InvalidInput([
      { field: "(input)", reason: `the input must be a JSON object, got ${kind}` },
    ]);
  }
  const size = jsonSize(input);
  if (size === undefined) {
    throw new InvalidInput([{ field: "(input)", reason: "must be JSON" }]);
  }
  if (size > MAX_REQUEST_BYTES) {
    throw new InvalidInput([
      { field: "(input)", reason: `must be at most ${MAX_REQUEST_BYTES} bytes, got ${size}` },
    ]);
  }
  // reportInput: without it Zod leaves `issue.input` unset, and toFieldIssue would call a
  // present value of the wrong type "required".
  const parsed = requestSchema.safeParse(input, { reportInput: true });
  if (parsed.success) return parsed.data;
  throw new InvalidInput(parsed.error.issues.map(toFieldIssue));
}

/** What a JSON value is, in words (null, boolean, number, string, array, object); else undefined. */
function jsonKind(value: unknown): string | undefined {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  const type = typeof value;
  return type === "boolean" || type === "number" || type === "string" || type === "object"
    ? type
    : undefined;
}

function jsonSize(input: unknown): number | undefined {
  try {
    const text = JSON.stringify(input);
    return text === undefined ? undefined : Buffer.byteLength(text);
  } catch {
    return undefined;
  }
}

function toFieldIssue(issue: z.core.$ZodIssue): FieldIssue {
  const field = issue.path.length > 0 ? issue.path.join(".") : "(input)";
  if (issue.code === "unrecognized_keys") {
    const prefix = issue.path.length > 0 ? `${field}.` : "";
    return { field: `${prefix}${issue.keys.join(",")}`, reason: "is not a known field" };
  }
  if (issue.code === "invalid_type") {
    return {
      field,
      reason: issue.input === undefined ? "is required" : `must be ${issue.expected}`,
    };
  }
  return { field, reason: issue.message };
}
