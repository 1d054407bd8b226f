import { type Stage, substituteFunctionArns, type WorkflowFunctionKey } from "@gantry/core";
import { type AwsEnv, stateMachineArn } from "./arns.ts";
import { stateMachineLogGroupName, stateMachineName, stateMachineRoleName } from "./names.ts";
import { policyDocument, stateMachineStatements, stateMachineTrustPolicy } from "./policy.ts";

/**
 * The deployment state machine: `state-machines/deployment.asl.json` as it is, with the
 * function ARNs substituted (the same file and the same substitution the local control plane
 * uses). Standard type, every event logged to CloudWatch Logs, X-Ray tracing on.
 *
 * Execution data (inputs and outputs) is left out of the logs: the approval Task's parameters
 * carry its task token, which must not reach a log (docs/security.md). The execution history
 * keeps the data for those allowed to read it.
 */

export interface PipelineArgs {
  readonly stage: Stage;
  readonly env: AwsEnv;
  readonly aslText: string;
  readonly functionArns: Readonly<Record<WorkflowFunctionKey, $util.Input<string>>>;
}

/** Days the execution logs are kept. */
export const PIPELINE_LOG_RETENTION_DAYS = 90;

/**
 * Creates the state machine, its role and its log group.
 *
 * @example
 * ```ts
 * const { machine } = createPipeline({ stage: "prod", env, aslText, functionArns });
 * ```
 */
export function createPipeline(args: PipelineArgs) {
  const { stage, env } = args;
  const name = stateMachineName(stage);
  const logGroup = new aws.cloudwatch.LogGroup("PipelineLogs", {
    name: stateMachineLogGroupName(stage),
    retentionInDays: PIPELINE_LOG_RETENTION_DAYS,
  });
  const arns = $resolve(args.functionArns as Record<WorkflowFunctionKey, $util.Input<string>>);
  const role = new aws.iam.Role("PipelineRole", {
    name: stateMachineRoleName(stage),
    assumeRolePolicy: JSON.stringify(stateMachineTrustPolicy(env, stateMachineArn(env, name))),
    inlinePolicies: [
      {
        name: "pipeline",
        policy: arns.apply((resolved) =>
          JSON.stringify(policyDocument(stateMachineStatements(Object.values(resolved)))),
        ),
      },
    ],
  });
  const machine = new aws.sfn.StateMachine("Pipeline", {
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
  });
  return { machine, role, logGroup };
}
