import * as z from "zod/mini";
import { quotaProblems } from "./quotas.ts";
import { actorSchema } from "./request.ts";
import type { AutoApproveRule } from "./trigger/claims.ts";

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
  /**
   * How often the polling design (the bench's baseline, test/bench/designs/) reads the alarms.
   * Event-driven holds do not poll: an alarm entering ALARM ends a hold at once, and its end is
   * scheduled. Kept so registries stay valid and the two designs compare on one policy.
   */
  readonly pollSeconds: number;
  /** How long the new version runs at 100% under watch before the deployment succeeds. */
  readonly bakeSeconds: number;
}

export interface ApprovalPolicy {
  /** Email addresses of the people allowed to decide. */
  readonly approvers: readonly string[];
  /**
   * Deployments approved by policy, matched on the trigger's verified claims only (an OIDC ID
   * token checked by ValidateInput), never on what the caller wrote: e.g.
   * `{ actor: "dependabot[bot]", ref: "refs/heads/main" }`. An unverified trigger always waits
   * for a person. Absent: none.
   */
  readonly autoApprove?: readonly AutoApproveRule[];
  /** How long approvers have to decide before the deployment fails with ApprovalTimedOut. */
  readonly timeoutSeconds: number;
}

/**
 * What a hold that ends with too few requests for a verdict does: send the canary spec's events
 * to each short version until it has enough (at most `maxSyntheticRequests` each), hold once more
 * for the same time, or fail the deployment with InsufficientData. Whichever is chosen, a
 * deployment never passes on "no data".
 */
export type WhenInsufficient = "synthesize" | "extend" | "fail";

/**
 * Version-aware canary analysis (docs/operations.md, "Version analysis"): at the end of every
 * hold the new version's own metrics (Lambda's `ExecutedVersion` dimension) are compared with the
 * previous version's over the same window. The alias's alarms still apply; this is a second gate
 * that a failure diluted by a small traffic share cannot slip through.
 */
export interface AnalysisPolicy {
  /**
   * Confidence of the error-rate test (one-sided Fisher exact test: is the new version's failure
   * rate higher than the previous version's?). Default 0.95.
   */
  readonly confidence?: number;
  /** Largest tolerated rise of the failure rate, in percentage points. Default 1. */
  readonly maxErrorRateIncrease?: number;
  /** Largest tolerated ratio of p99 durations, new over previous. Default 1.2. */
  readonly maxLatencyRatio?: number;
  /**
   * A p99 rise of at most this many milliseconds is never a regression, whatever the ratio
   * (0.2 ms against 0.1 ms is noise, not a slower version). Default 5.
   */
  readonly minLatencyIncreaseMs?: number;
  /** Requests each version needs in the window before there is any verdict. Default 100. */
  readonly minRequests?: number;
  /** What a hold that ends short of `minRequests` does. Default "synthesize". */
  readonly whenInsufficient?: WhenInsufficient;
  /** Most synthetic requests sent to one version at the end of one hold. Default 200. */
  readonly maxSyntheticRequests?: number;
}

/** {@link AnalysisPolicy} with every default filled in, as the plan carries it. */
export type ResolvedAnalysisPolicy = Required<AnalysisPolicy>;

/** The defaults a careful user would pick (issue 17): +1 point at 95%, p99 at most 1.2x. */
export const ANALYSIS_DEFAULTS: ResolvedAnalysisPolicy = {
  confidence: 0.95,
  maxErrorRateIncrease: 1,
  maxLatencyRatio: 1.2,
  minLatencyIncreaseMs: 5,
  minRequests: 100,
  whenInsufficient: "synthesize",
  maxSyntheticRequests: 200,
};

/** The stage's analysis policy with defaults filled in; undefined when the stage has none. */
export function resolveAnalysisPolicy(
  policy: AnalysisPolicy | undefined,
): ResolvedAnalysisPolicy | undefined {
  if (!policy) return undefined;
  const defined = Object.fromEntries(Object.entries(policy).filter(([, v]) => v !== undefined));
  return { ...ANALYSIS_DEFAULTS, ...defined };
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
  /**
   * Accept a StartExecution input without an OIDC ID token (the trigger is then shown as
   * unverified everywhere). Absent or false: a request without a token is InvalidInput.
   */
  readonly allowUnverifiedTrigger?: boolean;
  /**
   * Judge the new version by its own numbers at the end of every hold (version-aware canary
   * analysis); `{}` takes every default. Absent: only the alarms judge, as before.
   */
  readonly analysis?: AnalysisPolicy;
}

export interface ServiceDefinition {
  readonly description?: string;
  /** Used for commit links in approval emails: `${repositoryUrl}/commit/${version}`. */
  readonly repositoryUrl?: string;
  /**
   * The GitHub repository (`owner/name`) whose workflows may deploy this service: an ID token's
   * `repository` claim must equal it. Required for a service that accepts tokens.
   */
  readonly repository?: string;
  /** GitHub's numeric repository id; when set, the token's `repository_id` must equal it. */
  readonly repositoryId?: string;
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
  /** Which OIDC ID tokens prove a trigger in this stage (defaults: GitHub Actions, `gantry-<stage>`). */
  readonly oidc?: {
    /** Default `https://token.actions.githubusercontent.com`. The local plane uses its own issuer. */
    readonly issuer?: string;
    /** The `aud` CI requests for this stage. Default `gantry-<stage>`; make it unique to your installation. */
    readonly audience?: string;
  };
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

/**
 * One auto-approval rule: every field optional, at least one given (an empty rule would approve
 * every verified deployment). A ref may end in one `*` (a prefix), never be only `*`.
 */
const autoApproveRuleSchema = z
  .strictObject({
    actor: z.optional(actorSchema),
    ref: z.optional(
      pattern(
        /^[!-)+-~]{1,255}\*?$/,
        "must be a git ref such as refs/heads/main, or a prefix ending in one * (refs/heads/release/*)",
      ),
    ),
    workflow: z.optional(
      pattern(
        /^[!-?A-~]{1,300}$/,
        "must be a workflow path without @ref, e.g. acme/app/.github/workflows/ci.yml",
      ),
    ),
    eventName: z.optional(pattern(/^[a-z_]{1,50}$/, "must be a GitHub event name, e.g. push")),
    environment: z.optional(text(1, 255)),
  })
  .check(
    z.refine(
      (rule) => Object.values(rule).some((value) => value !== undefined),
      "a rule needs at least one field (actor, ref, workflow, eventName, environment): an empty rule would approve everything",
    ),
  );

/** An OIDC issuer: https, or http on this machine only (the local control plane's issuer). */
const issuerUrl = z.string().check(
  z.maxLength(500, "must be at most 500 characters"),
  z.refine((value) => {
    try {
      const url = new URL(value);
      const local = url.hostname === "127.0.0.1" || url.hostname === "localhost";
      const scheme = url.protocol === "https:" || (url.protocol === "http:" && local);
      return scheme && !url.username && !url.password && !url.search && !url.hash;
    } catch {
      return false;
    }
  }, "must be an https URL (http only on 127.0.0.1 or localhost), without credentials, query or fragment"),
);

const stageSettingsSchema = z.strictObject({
  sourceBucket: bucketName,
  artifactBucket: bucketName,
  oidc: z.optional(
    z.strictObject({ issuer: z.optional(issuerUrl), audience: z.optional(text(1, 200)) }),
  ),
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
      autoApprove: z.optional(list(autoApproveRuleSchema, 0, 20)),
      timeoutSeconds: seconds,
    }),
  ),
  allowUnverifiedTrigger: z.optional(z.boolean("must be true or false")),
  analysis: z.optional(
    z.strictObject({
      confidence: z.optional(
        z
          .number("must be a number")
          .check(
            z.gte(0.5, "must be from 0.5 to 0.9999"),
            z.lte(0.9999, "must be from 0.5 to 0.9999"),
          ),
      ),
      maxErrorRateIncrease: z.optional(
        z
          .number("must be a number")
          .check(z.gte(0, "must be from 0 to 100"), z.lte(100, "must be from 0 to 100")),
      ),
      maxLatencyRatio: z.optional(
        z
          .number("must be a number")
          .check(z.gte(1, "must be from 1 to 10"), z.lte(10, "must be from 1 to 10")),
      ),
      minLatencyIncreaseMs: z.optional(
        z
          .number("must be a number")
          .check(z.gte(0, "must be from 0 to 60000"), z.lte(60_000, "must be from 0 to 60000")),
      ),
      minRequests: z.optional(integer(1, 1_000_000)),
      whenInsufficient: z.optional(
        z.enum(["synthesize", "extend", "fail"], 'must be "synthesize", "extend" or "fail"'),
      ),
      maxSyntheticRequests: z.optional(integer(0, 1000)),
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
    preprod: stageSettingsSchema,
    prod: stageSettingsSchema,
  }),
  services: z.record(
    pattern(/^[a-z][a-z0-9-]{0,39}$/, "must be a service name"),
    z.strictObject({
      description: z.optional(text(0, 500)),
      repositoryUrl: z.optional(z.url({ protocol: /^https$/, error: "must be an https URL" })),
      repository: z.optional(
        pattern(
          /^[A-Za-z0-9][A-Za-z0-9-]{0,38}\/[A-Za-z0-9._-]{1,100}$/,
          "must be a GitHub repository: owner/name",
        ),
      ),
      repositoryId: z.optional(
        pattern(/^[1-9][0-9]{0,19}$/, "must be GitHub's numeric repository id, as text"),
      ),
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
    for (const stage of STAGES) {
      // The repository is what every rule implicitly matches: without it no token can pass.
      if (
        (definition.stages[stage].approval?.autoApprove?.length ?? 0) > 0 &&
        !definition.repository
      ) {
        throw new TypeError(
          `invalid service registry: ${service}.${stage}: autoApprove rules need the service's ` +
            "repository (owner/name), which every verified token is checked against",
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
  if (issue.code === "unrecognized_keys") {
    const unknown = `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
    return issue.keys.includes("autoApproveActors")
      ? `${unknown}: it was replaced by autoApprove rules, which match verified claims only ` +
          '(e.g. autoApprove: [{ actor: "dependabot[bot]", ref: "refs/heads/main" }])'
      : unknown;
  }
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

/** The OIDC issuer tokens for a stage come from when the registry names none: GitHub Actions. */
export const DEFAULT_OIDC_ISSUER = "https://token.actions.githubusercontent.com";

/**
 * The issuer and audience an ID token must carry to start a deployment in this stage: the
 * stage's `oidc` settings, else GitHub Actions' issuer and `gantry-<stage>`.
 *
 * @example
 * ```ts
 * oidcSettingsOf(registry, "prod"); // { issuer: "https://token.actions.githubusercontent.com", audience: "gantry-prod" }
 * ```
 */
export function oidcSettingsOf(
  registry: Registry,
  stage: Stage,
): { readonly issuer: string; readonly audience: string } {
  const oidc = registry.stages[stage].oidc;
  return {
    issuer: oidc?.issuer ?? DEFAULT_OIDC_ISSUER,
    audience: oidc?.audience ?? `gantry-${stage}`,
  };
}

/** The key prefix a service's artifacts must live under. */
export function artifactPrefixOf(registry: Registry, service: string): string {
  return serviceOf(registry, service)?.artifactPrefix ?? `${service}/`;
}
