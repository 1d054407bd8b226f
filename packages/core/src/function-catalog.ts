/**
 * Every Lambda Gantry has, in one list. Everything else that names Gantry's functions is
 * derived from it:
 * - {@link WORKFLOW_FUNCTIONS}, the functions the workflow's Tasks call, by the ASL's
 *   `${<task>FunctionArn}` placeholder (workflow.ts substitutes them);
 * - the infrastructure's specs (`@gantry/stacks/catalog`: timeouts, settings, stages) and IAM
 *   policies (`@gantry/stacks/policy`, keyed by {@link FunctionFile});
 * - the local control plane's map of Task handlers (`workflowHandlers`, keyed by
 *   {@link WorkflowFunctionKey});
 * - each function's logger name (`createLogger` of `@gantry/aws` takes a {@link FunctionFile}).
 *
 * Each entry has its entry point at `functions/<file>.ts` (`createHandler`, `awsDeps`,
 * `handler`), which functions/catalog.test.ts checks both ways.
 */
export interface FunctionEntry {
  /**
   * The entry point's file name in functions/ without `.ts`; also the function's name in a stage
   * (`gantry-<stage>-<file>`) and its logs' `function` key.
   */
  readonly file: string;
  /** The ASL Task key (`${<task>FunctionArn}`) of the Tasks that call it, if any do. */
  readonly task?: string;
  /** What it does, in one line (the deployed function's description). */
  readonly description: string;
}

/** Every function: the workflow's, in the order the workflow runs them, then the others. */
export const FUNCTION_CATALOG = [
  {
    file: "validate-input",
    task: "ValidateInput",
    description: "Refuses bad requests and resolves the plan from the registry",
  },
  {
    file: "acquire-lock",
    task: "AcquireLock",
    description: "One deployment per target: takes the target's lock",
  },
  {
    file: "verify-preprod",
    task: "VerifyPreprod",
    description: "Proves preprod ran and passed the exact bytes",
  },
  {
    file: "approval-gate",
    task: "ApprovalGate",
    description: "Stores the approval and emails signed links",
  },
  {
    file: "verify-approval",
    task: "VerifyApproval",
    description: "Proceeds only on this execution's sealed decision record",
  },
  {
    file: "copy-artifact",
    task: "CopyArtifact",
    description: "Server-side copy of the exact bytes into this stage's bucket",
  },
  {
    file: "deploy",
    task: "Deploy",
    description: "Publishes the new version (CodeSha256 checked); moves no traffic",
  },
  {
    file: "canary",
    task: "Canary",
    description:
      "Invokes the new version directly; if every check passes, gives it the first traffic step",
  },
  {
    file: "check-alarms",
    task: "CheckAlarms",
    description: "The end-of-hold alarm check; shifts traffic when due",
  },
  {
    file: "hold",
    task: "Hold",
    description: "Holds a traffic step or the bake: records the watch and schedules its end",
  },
  { file: "promote", task: "Promote", description: "Gives the new version 100% of traffic" },
  {
    file: "rollback",
    task: "Rollback",
    description: "Puts the alias back on the previous version",
  },
  { file: "finish", task: "Finish", description: "Records the outcome and releases the lock" },
  {
    file: "approval-http",
    description: "The approval pages behind a Function URL: GET confirms, POST decides",
  },
  {
    file: "approval-operator",
    description:
      "The operator approval API (gantry approve/reject) behind an IAM-auth Function URL",
  },
  {
    file: "hold-events",
    description:
      "Ends holds: an alarm entering ALARM fails them at once, a hold's schedule completes it",
  },
  { file: "reconcile", description: "Cleans up after aborted or timed-out executions" },
  { file: "scheduled-canary", description: "The hourly canary of every registered service" },
] as const satisfies readonly FunctionEntry[];

type CatalogEntry = (typeof FUNCTION_CATALOG)[number];
type WorkflowEntry = Extract<CatalogEntry, { readonly task: string }>;

/** A function of the catalogue, by its file name: `"deploy"`, `"approval-http"`, ... */
export type FunctionFile = CatalogEntry["file"];

/** A function the workflow calls, by its ASL Task key: `"Deploy"`, `"CheckAlarms"`, ... */
export type WorkflowFunctionKey = WorkflowEntry["task"];

/**
 * The workflow's Tasks and the functions behind them: ASL Task key → file, in the order the
 * workflow runs them. `state-machines/workflow.asl.json` names each function as a
 * `${<Key>FunctionArn}` placeholder; the infrastructure substitutes real ARNs and the local
 * control plane substitutes local ones (`substituteFunctionArns`).
 */
export const WORKFLOW_FUNCTIONS = Object.fromEntries(
  FUNCTION_CATALOG.flatMap((entry) => ("task" in entry ? [[entry.task, entry.file]] : [])),
) as { readonly [E in WorkflowEntry as E["task"]]: E["file"] };
