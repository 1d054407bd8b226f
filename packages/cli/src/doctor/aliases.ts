/** doctor's alias checks: each target's alias is ready for a deployment. */
import { GetAliasCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import type { Stage } from "@gantry/core";
import type { TargetPlan } from "./plan.ts";
import {
  type CheckResult,
  callerNeeds,
  describeError,
  errorName,
  isAccessDenied,
} from "./result.ts";

/**
 * A target's alias exists and points at a numbered version (Gantry's rollback returns to it;
 * `$LATEST` changes with every code update), with no weights left over from an interrupted
 * rollout.
 *
 * @example
 * ```ts
 * const result = await checkAlias(lambda, { service: "hello-service", functionName: "hello-service-prod", alias: "live", alarms: [] }, "prod");
 * ```
 */
export async function checkAlias(
  lambda: LambdaClient,
  target: TargetPlan,
  stage: Stage,
): Promise<CheckResult> {
  const qualified = `${target.functionName}:${target.alias}`;
  const base = { check: "alias" as const, subject: qualified };
  const publish = `aws lambda update-alias --function-name ${target.functionName} --name ${target.alias} --function-version $(aws lambda publish-version --function-name ${target.functionName} --query Version --output text)`;
  let version: string;
  let weights: Record<string, number>;
  try {
    const out = await lambda.send(
      new GetAliasCommand({ FunctionName: target.functionName, Name: target.alias }),
    );
    version = out.FunctionVersion ?? "";
    weights = out.RoutingConfig?.AdditionalVersionWeights ?? {};
  } catch (error) {
    if (errorName(error) === "ResourceNotFoundException") {
      return {
        ...base,
        status: "fail",
        message: `the function or its alias does not exist (${target.service} in ${stage}): Gantry deploys to them, it does not create them`,
        fix: `create ${target.functionName}, publish a version, and create the alias on it: aws lambda create-alias --function-name ${target.functionName} --name ${target.alias} --function-version 1`,
      };
    }
    return {
      ...base,
      status: "fail",
      message: `cannot read the alias: ${describeError(error)}`,
      ...(isAccessDenied(error) ? { fix: callerNeeds("lambda:GetAlias") } : {}),
    };
  }
  if (version === "$LATEST" || !/^\d+$/.test(version)) {
    return {
      ...base,
      status: "fail",
      message: `points at ${version || "no version"}, not a numbered version: a rollback would have nothing to go back to`,
      fix: `publish a version and point the alias at it: ${publish}`,
    };
  }
  const extra = Object.entries(weights);
  if (extra.length > 0) {
    const split = extra.map(([v, w]) => `${Math.round(w * 1000) / 10}% to version ${v}`).join(", ");
    return {
      ...base,
      status: "fail",
      message: `on version ${version} but also routes ${split}: a rollout was interrupted (or one is running now)`,
      fix: `if no deployment is running (gantry list --stage ${stage} --status RUNNING), put all traffic on one version: aws lambda update-alias --function-name ${target.functionName} --name ${target.alias} --function-version ${version} --routing-config '{"AdditionalVersionWeights":{}}'`,
    };
  }
  return { ...base, status: "ok", message: `on version ${version}, no weights` };
}
