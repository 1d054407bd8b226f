import type { VerifiedTrigger } from "./claims.ts";

/**
 * How a trigger reads wherever it is shown (terminal, console, history): what the OIDC token
 * proved, or that the actor is only the caller's claim. Plain text: each place escapes it for
 * where it goes (HTML, terminal).
 */

/** A trigger as shown: the (claimed or verified) actor and, when a token was checked, its claims. */
export interface TriggerLike {
  readonly actor: string;
  readonly ciRunUrl?: string | null;
  readonly verified?: VerifiedTrigger | null;
}

/** `compact` for terminals (one line); `full` for the console and anything with room. */
export type TriggerStyle = "compact" | "full";

const ABBREVIATED_SHA = 12;

/**
 * The trigger in words: `<actor> — verified by <issuer>: <repository>@<ref>, commit <sha>,
 * workflow <w>, run <id>`, or `<actor> (unverified claim)` when no token was verified.
 *
 * @example
 * ```ts
 * triggerText({ actor: "octocat" }); // "octocat (unverified claim)"
 * triggerText({ actor: "octocat", verified }, "compact");
 * // "octocat — verified by token.actions.githubusercontent.com: acme/app@refs/heads/main, commit 3f2a9c1e0b12, workflow release, run 42"
 * ```
 */
export function triggerText(trigger: TriggerLike, style: TriggerStyle = "compact"): string {
  const { verified } = trigger;
  if (!verified) {
    return `${trigger.actor} (unverified claim${style === "full" ? ": no ID token" : ""})`;
  }
  return `${verified.actor} — verified by ${issuerName(verified.issuer, style)}: ${verifiedFacts(verified, style).join(", ")}`;
}

/**
 * The verified claims as a list of short facts (repository@ref, commit, workflow, run, and in
 * the full style event, environment and repository id).
 *
 * @example
 * ```ts
 * verifiedFacts(verified, "compact"); // ["acme/app@refs/heads/main", "commit 3f2a9c1e0b12", "workflow release", "run 42"]
 * ```
 */
export function verifiedFacts(
  verified: VerifiedTrigger,
  style: TriggerStyle = "compact",
): string[] {
  const full = style === "full";
  const facts = [
    `${verified.repository}@${verified.ref}`,
    `commit ${full ? verified.sha : verified.sha.slice(0, ABBREVIATED_SHA)}`,
  ];
  const workflow = full ? (verified.workflowRef ?? verified.workflow) : workflowName(verified);
  if (workflow) facts.push(`workflow ${workflow}`);
  if (verified.runId) {
    const attempt =
      full && verified.runAttempt && verified.runAttempt !== "1"
        ? ` (attempt ${verified.runAttempt})`
        : "";
    facts.push(`run ${verified.runId}${attempt}`);
  }
  if (full) {
    if (verified.eventName) facts.push(`event ${verified.eventName}`);
    if (verified.environment) facts.push(`environment ${verified.environment}`);
    if (verified.repositoryId) facts.push(`repository id ${verified.repositoryId}`);
  }
  return facts;
}

/** The token issuer: its host in compact form (`token.actions.githubusercontent.com`), else the URL. */
function issuerName(issuer: string, style: TriggerStyle): string {
  if (style === "full") return issuer;
  try {
    const url = new URL(issuer);
    // The local issuer lives under a path on 127.0.0.1: its host alone would not say what it is.
    return url.pathname === "/" || url.pathname === "" ? url.host : `${url.host}${url.pathname}`;
  } catch {
    return issuer;
  }
}

/** The workflow's name, else its file (`release.yml`) from the workflow ref. */
function workflowName(verified: VerifiedTrigger): string | undefined {
  if (verified.workflow) return verified.workflow;
  const path = verified.workflowRef?.split("@")[0];
  return path?.split("/").at(-1) || undefined;
}

/**
 * An automatic approval in words. `rule.index` is the rule's position in the stage's
 * `autoApprove` list, counted from 0; people read it counted from 1.
 *
 * @example
 * ```ts
 * describeAutoApproval({ index: 0, matched: "actor dependabot[bot]" });
 * // "approved automatically by rule 1 (actor dependabot[bot]) on verified claims"
 * ```
 */
export function describeAutoApproval(rule: {
  readonly index: number;
  readonly matched: string;
}): string {
  return `approved automatically by rule ${rule.index + 1} (${rule.matched}) on verified claims`;
}

const HIDDEN = "(ID token, not shown)";

/**
 * A copy of a JSON-like value with every `idToken` field's value replaced by a placeholder: the
 * StartExecution input carries the caller's token, and nothing that shows an input (console,
 * terminal) should print it, short-lived as it is.
 *
 * @example
 * ```ts
 * hideIdTokens({ trigger: { actor: "octocat", idToken: "eyJ..." } });
 * // { trigger: { actor: "octocat", idToken: "(ID token, not shown)" } }
 * ```
 */
export function hideIdTokens<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => hideIdTokens(item)) as T;
  if (
    typeof value === "object" &&
    value !== null &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = key === "idToken" && item !== undefined ? HIDDEN : hideIdTokens(item);
    }
    return out as T;
  }
  return value;
}

/**
 * JSON text with its ID tokens hidden ({@link hideIdTokens}); text that is not JSON is returned
 * as it is, unless it holds something shaped like a JWT, which is cut out.
 *
 * @example
 * ```ts
 * hideIdTokensInJson('{"trigger":{"idToken":"eyJ..."}}'); // '{"trigger":{"idToken":"(ID token, not shown)"}}'
 * ```
 */
export function hideIdTokensInJson(text: string): string {
  const first = text.trimStart()[0];
  if (first === "{" || first === "[") {
    try {
      return JSON.stringify(hideIdTokens(JSON.parse(text) as unknown));
    } catch {
      // not JSON after all: treated as text
    }
  }
  return text.replace(JWT_SHAPE, HIDDEN);
}

/** Three base64url segments, the first starting like a JSON header (`{"` is `eyJ`). */
const JWT_SHAPE = /eyJ[\w-]*\.[\w-]+\.[\w-]+/g;
