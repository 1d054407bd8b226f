/**
 * doctor's role checks: each function's role allows what `stacks/policy.ts` says it needs (and
 * refuses what it must not do), as IAM's policy simulator decides.
 */
import {
  type ContextEntry,
  type EvaluationResult,
  type IAMClient,
  SimulatePrincipalPolicyCommand,
} from "@aws-sdk/client-iam";
import type { Stage } from "@gantry/core";
import type { PolicyStatement } from "@gantry/stacks/policy";
import type { RolePlan } from "./plan.ts";
import {
  type CheckResult,
  callerNeeds,
  type Denial,
  describeError,
  errorName,
  isAccessDenied,
} from "./result.ts";

/** The name that stands in for `*` in a simulated resource. */
export const PROBE_NAME = "gantry-doctor";

/**
 * A concrete ARN for a resource pattern of a policy, as a function would call it: `*` becomes
 * {@link PROBE_NAME}, `?` becomes `x` (so the six characters Secrets Manager appends to a
 * secret's ARN become `xxxxxx`). A lone `*` (the actions AWS cannot scope) stays `*`.
 *
 * @example
 * ```ts
 * probeArn("arn:aws:s3:::gantry-state-prod-1-us-east-1/locks/*"); // ".../locks/gantry-doctor"
 * ```
 */
export function probeArn(pattern: string): string {
  if (pattern === "*") return "*";
  return pattern.replaceAll("*", PROBE_NAME).replaceAll("?", "x");
}

/** One action on one resource, as a statement asks for it. */
export interface Probe {
  readonly action: string;
  readonly resource: string;
  readonly probedAs: string;
  readonly expected: "allowed" | "denied";
  readonly sid: string;
  /** The statement's conditions: the request context a real call carries (`iam:PassedToService`). */
  readonly context?: readonly ContextEntry[];
}

/**
 * Every action/resource pair the statements name, one per pair (a deny statement wins over an
 * allow naming the same pair, as in IAM).
 *
 * @example
 * ```ts
 * probesOf([{ sid: "TakeLocks", effect: "allow", actions: ["s3:GetObject"], resources: [locks] }]);
 * // [{ action: "s3:GetObject", resource: locks, probedAs: ".../locks/gantry-doctor", expected: "allowed", sid: "TakeLocks" }]
 * ```
 */
export function probesOf(statements: readonly PolicyStatement[]): Probe[] {
  const probes = new Map<string, Probe>();
  for (const statement of statements) {
    for (const action of statement.actions) {
      for (const resource of statement.resources) {
        const probedAs = probeArn(resource);
        const key = `${action.toLowerCase()} ${probedAs}`;
        const expected = statement.effect === "allow" ? "allowed" : "denied";
        if (probes.get(key)?.expected === "denied") continue;
        const context = (statement.conditions ?? []).map((c) => ({
          ContextKeyName: c.variable,
          ContextKeyValues: [...c.values],
          ContextKeyType: "string" as const,
        }));
        probes.set(key, {
          action,
          resource,
          probedAs,
          expected,
          sid: statement.sid,
          ...(context.length > 0 ? { context } : {}),
        });
      }
    }
  }
  return [...probes.values()];
}

/** How IAM decided one pair, and why when it says. */
function decisionOf(
  results: readonly EvaluationResult[],
  action: string,
  probedAs: string,
): { decision: string; why?: string } {
  const forAction = results.filter((r) => r.EvalActionName?.toLowerCase() === action.toLowerCase());
  for (const result of forAction) {
    const specific = result.ResourceSpecificResults?.find((r) => r.EvalResourceName === probedAs);
    const whole =
      !result.ResourceSpecificResults?.length &&
      (result.EvalResourceName === probedAs || forAction.length === 1);
    if (!specific && !whole) continue;
    const decision = (specific ? specific.EvalResourceDecision : result.EvalDecision) ?? "missing";
    const boundary =
      specific?.PermissionsBoundaryDecisionDetail ?? result.PermissionsBoundaryDecisionDetail;
    const matched = (specific?.MatchedStatements ?? result.MatchedStatements ?? [])
      .map((s) => s.SourcePolicyId)
      .filter((id): id is string => Boolean(id));
    let why: string | undefined;
    if (decision !== "allowed") {
      if (result.OrganizationsDecisionDetail?.AllowedByOrganizations === false) {
        why = "a service control policy denies it";
      } else if (boundary?.AllowedByPermissionsBoundary === false) {
        why = "the role's permissions boundary does not allow it";
      } else if (decision === "explicitDeny" && matched.length > 0) {
        why = `denied by ${[...new Set(matched)].join(", ")}`;
      } else if (decision === "implicitDeny") {
        why = "no policy of the role allows it";
      }
    } else if (matched.length > 0) {
      why = `allowed by ${[...new Set(matched)].join(", ")}`;
    }
    return why ? { decision, why } : { decision };
  }
  return { decision: "missing", why: "IAM returned no result for it" };
}

/**
 * Asks IAM how the role's policies decide every pair: one simulation for the actions on named
 * resources, and one without resources (IAM's default, `*`) for the actions AWS cannot scope;
 * each paged.
 */
async function simulate(
  iam: IAMClient,
  roleArn: string,
  probes: readonly Probe[],
): Promise<EvaluationResult[]> {
  const results: EvaluationResult[] = [];
  const scoped = probes.filter((p) => p.probedAs !== "*");
  const unscoped = probes.filter((p) => p.probedAs === "*");
  for (const group of [scoped, unscoped]) {
    if (group.length === 0) continue;
    const resources = group === scoped ? [...new Set(group.map((p) => p.probedAs))] : undefined;
    // A conditioned grant (PassRole only to the scheduler) is simulated as the real call makes
    // it: with its context. Keys no other action reads change nothing for the rest.
    const context = uniqueContext(group.flatMap((p) => p.context ?? []));
    let marker: string | undefined;
    do {
      const out = await iam.send(
        new SimulatePrincipalPolicyCommand({
          PolicySourceArn: roleArn,
          ActionNames: [...new Set(group.map((p) => p.action))],
          ...(resources ? { ResourceArns: resources } : {}),
          ...(context.length > 0 ? { ContextEntries: context } : {}),
          MaxItems: 1000,
          ...(marker ? { Marker: marker } : {}),
        }),
      );
      results.push(...(out.EvaluationResults ?? []));
      marker = out.IsTruncated ? out.Marker : undefined;
    } while (marker);
  }
  return results;
}

/**
 * Whether one function's role allows every action on every resource its statements in
 * `stacks/policy.ts` name (and still refuses what a deny statement refuses), simulated by IAM
 * (`iam:SimulatePrincipalPolicy`) with the role's policies, its permissions boundary and the
 * organization's SCPs. Resource patterns are simulated as concrete ARNs ({@link probeArn}).
 *
 * @example
 * ```ts
 * const result = await checkRole(iam, plan.roles[0], "prod");
 * result.denied; // [{ action: "s3:PutObject", resource: ".../locks/*", decision: "implicitDeny", ... }]
 * ```
 */
export async function checkRole(
  iam: IAMClient,
  role: RolePlan,
  stage: Stage,
): Promise<CheckResult> {
  const base = { check: "role" as const, subject: role.roleName };
  const probes = probesOf(role.statements);
  let results: EvaluationResult[];
  try {
    results = await simulate(iam, role.roleArn, probes);
  } catch (error) {
    if (/^NoSuchEntity/.test(errorName(error))) {
      return {
        ...base,
        status: "fail",
        message: `the role does not exist (${role.fn} is not deployed in this account)`,
        fix: `deploy the stage in this account (npx sst deploy --stage ${stage}), or use the credentials of the account it was deployed in`,
      };
    }
    return {
      ...base,
      status: "fail",
      message: `cannot simulate its policies: ${describeError(error)}`,
      ...(isAccessDenied(error)
        ? { fix: callerNeeds(`iam:SimulatePrincipalPolicy on ${role.roleArn}`) }
        : {}),
    };
  }
  const denied: Denial[] = [];
  for (const probe of probes) {
    const { decision, why } = decisionOf(results, probe.action, probe.probedAs);
    const ok =
      decision !== "missing" &&
      (probe.expected === "allowed" ? decision === "allowed" : decision !== "allowed");
    if (!ok) denied.push({ ...probe, decision, ...(why ? { why } : {}) });
  }
  const allows = probes.filter((p) => p.expected === "allowed").length;
  const refuses = probes.length - allows;
  if (denied.length === 0) {
    return {
      ...base,
      status: "ok",
      message: `allows the ${allows} action/resource pair${allows === 1 ? "" : "s"} ${role.fn} needs${refuses > 0 ? `, and refuses the ${refuses} it must not do` : ""}`,
    };
  }
  return {
    ...base,
    status: "fail",
    message: `${denied.length} of its ${probes.length} action/resource pairs ${denied.length === 1 ? "is" : "are"} not as stacks/policy.ts says`,
    details: denied.map((d) =>
      d.expected === "denied" && d.decision === "allowed"
        ? `${d.action} on ${d.resource}: allowed${d.why ? ` (${d.why})` : ""}, but ${d.sid} must deny it`
        : `${d.action} on ${d.resource}: ${d.decision}${d.why ? ` (${d.why})` : ""}`,
    ),
    fix:
      `npx sst deploy --stage ${stage} puts the role's policy back as stacks/policy.ts says; ` +
      "a denial by a permissions boundary or an SCP needs that boundary or SCP to allow it",
    denied,
  };
}

/** One entry per context key (the first statement naming it wins). */
function uniqueContext(entries: readonly ContextEntry[]): ContextEntry[] {
  const byKey = new Map<string, ContextEntry>();
  for (const entry of entries)
    if (entry.ContextKeyName && !byKey.has(entry.ContextKeyName))
      byKey.set(entry.ContextKeyName, entry);
  return [...byKey.values()];
}
