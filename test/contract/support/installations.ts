/**
 * Installations of Gantry (one stage as `sst deploy` sets it up) as the contract suites see
 * them: a stage, the accounts it and preprod live in, its settings read by the app's own
 * `readConfig`, and what the app derives from them with its own plain functions: each
 * function's environment (`functionEnvironment`), policy (`functionPermissions`), role, and
 * the buckets' and roles' resource policies.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Registry, Stage } from "@gantry/core";
import { type AwsEnv, roleArn } from "@gantry/stacks/arns";
import { artifactBucketSettings, stateBucketSettings } from "@gantry/stacks/bucket-settings";
import { type FunctionSpec, functionSpecs } from "@gantry/stacks/catalog";
import { type InfraConfig, readConfig } from "@gantry/stacks/config";
import { functionEnvironment, holdResources } from "@gantry/stacks/environment";
import {
  defaultStateBucketName,
  functionName,
  functionRoleName,
  type KeySet,
  keySecretName,
  PREPROD_READ_ROLE_NAME,
} from "@gantry/stacks/names";
import {
  functionPermissions,
  type PolicyDocument,
  type PolicyFunction,
  type PolicyStatement,
  preprodReadStatements,
  preprodReadTrustPolicy,
  stagePolicyContext,
} from "@gantry/stacks/policy";
import registry from "../../../gantry.registry.ts";

export const ROOT = path.resolve(import.meta.dirname, "../../..");
export const ASL = readFileSync(path.join(ROOT, "state-machines/workflow.asl.json"), "utf8");

/** The random six characters Secrets Manager appends to a secret's ARN. */
const SECRET_SUFFIX = "Xy12Zw";

export interface Installation {
  /** How the tests name it. */
  readonly name: string;
  readonly stage: Stage;
  /** Where each stage runs (one account, or preprod and prod apart). */
  readonly accounts: Readonly<Record<Stage, AwsEnv>>;
  readonly registry: Registry;
  /** This stage's settings, as `readConfig` reads them from the environment SST runs in. */
  readonly config: InfraConfig;
  /** The preprod stage's settings: its artifact bucket's policy depends on them. */
  readonly preprodConfig: InfraConfig;
  readonly stateBucket: string;
  readonly keySecretArns: Readonly<Record<KeySet, string>>;
  /** The approval pages' Function URL. */
  readonly approvalUrl: string;
}

/** This installation's own account. */
export function envOf(installation: Installation): AwsEnv {
  return installation.accounts[installation.stage];
}

/**
 * An installation of one stage, from the settings `sst deploy` would run with.
 *
 * @example
 * ```ts
 * installation("preprod", "preprod", {}, { accounts: ONE_ACCOUNT });
 * ```
 */
export function installation(
  name: string,
  stage: Stage,
  settings: Readonly<Record<string, string>>,
  options: {
    readonly accounts: Readonly<Record<Stage, AwsEnv>>;
    readonly preprodSettings?: Readonly<Record<string, string>>;
  },
): Installation {
  const env = options.accounts[stage];
  const secret = (set: KeySet) =>
    `arn:${env.partition}:secretsmanager:${env.region}:${env.accountId}:secret:${keySecretName(stage, set)}-${SECRET_SUFFIX}`;
  return {
    name,
    stage,
    accounts: options.accounts,
    registry,
    config: readConfig(stage, settings, registry),
    preprodConfig:
      stage === "preprod"
        ? readConfig(stage, settings, registry)
        : readConfig("preprod", options.preprodSettings ?? {}, registry),
    stateBucket: defaultStateBucketName(stage, env.accountId, env.region),
    keySecretArns: { links: secret("links"), decisions: secret("decisions") },
    approvalUrl: `https://${functionName(stage, "approval-http")}.lambda-url.${env.region}.on.aws/`,
  };
}

const REGION = "eu-west-1";
const PREPROD_ACCOUNT = "111111111111";
const PROD_ACCOUNT = "222222222222";

/** Both stages in one account. */
export const ONE_ACCOUNT: Readonly<Record<Stage, AwsEnv>> = {
  preprod: { partition: "aws", region: REGION, accountId: PREPROD_ACCOUNT },
  prod: { partition: "aws", region: REGION, accountId: PREPROD_ACCOUNT },
};

/** Preprod and prod in accounts of their own (docs/deploy.md, section 6). */
export const TWO_ACCOUNTS: Readonly<Record<Stage, AwsEnv>> = {
  preprod: { partition: "aws", region: REGION, accountId: PREPROD_ACCOUNT },
  prod: { partition: "aws", region: REGION, accountId: PROD_ACCOUNT },
};

export const PREPROD_READ_ROLE_ARN = roleArn("aws", PREPROD_ACCOUNT, PREPROD_READ_ROLE_NAME);

/** The catalogue entries of the installation's functions. */
export function specsOf(installation: Installation): FunctionSpec[] {
  return functionSpecs(ASL, installation.stage);
}

/** A function's environment exactly as the app gives it (stacks/environment.ts). */
export function stackEnvironment(
  installation: Installation,
  spec: Pick<FunctionSpec, "file" | "settings">,
): Record<string, string> {
  return functionEnvironment<string>(spec, installation.stage, installation.config, {
    stateBucket: installation.stateBucket,
    approvalUrl: installation.approvalUrl,
    keySecretArns: installation.keySecretArns,
    holds: holdResources(envOf(installation), installation.stage),
  });
}

/** What the Lambda runtime adds to every function's environment. */
export function runtimeEnvironment(
  installation: Installation,
  file: string,
): Record<string, string> {
  const { region } = envOf(installation);
  return {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EXECUTION_ENV: "AWS_Lambda_nodejs24.x",
    AWS_LAMBDA_FUNCTION_NAME: functionName(installation.stage, file),
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "512",
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName(installation.stage, file)}`,
    // The execution role's temporary credentials (fake: the mocked clients never sign).
    AWS_ACCESS_KEY_ID: "ASIAEXECUTIONROLEFAKE",
    AWS_SECRET_ACCESS_KEY: "fake",
    AWS_SESSION_TOKEN: "fake",
  };
}

/** Every function's statements, as the app builds them for this installation. */
export function permissionsOf(
  installation: Installation,
): Record<PolicyFunction, PolicyStatement[]> {
  return functionPermissions(
    stagePolicyContext({
      env: envOf(installation),
      stage: installation.stage,
      registry: installation.registry,
      stateBucket: installation.stateBucket,
      config: installation.config,
    }),
  );
}

/** A function's execution role. */
export function functionRoleArn(installation: Installation, file: string): string {
  const { partition, accountId } = envOf(installation);
  return roleArn(partition, accountId, functionRoleName(installation.stage, file));
}

/** The read role the preprod stage creates for a separate prod account, and its policy. */
export function preprodReadRole(installation: Installation): {
  readonly arn: string;
  readonly statements: PolicyStatement[];
} {
  return {
    arn: PREPROD_READ_ROLE_ARN,
    statements: preprodReadStatements(installation.registry, installation.accounts.preprod),
  };
}

/** A bucket's account and policy, as the app creates it (or none, for a bucket it does not). */
function bucketOwner(
  installation: Installation,
  bucket: string,
): { accountId: string; policy?: PolicyDocument } {
  const { accounts, registry: reg } = installation;
  if (bucket === installation.stateBucket) {
    const env = envOf(installation);
    return {
      accountId: env.accountId,
      policy: stateBucketSettings({
        stage: installation.stage,
        partition: env.partition,
        accountId: env.accountId,
        name: bucket,
      }).policy,
    };
  }
  for (const stage of ["prod", "preprod"] as const) {
    if (reg.stages[stage].artifactBucket !== bucket) continue;
    const env = accounts[stage];
    const prodAccountId =
      stage === "preprod" ? installation.preprodConfig.prodAccountId : undefined;
    return {
      accountId: env.accountId,
      policy: artifactBucketSettings({
        stage,
        registry: reg,
        partition: env.partition,
        accountId: env.accountId,
        ...(prodAccountId ? { prodAccountId } : {}),
      }).policy,
    };
  }
  // A build bucket Gantry does not create (preprod's sourceBucket, when it is another one).
  return { accountId: accounts.preprod.accountId };
}

/** The account a resource lives in, and its resource-based policy (bucket or trust policy). */
export function resourceOwner(
  installation: Installation,
  resource: string,
  callerAccount: string,
): { accountId: string; policy?: PolicyDocument } {
  if (resource === "*") return { accountId: callerAccount };
  const [, partition = "aws", service, , account, ...rest] = resource.split(":");
  if (service === "s3")
    return bucketOwner(installation, (rest.join(":").split("/")[0] ?? "") || "");
  if (service === "iam" && resource === PREPROD_READ_ROLE_ARN) {
    const prodAccountId = installation.preprodConfig.prodAccountId;
    return {
      accountId: account ?? callerAccount,
      ...(prodAccountId ? { policy: preprodReadTrustPolicy(partition, prodAccountId) } : {}),
    };
  }
  return { accountId: account || callerAccount };
}
