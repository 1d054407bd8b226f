import { STAGES, type Stage, WORKFLOW_FUNCTIONS, type WorkflowFunctionKey } from "@gantry/core";

/**
 * Every Lambda Gantry deploys, as plain data: which file, how long it may run, which settings it
 * reads and in which stages it exists. `stacks/functions.ts` builds the functions from this; the
 * infra tests check it against the ASL and against what each `functions/<name>.ts` reads.
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
  /** The link signing keys' secret: request-approval signs links, approval-http verifies them. */
  | "GANTRY_LINK_KEYS_SECRET"
  /** The decision keys' secret: the approval path seals decisions, VerifyApproval checks them. */
  | "GANTRY_DECISION_KEYS_SECRET";

export interface FunctionSpec {
  /** File name in functions/ without `.ts`; also the suffix of the function's name. */
  readonly file: string;
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

const DESCRIPTIONS: Record<WorkflowFunctionKey, string> = {
  ValidateInput: "Refuses bad requests and resolves the plan from the registry",
  AcquireLock: "One deployment per target: takes the target's lock",
  VerifyPreprod: "Proves preprod ran and passed the exact bytes",
  RequestApproval: "Stores the approval and emails signed links",
  VerifyApproval: "Proceeds only on this execution's sealed decision record",
  CopyArtifact: "Server-side copy of the exact bytes into this stage's bucket",
  Deploy: "Publishes the new version (CodeSha256 checked); moves no traffic",
  Canary:
    "Invokes the new version directly; if every check passes, gives it the first traffic step",
  CheckAlarms: "One alarm poll of the rollout; shifts traffic when due",
  Promote: "Gives the new version 100% of traffic",
  Rollback: "Puts the alias back on the previous version",
  Finish: "Records the outcome and releases the lock",
};

/** Settings each workflow function reads (checked against the sources by the infra tests). */
const WORKFLOW_SETTINGS: Record<WorkflowFunctionKey, readonly FunctionSetting[]> = {
  ValidateInput: ["GANTRY_STAGE"],
  AcquireLock: ["GANTRY_STATE_BUCKET"],
  VerifyPreprod: ["GANTRY_PREPROD_ROLE_ARN"],
  RequestApproval: [
    "GANTRY_STATE_BUCKET",
    "GANTRY_APPROVAL_URL",
    "GANTRY_SENDER",
    "GANTRY_LINK_KEYS_SECRET",
  ],
  VerifyApproval: ["GANTRY_STATE_BUCKET", "GANTRY_DECISION_KEYS_SECRET"],
  CopyArtifact: [],
  Deploy: [],
  Canary: [],
  CheckAlarms: [],
  Promote: [],
  Rollback: [],
  Finish: ["GANTRY_STATE_BUCKET"],
};

/**
 * The hourly canary exercises prod, as the design says (and as the local control plane does);
 * preprod is exercised by every build's deployment and tests.
 */
export const SCHEDULED_CANARY_STAGES: readonly Stage[] = ["prod"];

/** The approval wait is the Task's; the Lambda only stores the request and sends mail. */
const REQUEST_APPROVAL_TIMEOUT_SECONDS = 60;

/**
 * Every function of a stage, workflow functions first.
 *
 * @example
 * ```ts
 * const specs = functionSpecs(aslText, "prod");
 * specs.find((s) => s.file === "copy-artifact")?.timeoutSeconds; // 900
 * ```
 */
export function functionSpecs(aslText: string, stage: Stage): FunctionSpec[] {
  const timeouts = taskTimeouts(aslText);
  const workflow = (Object.keys(WORKFLOW_FUNCTIONS) as WorkflowFunctionKey[]).map(
    (key): FunctionSpec => {
      const timeout = key === "RequestApproval" ? REQUEST_APPROVAL_TIMEOUT_SECONDS : timeouts[key];
      if (timeout === undefined)
        throw new TypeError(`the ASL has no TimeoutSeconds for the Task of ${key}`);
      return {
        file: WORKFLOW_FUNCTIONS[key],
        component: key,
        description: DESCRIPTIONS[key],
        workflowKey: key,
        timeoutSeconds: Math.min(timeout, MAX_LAMBDA_TIMEOUT_SECONDS),
        settings: WORKFLOW_SETTINGS[key],
        stages: STAGES,
      };
    },
  );
  const others: FunctionSpec[] = [
    {
      file: "approval-http",
      component: "ApprovalHttp",
      description: "The approval pages behind a Function URL: GET confirms, POST decides",
      timeoutSeconds: 30,
      // Verifies links with the link keys; seals the decision with the decision key.
      settings: ["GANTRY_STATE_BUCKET", "GANTRY_LINK_KEYS_SECRET", "GANTRY_DECISION_KEYS_SECRET"],
      stages: STAGES,
    },
    {
      file: "approval-operator",
      component: "ApprovalOperator",
      description:
        "The operator approval API (gantry approve/reject) behind an IAM-auth Function URL",
      timeoutSeconds: 30,
      settings: ["GANTRY_STATE_BUCKET", "GANTRY_DECISION_KEYS_SECRET"],
      stages: STAGES,
    },
    {
      file: "reconcile",
      component: "Reconcile",
      description: "Cleans up after aborted or timed-out executions",
      timeoutSeconds: 300,
      settings: ["GANTRY_STATE_BUCKET"],
      stages: STAGES,
    },
    {
      file: "scheduled-canary",
      component: "ScheduledCanary",
      description: "The hourly canary of every registered service",
      timeoutSeconds: 300,
      settings: ["GANTRY_STAGE"],
      stages: SCHEDULED_CANARY_STAGES,
    },
  ];
  return [...workflow, ...others].filter((spec) => spec.stages.includes(stage));
}
