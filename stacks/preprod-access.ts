import type { Registry } from "@gantry/core";
import type { AwsEnv } from "./arns.ts";
import { PREPROD_READ_ROLE_NAME } from "./names.ts";
import { policyDocument, preprodReadStatements, preprodReadTrustPolicy } from "./policy.ts";

/**
 * When prod is a separate account, the preprod stage creates the read-only role the prod
 * VerifyPreprod assumes (GANTRY_PREPROD_ROLE_ARN in prod). It allows exactly the reads
 * VerifyPreprod makes; the preprod artifact bucket's policy separately lets prod's
 * CopyArtifact read the artifacts (bucket-settings.ts).
 *
 * @example
 * ```ts
 * const role = createPreprodReadRole({ env, registry, prodAccountId: "222222222222" });
 * ```
 */
export function createPreprodReadRole(args: {
  readonly env: AwsEnv;
  readonly registry: Registry;
  readonly prodAccountId: string;
}) {
  const statements = preprodReadStatements(args.registry, args.env);
  if (statements.length === 0) return undefined; // no service verifies preprod
  return new aws.iam.Role("PreprodReadRole", {
    name: PREPROD_READ_ROLE_NAME,
    description: "Gantry: what the prod VerifyPreprod may read in preprod",
    maxSessionDuration: 3600,
    assumeRolePolicy: JSON.stringify(
      preprodReadTrustPolicy(args.env.partition, args.prodAccountId),
    ),
    inlinePolicies: [
      { name: "verify-preprod-reads", policy: JSON.stringify(policyDocument(statements)) },
    ],
  });
}
