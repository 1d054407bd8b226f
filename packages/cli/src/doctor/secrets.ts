/** doctor's secret checks: the key secrets exist and have a current value (never read). */
import { DescribeSecretCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { Stage } from "@gantry/core";
import type { SecretPlan } from "./plan.ts";
import {
  type CheckResult,
  callerNeeds,
  describeError,
  errorName,
  isAccessDenied,
} from "./result.ts";

/** The SST secrets each key set's Secrets Manager secret is written from. */
const SST_SECRETS: Readonly<Record<SecretPlan["set"], string>> = {
  links: "ApprovalSigningKey",
  decisions: "ApprovalDecisionKey",
};

/**
 * A key secret exists, is not scheduled for deletion and has a current version
 * (DescribeSecret: its value is never read).
 *
 * @example
 * ```ts
 * const result = await checkSecret(secrets, { name: "gantry-prod-link-keys", set: "links" }, "prod");
 * ```
 */
export async function checkSecret(
  secrets: SecretsManagerClient,
  secret: SecretPlan,
  stage: Stage,
): Promise<CheckResult> {
  const base = { check: "secret" as const, subject: secret.name };
  const set = `npx sst secret set ${SST_SECRETS[secret.set]} "$(openssl rand -base64 32)" --stage ${stage}, then npx sst deploy --stage ${stage}`;
  try {
    const out = await secrets.send(new DescribeSecretCommand({ SecretId: secret.name }));
    if (out.DeletedDate) {
      return {
        ...base,
        status: "fail",
        message: `scheduled for deletion (${out.DeletedDate.toISOString()}): approvals would fail`,
        fix: `aws secretsmanager restore-secret --secret-id ${secret.name}, or redeploy: npx sst deploy --stage ${stage}`,
      };
    }
    const current = Object.values(out.VersionIdsToStages ?? {}).some((stages) =>
      stages.includes("AWSCURRENT"),
    );
    if (!current) {
      return {
        ...base,
        status: "fail",
        message: "has no current value (no version labelled AWSCURRENT)",
        fix: set,
      };
    }
    const changed = out.LastChangedDate
      ? ` (last changed ${out.LastChangedDate.toISOString()})`
      : "";
    return { ...base, status: "ok", message: `set${changed}` };
  } catch (error) {
    if (errorName(error) === "ResourceNotFoundException") {
      return { ...base, status: "fail", message: "does not exist", fix: set };
    }
    return {
      ...base,
      status: "fail",
      message: `cannot describe it: ${describeError(error)}`,
      ...(isAccessDenied(error) ? { fix: callerNeeds("secretsmanager:DescribeSecret") } : {}),
    };
  }
}
