import { type Stage, substituteFunctionArns, type WorkflowFunctionKey } from "@gantry/core";
import { type AwsEnv, stateMachineArn } from "./arns.ts";
import { stateMachineLogGroupName, stateMachineName, stateMachineRoleName } from "./names.ts";
import { policyDocument, stateMachineStatements, stateMachineTrustPolicy } from "./policy.ts";

/**
 * The workflow's state machine: `state-machines/workflow.asl.json` as it is, with the function
 * ARNs substituted (the same file and the same substitution the local control plane uses).
 * Standard type, every event logged to CloudWatch Logs, X-Ray tracing on.
 *
 * Execution data (inputs and outputs) is left out of the logs: the approval Task's parameters
 * carry its task token, which must not reach a log (docs/security.md). The execution history
 * keeps the data for those allowed to read it.
 */

export interface WorkflowArgs {
  readonly stage: Stage;
  readonly env: AwsEnv;
  readonly aslText: string;
  readonly functionArns: Readonly<Record<WorkflowFunctionKey, $util.Input<string>>>;
}

/** Days the execution logs are kept. */
export const WORKFLOW_LOG_RETENTION_DAYS = 90;

/**
 * Creates the workflow's state machine, its role and its log group.
 *
 * Their logical names were `Pipeline`, `PipelineRole` and `PipelineLogs` until the definition
 * was renamed the workflow. The aliases carry a stage deployed before then over in place (the
 * same state machine, its executions and their history) instead of replacing the three, which
 * would fail anyway: their physical names are fixed, and a replacement is created before the
 * resource it replaces is deleted.
 *
 * @example
 * ```ts
 * const { machine } = createWorkflow({ stage: "prod", env, aslText, functionArns });
 * ```
 */
export function createWorkflow(args: WorkflowArgs) {
  const { stage, env } = args;
  const name = stateMachineName(stage);
  const logGroup = new aws.cloudwatch.LogGroup(
    "WorkflowLogs",
    { name: stateMachineLogGroupName(stage), retentionInDays: WORKFLOW_LOG_RETENTION_DAYS },
    { aliases: [{ name: "PipelineLogs" }] },
  );
  const arns = $resolve(args.functionArns as Record<WorkflowFunctionKey, $util.Input<string>>);
  const role = new aws.iam.Role(
    "WorkflowRole",
    {
      name: stateMachineRoleName(stage),
      assumeRolePolicy: JSON.stringify(stateMachineTrustPolicy(env, stateMachineArn(env, name))),
      inlinePolicies: [
        {
          name: "workflow",
          policy: arns.apply((resolved) =>
            JSON.stringify(policyDocument(stateMachineStatements(Object.values(resolved)))),
          ),
        },
      ],
    },
    { aliases: [{ name: "PipelineRole" }] },
  );
  const machine = new aws.sfn.StateMachine(
    "Workflow",
    {
      name,
      type: "STANDARD",
      roleArn: role.arn,
      definition: arns.apply((resolved) => substituteFunctionArns(args.aslText, resolved)),
      loggingConfiguration: {
        level: "ALL",
        includeExecutionData: false,
        logDestination: $interpolate`${logGroup.arn}:*`,
      },
      tracingConfiguration: { enabled: true },
    },
    { aliases: [{ name: "Pipeline" }] },
  );
  return { machine, role, logGroup };
}
