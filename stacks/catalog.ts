import {
  FUNCTION_CATALOG,
  type FunctionFile,
  STAGES,
  type Stage,
  type WorkflowFunctionKey,
} from "@gantry/core";

/**
 * Every Lambda Gantry deploys, as plain data: the function catalogue of `@gantry/core` (which
 * file, which Task, what it does) with how long each may run, which settings it reads and in
 * which stages it exists. `stacks/functions.ts` builds the functions from this; the infra tests
 * check it against the ASL and against what each `functions/<name>.ts` reads.
 */

/**
 * The settings a function can read, by the environment variable that carries each (see
 * packages/aws/src/config.ts and secrets.ts). The two key settings name a Secrets Manager
 * secret (its ARN); the keys themselves are read at run time and never sit in the environment.
 */
export type FunctionSetting =
  | "GANTRY_STAGE"
  | "GANTRY_STATE_BUCKET"
  | "GANTRY_APPROVAL_URL"
  | "GANTRY_SENDER"
  | "GANTRY_PREPROD_ROLE_ARN"
  /** The link signing keys' secret: approval-gate signs links, approval-http verifies them. */
  | "GANTRY_LINK_KEYS_SECRET"
  /** The decision keys' secret: the approval path seals decisions, VerifyApproval checks them. */
  | "GANTRY_DECISION_KEYS_SECRET"
  /** The stage's Scheduler group: hold creates holds' schedules in it, hold-events cancels them. */
  | "GANTRY_HOLD_SCHEDULE_GROUP"
  /** What a hold's schedule invokes: the hold-events function's ARN. */
  | "GANTRY_HOLD_EVENTS_ARN"
  /** The role Scheduler assumes to invoke it (hold passes it with each schedule). */
  | "GANTRY_HOLD_SCHEDULER_ROLE_ARN";

export interface FunctionSpec {
  /** File name in functions/ without `.ts`; also the suffix of the function's name. */
  readonly file: FunctionFile;
  /** The Pulumi/SST component name. */
  readonly component: string;
  readonly description: string;
  /** The ASL Task(s) it serves, if any. */
  readonly workflowKey?: WorkflowFunctionKey;
  readonly timeoutSeconds: number;
  readonly settings: readonly FunctionSetting[];
  readonly stages: readonly Stage[];
}

/** What Lambda allows at most. */
export const MAX_LAMBDA_TIMEOUT_SECONDS = 900;

/** Memory of every function: enough CPU for a quick cold start; the work is all AWS calls. */
export const FUNCTION_MEMORY_MB = 512;

type AslState = {
  Type?: string;
  Resource?: string;
  TimeoutSeconds?: number;
  Parameters?: { FunctionName?: string };
};

/**
 * The Task timeouts of the ASL, per workflow function: the longest of the Tasks that call it.
 * Functions get the same timeout as their Task, so a slow call fails in Lambda, with its
 * logs, rather than only in Step Functions. Tasks with `TimeoutSecondsPath` (the approval wait)
 * are not bounded by their Lambda and are left out.
 *
 * @example
 * ```ts
 * taskTimeouts(aslText).CopyArtifact; // 900
 * ```
 */
export function taskTimeouts(aslText: string): Partial<Record<WorkflowFunctionKey, number>> {
  const asl = JSON.parse(aslText) as { States: Record<string, AslState> };
  const timeouts: Partial<Record<WorkflowFunctionKey, number>> = {};
  for (const state of Object.values(asl.States)) {
    if (state.Type !== "Task" || state.TimeoutSeconds === undefined) continue;
    const reference = state.Parameters?.FunctionName ?? state.Resource ?? "";
    const key = /^\$\{([A-Za-z]+)FunctionArn\}$/.exec(reference)?.[1] as
      | WorkflowFunctionKey
      | undefined;
    if (!key) continue;
    timeouts[key] = Math.max(timeouts[key] ?? 0, state.TimeoutSeconds);
  }
  return timeouts;
}

/**
 * The hourly canary exercises prod, as the design says (and as the local control plane does);
 * preprod is exercised by every build's deployment and tests.
 */
export const SCHEDULED_CANARY_STAGES: readonly Stage[] = ["prod"];

/** What the catalogue does not say about a function: how it is deployed. */
interface Deployment {
  /** The settings it reads (checked against the sources by the infra tests). */
  readonly settings: readonly FunctionSetting[];
  /** The stages it exists in (default: every stage). */
  readonly stages?: readonly Stage[];
}

/**
 * A function's deployment: a function that no Task calls says how long it may run; a workflow
 * function gets its Task's TimeoutSeconds unless it says otherwise.
 */
type DeploymentOf<E extends (typeof FUNCTION_CATALOG)[number]> = E extends { readonly task: string }
  ? Deployment & { readonly timeoutSeconds?: number }
  : Deployment & { readonly timeoutSeconds: number };

/** Every function of the catalogue (a missing or an extra one is a type error). */
const DEPLOYMENTS: {
  readonly [E in (typeof FUNCTION_CATALOG)[number] as E["file"]]: DeploymentOf<E>;
} = {
  "validate-input": { settings: ["GANTRY_STAGE"] },
  "acquire-lock": { settings: ["GANTRY_STATE_BUCKET"] },
  "verify-preprod": { settings: ["GANTRY_PREPROD_ROLE_ARN"] },
  "approval-gate": {
    // The approval wait is the Task's; the Lambda only stores the request and sends mail.
    timeoutSeconds: 60,
    settings: [
      "GANTRY_STATE_BUCKET",
      "GANTRY_APPROVAL_URL",
      "GANTRY_SENDER",
      "GANTRY_LINK_KEYS_SECRET",
    ],
  },
  "verify-approval": { settings: ["GANTRY_STATE_BUCKET", "GANTRY_DECISION_KEYS_SECRET"] },
  "copy-artifact": { settings: [] },
  deploy: { settings: [] },
  canary: { settings: [] },
  "check-alarms": { settings: [] },
  hold: {
    // The hold is the Task's (TimeoutSecondsPath); the Lambda only writes the watch, creates
    // the schedule and reads the alarms once.
    timeoutSeconds: 60,
    settings: [
      "GANTRY_STATE_BUCKET",
      "GANTRY_HOLD_SCHEDULE_GROUP",
      "GANTRY_HOLD_EVENTS_ARN",
      "GANTRY_HOLD_SCHEDULER_ROLE_ARN",
    ],
  },
  promote: { settings: [] },
  rollback: { settings: [] },
  finish: { settings: ["GANTRY_STATE_BUCKET"] },
  "approval-http": {
    timeoutSeconds: 30,
    // Verifies links with the link keys; seals the decision with the decision key.
    settings: ["GANTRY_STATE_BUCKET", "GANTRY_LINK_KEYS_SECRET", "GANTRY_DECISION_KEYS_SECRET"],
  },
  "approval-operator": {
    timeoutSeconds: 30,
    // GANTRY_STAGE: `gantry unlock` names the stage, and a lock of another stage is refused.
    settings: ["GANTRY_STAGE", "GANTRY_STATE_BUCKET", "GANTRY_DECISION_KEYS_SECRET"],
  },
  // One alarm event ends every hold watching it: a few S3 and Step Functions calls each.
  "hold-events": {
    timeoutSeconds: 60,
    settings: ["GANTRY_STATE_BUCKET", "GANTRY_HOLD_SCHEDULE_GROUP"],
  },
  reconcile: { timeoutSeconds: 300, settings: ["GANTRY_STATE_BUCKET"] },
  "scheduled-canary": {
    timeoutSeconds: 300,
    settings: ["GANTRY_STAGE"],
    stages: SCHEDULED_CANARY_STAGES,
  },
};

/**
 * The Pulumi/SST component name of a function: its file name in PascalCase (`ApprovalHttp`),
 * which for a workflow function is its Task key. Changing it would replace the deployed function.
 */
function componentName(file: FunctionFile): string {
  return file.replace(/(^|-)([a-z0-9])/g, (_match, _dash, letter: string) => letter.toUpperCase());
}

/**
 * Every function of a stage, in the catalogue's order (workflow functions first).
 *
 * @example
 * ```ts
 * const specs = functionSpecs(aslText, "prod");
 * specs.find((s) => s.file === "copy-artifact")?.timeoutSeconds; // 900
 * ```
 */
export function functionSpecs(aslText: string, stage: Stage): FunctionSpec[] {
  const timeouts = taskTimeouts(aslText);
  const specs = FUNCTION_CATALOG.map((entry): FunctionSpec => {
    const deployment: Deployment & { readonly timeoutSeconds?: number } = DEPLOYMENTS[entry.file];
    const task = "task" in entry ? entry.task : undefined;
    const timeout = deployment.timeoutSeconds ?? (task && timeouts[task]);
    if (timeout === undefined)
      throw new TypeError(`the ASL has no TimeoutSeconds for the Task of ${task}`);
    return {
      file: entry.file,
      component: componentName(entry.file),
      description: entry.description,
      ...(task ? { workflowKey: task } : {}),
      timeoutSeconds: Math.min(timeout, MAX_LAMBDA_TIMEOUT_SECONDS),
      settings: deployment.settings,
      stages: deployment.stages ?? STAGES,
    };
  });
  return specs.filter((spec) => spec.stages.includes(stage));
}
