/**
 * doctor's plan (plan.ts): the roles, buckets, secrets and approvers a stage's checks look at,
 * from the stacks' own policies and the registry.
 */
import { describe, expect, it } from "vitest";
import { doctorPlan, type RolePlan } from "./plan.ts";
import { ENV, prodPlan, REGISTRY } from "./testing.ts";

const plan = prodPlan();
const role = (fn: string): RolePlan => {
  const found = plan.roles.find((r) => r.fn === fn);
  if (!found) throw new Error(`no role for ${fn}`);
  return found;
};

describe("the plan", () => {
  it("has every function's role, named and in the caller's account", () => {
    expect(plan.roles.map((r) => r.roleName)).toContain("gantry-prod-scheduled-canary");
    expect(role("deploy").roleArn).toBe("arn:aws:iam::123456789012:role/gantry-prod-deploy");
    const preprod = doctorPlan({
      registry: REGISTRY,
      env: ENV,
      config: { stage: "preprod", logLevel: "INFO", notifyEmails: [] },
    });
    // The hourly canary runs in prod only: preprod has no such role.
    expect(preprod.roles.map((r) => r.fn)).not.toContain("scheduled-canary");
    expect(preprod.roles).toHaveLength(plan.roles.length - 1);
    expect(preprod.ses).toEqual({ approvals: false, approvers: [] });
  });

  it("knows whether check-alarms may read composite alarms (DescribeAlarms on *)", () => {
    const reads = role("check-alarms").statements.some(
      (s) => s.actions.includes("cloudwatch:DescribeAlarms") && s.resources.includes("*"),
    );
    expect(plan.compositeAlarmsReadable).toBe(reads);
  });

  it("names the buckets, the key secrets and the approvers", () => {
    expect(plan.buckets).toEqual([
      { name: "acme-artifacts-prod", what: "artifact" },
      { name: "gantry-state-prod-123456789012-us-east-1", what: "state" },
    ]);
    expect(plan.secrets.map((s) => s.name)).toEqual([
      "gantry-prod-link-keys",
      "gantry-prod-decision-keys",
    ]);
    expect(plan.ses).toEqual({
      identity: "gantry@acme.dev",
      sender: "gantry@acme.dev",
      approvals: true,
      approvers: ["alice@example.com", "bob@example.com"],
    });
  });

  it("simulates what stacks/policy.ts grants, including the sender and a named state bucket", () => {
    const named = doctorPlan({
      registry: REGISTRY,
      env: ENV,
      config: {
        stage: "prod",
        sender: "gantry@acme.dev",
        senderIdentity: "acme.dev",
        stateBucket: "acme-gantry-state",
        preprodRoleArn: "arn:aws:iam::111111111111:role/gantry-preprod-verify-read",
        logLevel: "INFO",
        notifyEmails: [],
      },
    });
    const statements = (fn: string) => named.roles.find((r) => r.fn === fn)?.statements ?? [];
    expect(statements("approval-gate")).toContainEqual(
      expect.objectContaining({
        actions: ["ses:SendEmail"],
        resources: ["arn:aws:ses:us-east-1:123456789012:identity/acme.dev"],
      }),
    );
    expect(statements("verify-preprod").slice(1)).toEqual([
      expect.objectContaining({
        actions: ["sts:AssumeRole"],
        resources: ["arn:aws:iam::111111111111:role/gantry-preprod-verify-read"],
      }),
    ]);
    expect(named.buckets[1]?.name).toBe("acme-gantry-state");
  });
});
