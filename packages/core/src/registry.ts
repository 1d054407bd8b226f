import * as z from "zod/mini";
import { quotaProblems } from "./quotas.ts";

/**
 * The service registry: every policy decision Gantry makes comes from here, never from the
 * caller. It is code in the repository (`gantry.registry.ts`), reviewed like code and deployed
 * with the infrastructure.
 */
export const STAGES = ["preprod", "prod"] as const;
export type Stage = (typeof STAGES)[number];

/** One synthetic event sent to the new version, and what its response must look like. */
export interface CanaryCheck {
  readonly name: string;
  /** The event passed to the function, as JSON. */
  readonly event: unknown;
  readonly expect: {
    /** Expected `statusCode` field of the function's JSON response. */
    readonly statusCode?: number;
    /** Text the response body (or the whole payload) must contain. */
    readonly bodyIncludes?: string;
  };
}

/** Shared by the Canary step of a deployment and the hourly scheduled canary. */
export interface CanarySpec {
  readonly checks: readonly CanaryCheck[];
}

export interface RolloutPolicy {
  /** Traffic percentages given to the new version before it is promoted to 100%. */
  readonly steps: readonly number[];
  /** How long each traffic step is held (and watched) before the next. */
  readonly stepWaitSeconds: number;
  /** How often alarms are checked during steps and bake. */
  readonly pollSeconds: number;
  /** How long the new version runs at 100% under watch before the deployment succeeds. */
  readonly bakeSeconds: number;
}

export interface ApprovalPolicy {
  /** Email addresses of the people allowed to decide. */
  readonly approvers: readonly string[];
  /**
   * Trigger actors whose deployments would be approved by policy, e.g. `dependabot[bot]`.
   * Inactive: a StartExecution input's actor is the caller's claim, and Gantry never skips an
   * approval on a claim. These rules will apply to verified triggers only (docs/security.md);
   * until then every deployment of a stage with an approval waits for a person.
   */
  readonly autoApproveActors: readonly string[];
  /** How long approvers have to decide before the deployment fails with ApprovalTimedOut. */
  readonly timeoutSeconds: number;
}

/** Where and how one service is deployed in one stage. */
export interface StageTarget {
  readonly functionName: string;
  readonly alias: string;
  /** CloudWatch alarms that stop the rollout when any of them is in ALARM. */
  readonly alarms: readonly string[];
  readonly rollout: RolloutPolicy;
  /** Require proof that preprod ran and passed these exact bytes. */
  readonly verifyPreprod: boolean;
  /** Require a human decision; absent means no approval step. */
  readonly approval?: ApprovalPolicy;
}

export interface ServiceDefinition {
  readonly description?: string;
  /** Used for commit links in approval emails: `${repositoryUrl}/commit/${version}`. */
  readonly repositoryUrl?: string;
  /** Artifact keys for this service must start with this prefix. Defaults to `<service>/`. */
  readonly artifactPrefix?: string;
  readonly canary: CanarySpec;
  readonly stages: Readonly<Record<Stage, StageTarget>>;
}

export interface StageSettings {
  /** The bucket artifacts are taken from: where CI publishes (preprod) or preprod's bucket (prod). */
  readonly sourceBucket: string;
  /** This stage's own artifact bucket; Lambda code is deployed from here. */
  readonly artifactBucket: string;
}

/**
 * The identities that prove an approver is who they say at a terminal (`gantry approve`).
 * `iam`: IAM principal ARNs exactly as AWS reports the caller of a SigV4-signed request (an IAM
 * user `arn:aws:iam::<account>:user/<name>`, a role, or an assumed-role session
 * `arn:aws:sts::<account>:assumed-role/<role>/<session>`). `local`: the local control plane's
 * operator, who proves it by holding GANTRY_HOME's operator secret.
 */
export interface OperatorIdentities {
  readonly iam?: readonly string[];
  readonly local?: boolean;
}

export interface Registry {
  readonly stages: Readonly<Record<Stage, StageSettings>>;
  readonly services: Readonly<Record<string, ServiceDefinition>>;
  /** Approvers who may also decide at a terminal, by approver email; none when absent. */
  readonly operators?: Readonly<Record<string, OperatorIdentities>>;
}

// zod/mini (tree-shakable): checks are explicit, and messages are ours (no locale bundle).
const text = (min: number, max: number) =>
  z
    .string()
    .check(
      z.minLength(min, `must be ${min} to ${max} characters`),
      z.maxLength(max, `must be ${min} to ${max} characters`),
    );
const pattern = (re: RegExp, message: string) => z.string().check(z.regex(re, message));
const integer = (min: number, max: number) =>
  z
    .int(`must be a whole number from ${min} to ${max}`)
    .check(z.minimum(min, `must be at least ${min}`), z.maximum(max, `must be at most ${max}`));
const list = <T extends z.ZodMiniType>(item: T, min: number, max: number) =>
  z
    .array(item)
    .check(
      z.minLength(min, `must have at least ${min} entries`),
      z.maxLength(max, `must have at most ${max} entries`),
    );

const name = pattern(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,139}$/, "must be a resource name");
const bucketName = pattern(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name");
const seconds = integer(1, 7 * 24 * 3600);
const email = z
  .string()
  .check(
    z.maxLength(254, "must be an email address (at most 254 characters)"),
    z.regex(/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/, "must be an email address"),
  );

const rolloutSchema = z.strictObject({
  steps: list(integer(1, 99), 0, 10).check(
    z.refine(
      (steps) => steps.every((s, i) => i === 0 || s > (steps[i - 1] ?? 0)),
      "traffic steps must increase",
    ),
  ),
  stepWaitSeconds: seconds,
  pollSeconds: seconds,
  bakeSeconds: seconds,
});

const stageTargetSchema = z.strictObject({
  functionName: name,
  alias: pattern(/^[A-Za-z][A-Za-z0-9_-]{0,127}$/, "must be a Lambda alias name"),
  alarms: list(name, 0, 20),
  rollout: rolloutSchema,
  verifyPreprod: z.boolean("must be true or false"),
  approval: z.optional(
    z.strictObject({
      approvers: list(email, 1, 50),
      autoApproveActors: list(text(1, 100), 0, 20),
      timeoutSeconds: seconds,
    }),
  ),
});

const canarySchema = z.strictObject({
  checks: list(
    z.strictObject({
      name: text(1, 100),
      event: z.json(),
      expect: z.strictObject({
        statusCode: z.optional(integer(100, 599)),
        bodyIncludes: z.optional(text(0, 1000)),
      }),
    }),
    1,
    20,
  ),
});

/** IAM users, roles and assumed-role sessions, as the caller's identity reads in AWS. */
const iamPrincipal = pattern(
  /^arn:aws[a-z-]*:(iam::\d{12}:(user|role)\/[\w+=,.@/-]{1,512}|sts::\d{12}:assumed-role\/[\w+=,.@-]{1,64}\/[\w+=,.@-]{2,64})$/,
  "must be an IAM user, role or assumed-role session ARN",
);

const registrySchema = z.strictObject({
  stages: z.strictObject({
    preprod: z.strictObject({ sourceBucket: bucketName, artifactBucket: bucketName }),
    prod: z.strictObject({ sourceBucket: bucketName, artifactBucket: bucketName }),
  }),
  services: z.record(
    pattern(/^[a-z][a-z0-9-]{0,39}$/, "must be a service name"),
    z.strictObject({
      description: z.optional(text(0, 500)),
      repositoryUrl: z.optional(z.url({ protocol: /^https$/, error: "must be an https URL" })),
      artifactPrefix: z.optional(
        pattern(/^[A-Za-z0-9][A-Za-z0-9._/-]*\/$/, "must be a key prefix ending in /"),
      ),
      canary: canarySchema,
      stages: z.strictObject({ preprod: stageTargetSchema, prod: stageTargetSchema }),
    }),
  ),
  operators: z.optional(
    z.record(
      email,
      z.strictObject({
        iam: z.optional(list(iamPrincipal, 0, 20)),
        local: z.optional(z.boolean("must be true or false")),
      }),
    ),
  ),
});

/** Largest canary spec of a service, in bytes of JSON (it is part of every execution's plan). */
export const MAX_CANARY_SPEC_BYTES = 16 * 1024;

/**
 * Checks a registry and returns it typed. Called at import time of `gantry.registry.ts`, so a
 * bad registry fails the build and the tests, never a deployment halfway.
 *
 * @example
 * ```ts
 * import { defineRegistry } from "@gantry/core";
 * export default defineRegistry({
 *   stages: {
 *     preprod: { sourceBucket: "acme-artifacts-preprod", artifactBucket: "acme-artifacts-preprod" },
 *     prod: { sourceBucket: "acme-artifacts-preprod", artifactBucket: "acme-artifacts-prod" },
 *   },
 *   services: {},
 * });
 * ```
 */
export function defineRegistry(registry: Registry): Registry {
  const parsed = registrySchema.safeParse(registry);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${describeIssue(i)}`);
    throw new TypeError(`invalid service registry:\n  ${problems.join("\n  ")}`);
  }
  for (const [service, definition] of Object.entries(registry.services)) {
    for (const stage of STAGES) {
      const target = definition.stages[stage];
      if (target.approval && target.approval.timeoutSeconds < 60) {
        throw new TypeError(
          `invalid service registry: ${service}.${stage}: approval timeout under 60 s`,
        );
      }
    }
    const canaryBytes = Buffer.byteLength(JSON.stringify(definition.canary));
    if (canaryBytes > MAX_CANARY_SPEC_BYTES) {
      throw new TypeError(
        `invalid service registry: ${service}.canary is ${canaryBytes} bytes of JSON, at most ` +
          `${MAX_CANARY_SPEC_BYTES}: it travels in every execution's state (Step Functions caps a state at 256 KB)`,
      );
    }
    for (const stage of STAGES) {
      const problems = quotaProblems(definition, stage);
      if (problems.length > 0) {
        throw new TypeError(
          `invalid service registry: ${service}.${stage}: ${problems.join("; ")}`,
        );
      }
    }
    if (definition.stages.preprod.verifyPreprod) {
      throw new TypeError(`invalid service registry: ${service}.preprod cannot verify itself`);
    }
  }
  return registry;
}

/** zod/mini carries no messages of its own: name the generic problems here. */
function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys")
    return `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
  if (issue.code === "invalid_type") return `must be ${issue.expected}`;
  if (issue.code === "invalid_key")
    return "must be a service name: lowercase letters, digits, dashes";
  return issue.message;
}

/**
 * The registered service of that name, or undefined. Own properties only: a name that comes
 * from a request ("constructor", "__proto__", "toString") must never reach `Object.prototype`.
 *
 * @example
 * ```ts
 * serviceOf(registry, "hello-service")?.stages.prod.functionName; // "hello-prod"
 * serviceOf(registry, "constructor"); // undefined
 * ```
 */
export function serviceOf(registry: Registry, service: string): ServiceDefinition | undefined {
  return Object.hasOwn(registry.services, service) ? registry.services[service] : undefined;
}

/** The key prefix a service's artifacts must live under. */
export function artifactPrefixOf(registry: Registry, service: string): string {
  return serviceOf(registry, service)?.artifactPrefix ?? `${service}/`;
}
