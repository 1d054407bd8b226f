import type { Stage } from "@gantry/core";
import { type AwsEnv, lambdaArn } from "./arns.ts";
import type { FunctionSetting, FunctionSpec } from "./catalog.ts";
import type { InfraConfig } from "./config.ts";
import { functionName, holdScheduleGroupName, type KeySet } from "./names.ts";
import { holdSchedulerRoleArn, METRICS_NAMESPACE } from "./policy.ts";

/**
 * The environment each function gets, as a plain function of its catalogue entry, the stage's
 * settings and the values other modules create: `stacks/functions.ts` passes it to SST as is,
 * and the contract tests (test/contract) run every handler in exactly this environment. No
 * Pulumi here: the values are generic, plain strings in tests and Pulumi inputs in the app.
 *
 * Optional settings are absent, not empty, when the stage does not configure them (a stage
 * without approvals has no GANTRY_SENDER; prod with preprod in the same account has no
 * GANTRY_PREPROD_ROLE_ARN): a function must not read them on a path that stage takes.
 */

/** What the functions point at that other modules create. */
export interface FunctionResources<V> {
  readonly stateBucket: V;
  /** The approval pages' URL: known once approval-http exists (approval-gate needs it). */
  readonly approvalUrl?: V;
  /** The key sets' Secrets Manager secrets (their ARNs). */
  readonly keySecretArns: Readonly<Record<KeySet, V>>;
  /** What holds' schedules need: their group, the function they invoke and Scheduler's role. */
  readonly holds: HoldResources<V>;
}

/** The hold scheduling resources a stage creates (see `holds.ts`). */
export interface HoldResources<V> {
  readonly scheduleGroup: V;
  readonly eventsFunctionArn: V;
  readonly schedulerRoleArn: V;
}

/**
 * A stage's hold scheduling resources, by their fixed names: plain strings, so the hold
 * function can point at hold-events and at Scheduler's role whichever is created first.
 *
 * @example
 * ```ts
 * holdResources(env, "prod").scheduleGroup; // "gantry-prod-holds"
 * ```
 */
export function holdResources(env: AwsEnv, stage: Stage): HoldResources<string> {
  return {
    scheduleGroup: holdScheduleGroupName(stage),
    eventsFunctionArn: lambdaArn(env, functionName(stage, "hold-events")),
    schedulerRoleArn: holdSchedulerRoleArn(env, stage),
  };
}

/** Powertools settings every function gets, whatever it reads. */
export function powertoolsEnvironment(config: Pick<InfraConfig, "logLevel">) {
  return {
    POWERTOOLS_SERVICE_NAME: "gantry",
    POWERTOOLS_LOG_LEVEL: config.logLevel,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    // Events carry task tokens: never log them, whatever else is configured.
    POWERTOOLS_LOGGER_LOG_EVENT: "false",
  };
}

function optional<V>(name: string, value: V | undefined): Record<string, V> {
  return value === undefined ? {} : { [name]: value };
}

/**
 * One function's environment in one stage: Powertools' settings plus the settings its
 * catalogue entry lists, each with the value the stage gives it (or left out when the stage
 * does not configure an optional one).
 *
 * @example
 * ```ts
 * const env = functionEnvironment(spec, "preprod", config, { stateBucket, approvalUrl, keySecretArns, holds });
 * env.GANTRY_SENDER; // undefined: preprod asks for no approval, so no sender is configured
 * ```
 */
export function functionEnvironment<V>(
  spec: Pick<FunctionSpec, "file" | "settings">,
  stage: Stage,
  config: Pick<InfraConfig, "logLevel" | "sender" | "preprodRoleArn">,
  resources: FunctionResources<V>,
): Record<string, string | V> {
  const settings: Record<FunctionSetting, () => Record<string, string | V>> = {
    GANTRY_STAGE: () => ({ GANTRY_STAGE: stage }),
    GANTRY_STATE_BUCKET: () => ({ GANTRY_STATE_BUCKET: resources.stateBucket }),
    GANTRY_APPROVAL_URL: () => {
      if (resources.approvalUrl === undefined)
        throw new Error(`${spec.file}: the approval endpoint must be created first`);
      return { GANTRY_APPROVAL_URL: resources.approvalUrl };
    },
    GANTRY_SENDER: () => optional("GANTRY_SENDER", config.sender),
    GANTRY_PREPROD_ROLE_ARN: () => optional("GANTRY_PREPROD_ROLE_ARN", config.preprodRoleArn),
    GANTRY_LINK_KEYS_SECRET: () => ({ GANTRY_LINK_KEYS_SECRET: resources.keySecretArns.links }),
    GANTRY_DECISION_KEYS_SECRET: () => ({
      GANTRY_DECISION_KEYS_SECRET: resources.keySecretArns.decisions,
    }),
    GANTRY_HOLD_SCHEDULE_GROUP: () => ({
      GANTRY_HOLD_SCHEDULE_GROUP: resources.holds.scheduleGroup,
    }),
    GANTRY_HOLD_EVENTS_ARN: () => ({ GANTRY_HOLD_EVENTS_ARN: resources.holds.eventsFunctionArn }),
    GANTRY_HOLD_SCHEDULER_ROLE_ARN: () => ({
      GANTRY_HOLD_SCHEDULER_ROLE_ARN: resources.holds.schedulerRoleArn,
    }),
  };
  return Object.assign(
    { ...powertoolsEnvironment(config) },
    ...spec.settings.map((setting) => settings[setting]()),
  );
}
