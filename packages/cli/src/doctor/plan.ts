/**
 * What `gantry doctor` checks for one stage, as plain data: the function roles and the
 * statements each must allow, the registry's targets and alarms, the buckets, the key secrets
 * and the SES identities. Built from the same modules `sst deploy` builds the stage from
 * (`stacks/`), so doctor checks what was deployed, not a copy of it.
 */
import type { Registry, Stage } from "@gantry/core";
import { type AwsEnv, roleArn } from "@gantry/stacks/arns";
import { SCHEDULED_CANARY_STAGES } from "@gantry/stacks/catalog";
import { type InfraConfig, stageHasApprovals } from "@gantry/stacks/config";
import {
  defaultStateBucketName,
  functionRoleName,
  type KeySet,
  keySecretName,
} from "@gantry/stacks/names";
import {
  functionPermissions,
  type PolicyFunction,
  type PolicyStatement,
} from "@gantry/stacks/policy";

/** One function's role and what its function needs (its statements in `stacks/policy.ts`). */
export interface RolePlan {
  readonly fn: PolicyFunction;
  readonly roleName: string;
  readonly roleArn: string;
  readonly statements: readonly PolicyStatement[];
}

/** One registered service in this stage. */
export interface TargetPlan {
  readonly service: string;
  readonly functionName: string;
  readonly alias: string;
  readonly alarms: readonly string[];
}

export interface BucketPlan {
  readonly name: string;
  /** What it holds, for messages. */
  readonly what: "artifact" | "state";
}

export interface SecretPlan {
  readonly name: string;
  readonly set: KeySet;
}

export interface SesPlan {
  /** The SES identity mail is sent from (an address or a domain); absent: no mail. */
  readonly identity?: string;
  readonly sender?: string;
  /** True when a service asks for a human decision in this stage. */
  readonly approvals: boolean;
  /** Everyone approval mail goes to in this stage (sorted, once each). */
  readonly approvers: readonly string[];
}

export interface DoctorPlan {
  readonly stage: Stage;
  readonly env: AwsEnv;
  readonly roles: readonly RolePlan[];
  readonly targets: readonly TargetPlan[];
  /**
   * Whether check-alarms may read composite alarms: CloudWatch describes them only to a caller
   * allowed `cloudwatch:DescribeAlarms` on `"*"`.
   */
  readonly compositeAlarmsReadable: boolean;
  readonly buckets: readonly BucketPlan[];
  readonly secrets: readonly SecretPlan[];
  readonly ses: SesPlan;
}

/**
 * Whether a function exists in a stage: every one does, except the hourly canary outside its
 * stages (`stacks/catalog.ts`).
 */
export function existsInStage(fn: PolicyFunction, stage: Stage): boolean {
  return fn !== "scheduled-canary" || SCHEDULED_CANARY_STAGES.includes(stage);
}

/**
 * Everything doctor checks in one stage, from the registry, the stage's settings (as
 * `readConfig` reads them for `sst deploy`) and the account the caller is in.
 *
 * @example
 * ```ts
 * const plan = doctorPlan({ registry, config: readConfig("prod", env, registry), env: { partition: "aws", region: "us-east-1", accountId: "123456789012" } });
 * plan.roles.map((r) => r.roleName); // ["gantry-prod-validate-input", ...]
 * ```
 */
export function doctorPlan(input: {
  readonly registry: Registry;
  readonly config: InfraConfig;
  readonly env: AwsEnv;
}): DoctorPlan {
  const { registry, config, env } = input;
  const stage = config.stage;
  const stateBucket =
    config.stateBucket ?? defaultStateBucketName(stage, env.accountId, env.region);
  const permissions = functionPermissions({
    env,
    stage,
    registry,
    stateBucket,
    ...(config.senderIdentity ? { senderIdentity: config.senderIdentity } : {}),
    ...(config.preprodRoleArn ? { preprodRoleArn: config.preprodRoleArn } : {}),
  });
  const functions = (Object.keys(permissions) as PolicyFunction[]).filter((fn) =>
    existsInStage(fn, stage),
  );
  const roles = functions.map((fn): RolePlan => {
    const roleName = functionRoleName(stage, fn);
    return {
      fn,
      roleName,
      roleArn: roleArn(env.partition, env.accountId, roleName),
      statements: permissions[fn],
    };
  });
  const targets = Object.entries(registry.services).map(([service, definition]): TargetPlan => {
    const target = definition.stages[stage];
    return {
      service,
      functionName: target.functionName,
      alias: target.alias,
      alarms: target.alarms,
    };
  });
  const approvers = new Set<string>();
  for (const definition of Object.values(registry.services)) {
    for (const approver of definition.stages[stage].approval?.approvers ?? []) {
      approvers.add(approver);
    }
  }
  const compositeAlarmsReadable = permissions["check-alarms"].some(
    (statement) =>
      statement.effect === "allow" &&
      statement.actions.includes("cloudwatch:DescribeAlarms") &&
      statement.resources.includes("*"),
  );
  return {
    stage,
    env,
    roles,
    targets,
    compositeAlarmsReadable,
    buckets: [
      { name: registry.stages[stage].artifactBucket, what: "artifact" },
      { name: stateBucket, what: "state" },
    ],
    secrets: (["links", "decisions"] as const).map((set) => ({
      name: keySecretName(stage, set),
      set,
    })),
    ses: {
      ...(config.senderIdentity ? { identity: config.senderIdentity } : {}),
      ...(config.sender ? { sender: config.sender } : {}),
      approvals: stageHasApprovals(registry, stage),
      approvers: [...approvers].sort(),
    },
  };
}
