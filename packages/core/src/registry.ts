import { z } from "zod";

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
  /** Trigger actors whose deployments are approved by policy, e.g. `dependabot[bot]`. */
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

export interface Registry {
  readonly stages: Readonly<Record<Stage, StageSettings>>;
  readonly services: Readonly<Record<string, ServiceDefinition>>;
}

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,139}$/, "must be a resource name");
const bucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name");
const seconds = z
  .number()
  .int()
  .positive()
  .max(7 * 24 * 3600);
const email = z.string().regex(/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/, "must be an email address");

const rolloutSchema = z.strictObject({
  steps: z
    .array(z.number().int().min(1).max(99))
    .max(10)
    .refine((steps) => steps.every((s, i) => i === 0 || s > (steps[i - 1] ?? 0)), {
      message: "traffic steps must increase",
    }),
  stepWaitSeconds: seconds,
  pollSeconds: seconds,
  bakeSeconds: seconds,
});

const stageTargetSchema = z.strictObject({
  functionName: name,
  alias: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,127}$/, "must be a Lambda alias name"),
  alarms: z.array(name).max(20),
  rollout: rolloutSchema,
  verifyPreprod: z.boolean(),
  approval: z
    .strictObject({
      approvers: z.array(email).min(1).max(50),
      autoApproveActors: z.array(z.string().min(1).max(100)).max(20),
      timeoutSeconds: seconds,
    })
    .optional(),
});

const canarySchema = z.strictObject({
  checks: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(100),
        event: z.json(),
        expect: z.strictObject({
          statusCode: z.number().int().min(100).max(599).optional(),
          bodyIncludes: z.string().max(1000).optional(),
        }),
      }),
    )
    .min(1)
    .max(20),
});

const registrySchema = z.strictObject({
  stages: z.strictObject({
    preprod: z.strictObject({ sourceBucket: bucketName, artifactBucket: bucketName }),
    prod: z.strictObject({ sourceBucket: bucketName, artifactBucket: bucketName }),
  }),
  services: z.record(
    z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, "must be a service name"),
    z.strictObject({
      description: z.string().max(500).optional(),
      repositoryUrl: z.url({ protocol: /^https$/ }).optional(),
      artifactPrefix: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*\/$/, "must be a key prefix ending in /")
        .optional(),
      canary: canarySchema,
      stages: z.strictObject({ preprod: stageTargetSchema, prod: stageTargetSchema }),
    }),
  ),
});

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
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
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
    if (definition.stages.preprod.verifyPreprod) {
      throw new TypeError(`invalid service registry: ${service}.preprod cannot verify itself`);
    }
  }
  return registry;
}

/** The key prefix a service's artifacts must live under. */
export function artifactPrefixOf(registry: Registry, service: string): string {
  return registry.services[service]?.artifactPrefix ?? `${service}/`;
}
