/**
 * What Gantry knows for certain about who started a deployment: the claims of an OIDC ID token
 * (GitHub Actions', or the local control plane's issuer, which mints the same shape) after
 * ValidateInput checked its signature, issuer, audience and expiry, the repository against the
 * registry and the commit against the deployed version. Nothing here comes from the caller's
 * words: a request's `trigger.actor` and `trigger.ciRunUrl` stay claims.
 */
export interface VerifiedTrigger {
  /** The token's `iss`: `https://token.actions.githubusercontent.com`, or the local issuer. */
  readonly issuer: string;
  /** The token's `aud` that was accepted (the stage's audience). */
  readonly audience: string;
  /** The token's `sub`, e.g. `repo:acme/hello-service:ref:refs/heads/main`. */
  readonly subject: string;
  /** `owner/name`, equal to the service's registered repository. */
  readonly repository: string;
  /** GitHub's numeric repository id (survives renames), when the token carries it. */
  readonly repositoryId?: string;
  /** The git ref the workflow ran on, e.g. `refs/heads/main`. */
  readonly ref: string;
  /** The commit: equal to the request's version. */
  readonly sha: string;
  /** The account that started the run (`dependabot[bot]`, a user login). */
  readonly actor: string;
  readonly workflow?: string;
  /** e.g. `acme/hello-service/.github/workflows/release.yml@refs/heads/main`. */
  readonly workflowRef?: string;
  /** e.g. `push`, `workflow_dispatch`. */
  readonly eventName?: string;
  /** The GitHub environment of the job, when it has one. */
  readonly environment?: string;
  readonly runId?: string;
  readonly runAttempt?: string;
  /** When the token was issued and when it expired (ISO 8601). */
  readonly issuedAt: string;
  readonly expiresAt: string;
}

/**
 * An auto-approval rule of a stage: it matches a deployment only through verified claims (the
 * repository is always the service's registered one), never through what the caller wrote.
 * Every field given must match; a rule with no field is refused by the registry.
 *
 * @example
 * ```ts
 * const rule: AutoApproveRule = { actor: "dependabot[bot]", ref: "refs/heads/main" };
 * ```
 */
export interface AutoApproveRule {
  /** Exact login, e.g. `dependabot[bot]`. */
  readonly actor?: string;
  /** Exact ref, or a prefix ending in `*` (`refs/heads/release/*`). */
  readonly ref?: string;
  /** Exact `workflow_ref` without the `@ref` part, e.g. `acme/app/.github/workflows/ci.yml`. */
  readonly workflow?: string;
  /** Exact event name, e.g. `push`. */
  readonly eventName?: string;
  /** Exact GitHub environment name. */
  readonly environment?: string;
}

/** The rule that approves this verified trigger, with its index in the stage's list; else undefined. */
export function matchingAutoApproveRule(
  rules: readonly AutoApproveRule[],
  trigger: VerifiedTrigger | undefined,
): { readonly index: number; readonly rule: AutoApproveRule } | undefined {
  if (!trigger) return undefined;
  const index = rules.findIndex((rule) => ruleMatches(rule, trigger));
  const rule = rules[index];
  return rule ? { index, rule } : undefined;
}

function ruleMatches(rule: AutoApproveRule, trigger: VerifiedTrigger): boolean {
  const checks = [
    rule.actor === undefined || rule.actor === trigger.actor,
    rule.ref === undefined || refMatches(rule.ref, trigger.ref),
    rule.workflow === undefined ||
      (trigger.workflowRef !== undefined && trigger.workflowRef.split("@")[0] === rule.workflow),
    rule.eventName === undefined || rule.eventName === trigger.eventName,
    rule.environment === undefined || rule.environment === trigger.environment,
  ];
  // A rule without any field would approve everything verified: the registry refuses it, and
  // this refuses it again.
  const fields = Object.values(rule).filter((v) => v !== undefined).length;
  return fields > 0 && checks.every(Boolean);
}

function refMatches(pattern: string, ref: string): boolean {
  return pattern.endsWith("*") ? ref.startsWith(pattern.slice(0, -1)) : pattern === ref;
}

/** How a rule reads in emails, pages and the history, e.g. `actor dependabot[bot], ref refs/heads/main`. */
export function describeAutoApproveRule(rule: AutoApproveRule): string {
  return Object.entries(rule)
    .filter(([, value]) => value !== undefined)
    .map(([field, value]) => `${field} ${value}`)
    .join(", ");
}
