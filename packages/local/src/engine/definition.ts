import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  type FunctionFile,
  substituteFunctionArns,
  WORKFLOW_FUNCTIONS,
  type WorkflowFunctionKey,
} from "@gantry/core";
import type { StateMachineDefinition } from "aws-local-stepfunctions";

/** The workflow as deployed: the one ASL file both worlds run. */
export const WORKFLOW_ASL_PATH = fileURLToPath(
  new URL("../../../../state-machines/workflow.asl.json", import.meta.url),
);

export const LOCAL_ACCOUNT = "000000000000";
export const LOCAL_REGION = "us-east-1";

/** The ARN a workflow function has locally: shaped like AWS's, so the ASL validates unchanged. */
export function localFunctionArn(stage: string, key: WorkflowFunctionKey): string {
  return localFunctionArnOf(stage, WORKFLOW_FUNCTIONS[key]);
}

/** The local ARN of any function of the catalogue, by its file name (`hold-events`). */
export function localFunctionArnOf(stage: string, file: FunctionFile): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:gantry-${stage}-${file}`;
}

/** ARNs for every placeholder of the ASL, for one stage. */
export function localFunctionArns(stage: string): Record<WorkflowFunctionKey, string> {
  const keys = Object.keys(WORKFLOW_FUNCTIONS) as WorkflowFunctionKey[];
  return Object.fromEntries(keys.map((key) => [key, localFunctionArn(stage, key)])) as Record<
    WorkflowFunctionKey,
    string
  >;
}

/**
 * Reads the ASL file and substitutes the local function ARNs of a stage. The deployed workflow
 * must use every function of the catalogue; another file (the bench's polling baseline,
 * test/bench/designs) gets only the ARNs it names.
 *
 * @example
 * ```ts
 * const { definition } = loadWorkflowDefinition("prod", "test/bench/designs/polling.asl.json");
 * ```
 */
export function loadWorkflowDefinition(
  stage: string,
  path = WORKFLOW_ASL_PATH,
): {
  definition: StateMachineDefinition;
  text: string;
} {
  const asl = readFileSync(path, "utf8");
  const all = localFunctionArns(stage);
  const arns =
    path === WORKFLOW_ASL_PATH
      ? all
      : // substituteFunctionArns refuses ARNs a file does not use: give it only the used ones.
        (Object.fromEntries(
          Object.entries(all).filter(([key]) => asl.includes(`\${${key}FunctionArn}`)),
        ) as Record<WorkflowFunctionKey, string>);
  const text = substituteFunctionArns(asl, arns);
  return { definition: JSON.parse(text) as StateMachineDefinition, text };
}
