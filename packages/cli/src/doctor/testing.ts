/**
 * Test helpers for doctor: a registry, a plan, the SDK clients (which the tests mock with
 * aws-sdk-client-mock), and an IAM simulator over the plan's own statements (what a role
 * deployed as `stacks/policy.ts` says decides), which tests then break on purpose.
 */
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import {
  type EvaluationResult,
  IAMClient,
  type SimulatePrincipalPolicyCommandInput,
} from "@aws-sdk/client-iam";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SESv2Client } from "@aws-sdk/client-sesv2";
import { STSClient } from "@aws-sdk/client-sts";
import type { Registry } from "@gantry/core";
import type { AwsEnv } from "@gantry/stacks/arns";
import type { InfraConfig } from "@gantry/stacks/config";
import type { PolicyStatement } from "@gantry/stacks/policy";
import type { DoctorClients } from "./checks.ts";
import { type DoctorPlan, doctorPlan } from "./plan.ts";

export const ENV: AwsEnv = { partition: "aws", region: "us-east-1", accountId: "123456789012" };

export const REGISTRY: Registry = {
  stages: {
    preprod: { sourceBucket: "acme-artifacts-preprod", artifactBucket: "acme-artifacts-preprod" },
    prod: { sourceBucket: "acme-artifacts-preprod", artifactBucket: "acme-artifacts-prod" },
  },
  services: {
    "hello-service": {
      canary: { checks: [{ name: "GET /", event: {}, expect: { statusCode: 200 } }] },
      stages: {
        preprod: {
          functionName: "hello-service-preprod",
          alias: "live",
          alarms: ["hello-service-preprod-errors"],
          rollout: { steps: [50], stepWaitSeconds: 60, pollSeconds: 20, bakeSeconds: 120 },
          verifyPreprod: false,
        },
        prod: {
          functionName: "hello-service-prod",
          alias: "live",
          alarms: ["hello-service-prod-errors"],
          rollout: { steps: [10, 50], stepWaitSeconds: 60, pollSeconds: 60, bakeSeconds: 600 },
          verifyPreprod: true,
          approval: {
            approvers: ["bob@example.com", "alice@example.com"],
            timeoutSeconds: 3600,
          },
        },
      },
    },
  },
};

/** The prod plan of {@link REGISTRY}, sender gantry@acme.dev unless `settings` say otherwise. */
export function prodPlan(settings: Partial<InfraConfig> = {}): DoctorPlan {
  return doctorPlan({
    registry: REGISTRY,
    env: ENV,
    config: {
      stage: "prod",
      sender: "gantry@acme.dev",
      senderIdentity: "gantry@acme.dev",
      logLevel: "INFO",
      notifyEmails: [],
      ...settings,
    },
  });
}

/** IAM's wildcard match: `*` any run of characters, `?` one, case-sensitive. */
export function arnMatches(pattern: string, value: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replaceAll("*", ".*")
    .replaceAll("?", ".");
  return new RegExp(`^${re}$`).test(value);
}

/** How statements decide one action on one resource, as IAM does (deny wins, else allow). */
export function decide(
  statements: readonly PolicyStatement[],
  action: string,
  resource: string,
): "allowed" | "explicitDeny" | "implicitDeny" {
  const matching = statements.filter(
    (s) =>
      s.actions.some((a) => a.toLowerCase() === action.toLowerCase()) &&
      s.resources.some((r) => arnMatches(r, resource)),
  );
  if (matching.some((s) => s.effect === "deny")) return "explicitDeny";
  return matching.some((s) => s.effect === "allow") ? "allowed" : "implicitDeny";
}

/**
 * A SimulatePrincipalPolicy stand-in: each role's policy is `policies[roleArn]`; answers in
 * IAM's current shape (one result per action, a ResourceSpecificResult per resource).
 */
export function simulator(policies: Readonly<Record<string, readonly PolicyStatement[]>>) {
  return (input: SimulatePrincipalPolicyCommandInput) => {
    const statements = policies[input.PolicySourceArn ?? ""];
    if (!statements) {
      throw Object.assign(
        new Error(`The role with name ${input.PolicySourceArn} cannot be found.`),
        {
          name: "NoSuchEntityException",
          $metadata: { httpStatusCode: 404 },
        },
      );
    }
    const results: EvaluationResult[] = (input.ActionNames ?? []).map((action) => {
      if (!input.ResourceArns) {
        // No resources: IAM simulates `*` and answers at the top level only.
        return {
          EvalActionName: action,
          EvalResourceName: "*",
          EvalDecision: decide(statements, action, "*"),
        };
      }
      const specific = input.ResourceArns.map((resource) => ({
        EvalResourceName: resource,
        EvalResourceDecision: decide(statements, action, resource),
      }));
      return {
        EvalActionName: action,
        EvalResourceName: "arn:partition:service:::resource-template",
        EvalDecision: specific.every((s) => s.EvalResourceDecision === "allowed")
          ? "allowed"
          : specific.some((s) => s.EvalResourceDecision === "explicitDeny")
            ? "explicitDeny"
            : "implicitDeny",
        ResourceSpecificResults: specific,
      };
    });
    return { EvaluationResults: results, IsTruncated: false };
  };
}

/** Every role of a plan with exactly the statements the plan says it needs. */
export function deployedPolicies(plan: DoctorPlan): Record<string, readonly PolicyStatement[]> {
  return Object.fromEntries(plan.roles.map((role) => [role.roleArn, role.statements]));
}

/** An SDK-like service error. */
export function awsError(name: string, status: number, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

/** The clients the checks get, in us-east-1: the tests mock each class with aws-sdk-client-mock. */
export function doctorClients(): DoctorClients {
  return {
    sts: new STSClient({ region: "us-east-1" }),
    iam: new IAMClient({ region: "us-east-1" }),
    cloudwatch: new CloudWatchClient({ region: "us-east-1" }),
    lambda: new LambdaClient({ region: "us-east-1" }),
    ses: new SESv2Client({ region: "us-east-1" }),
    s3: new S3Client({ region: "us-east-1" }),
    secrets: new SecretsManagerClient({ region: "us-east-1" }),
  };
}
