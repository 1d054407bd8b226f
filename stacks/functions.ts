import type { FunctionFile, Registry, Stage, WorkflowFunctionKey } from "@gantry/core";
import type { AwsEnv } from "./arns.ts";
import { NODEJS_BUNDLING } from "./bundling.ts";
import { FUNCTION_MEMORY_MB, functionSpecs } from "./catalog.ts";
import type { InfraConfig } from "./config.ts";
import { functionEnvironment, holdResources } from "./environment.ts";
import { functionName, functionRoleName, type KeySet } from "./names.ts";
import {
  assertPoliciesFit,
  functionPermissions,
  type PolicyStatement,
  stagePolicyContext,
} from "./policy.ts";

/**
 * Every Lambda of the stage: Node.js 24 on arm64, bundled by SST from `functions/<name>.ts`,
 * with Powertools settings, the settings it reads (`environment.ts`) and only its own
 * permissions. Two get a Function URL:
 * - the approval pages, public (`NONE`): their links are signed; its URL is what
 *   approval-gate puts in emails;
 * - the operator API (`gantry approve/reject`), `AWS_IAM`: Lambda invokes it only for a
 *   SigV4-signed request from a principal allowed to call it, and hands over that principal.
 */

/** The Function URL authorization of the functions that have one. */
export const FUNCTION_URLS: Readonly<Partial<Record<FunctionFile, "none" | "iam">>> = {
  "approval-http": "none",
  "approval-operator": "iam",
};

export interface FunctionsArgs {
  readonly stage: Stage;
  readonly env: AwsEnv;
  readonly registry: Registry;
  readonly config: InfraConfig;
  readonly aslText: string;
  readonly stateBucket: string;
  /** The ARNs of the key sets' Secrets Manager secrets (see approval.ts). */
  readonly keySecretArns: Readonly<Record<KeySet, $util.Input<string>>>;
}

/** SST's permission entry (mutable arrays, as its types want them). */
function toSstPermission(statement: PolicyStatement) {
  return {
    effect: statement.effect,
    actions: [...statement.actions],
    resources: [...statement.resources],
    ...(statement.conditions
      ? { conditions: statement.conditions.map((c) => ({ ...c, values: [...c.values] })) }
      : {}),
  };
}

/**
 * Creates the stage's functions; returns them by file name.
 *
 * @example
 * ```ts
 * const fns = createFunctions({ stage, env, registry, config, aslText, stateBucket, keySecretArns });
 * fns["approval-http"].url; // the approval endpoint
 * ```
 */
export function createFunctions(args: FunctionsArgs) {
  const { stage, env, registry, config } = args;
  const permissions = functionPermissions(
    stagePolicyContext({ env, stage, registry, stateBucket: args.stateBucket, config }),
  );
  assertPoliciesFit(permissions);
  const specs = functionSpecs(args.aslText, stage);
  const created: Record<string, sst.aws.Function> = {};
  let approvalUrl: $util.Output<string> | undefined;

  // approval-http first: approval-gate needs its URL.
  const ordered = [...specs].sort(
    (a, b) => Number(b.file === "approval-http") - Number(a.file === "approval-http"),
  );
  for (const spec of ordered) {
    const urlAuthorization: "none" | "iam" | undefined = FUNCTION_URLS[spec.file];
    const fn = new sst.aws.Function(spec.component, {
      name: functionName(stage, spec.file),
      description: `Gantry ${stage}: ${spec.description}`,
      handler: `functions/${spec.file}.handler`,
      runtime: "nodejs24.x",
      architecture: "arm64",
      nodejs: NODEJS_BUNDLING,
      timeout: `${spec.timeoutSeconds} seconds`,
      memory: `${FUNCTION_MEMORY_MB} MB`,
      // The same function the contract tests run every handler under (stacks/environment.ts).
      environment: functionEnvironment<$util.Input<string>>(spec, stage, config, {
        stateBucket: args.stateBucket,
        ...(approvalUrl ? { approvalUrl } : {}),
        keySecretArns: args.keySecretArns,
        holds: holdResources(env, stage),
      }),
      permissions: permissions[spec.file].map(toSstPermission),
      logging: { retention: "3 months" },
      ...(urlAuthorization ? { url: { authorization: urlAuthorization } } : {}),
      transform: {
        role: (role) => {
          role.name = functionRoleName(stage, spec.file);
          // The permissions above include writing the function's own logs; SST's default
          // AWSLambdaBasicExecutionRole would allow writing to every log group.
          role.managedPolicyArns = [];
        },
      },
    });
    created[spec.file] = fn;
    if (spec.file === "approval-http") approvalUrl = fn.url;
  }
  return created;
}

/** The ARNs the workflow needs, from the created functions. */
export function workflowFunctionArns(
  functions: Record<string, sst.aws.Function>,
  aslText: string,
  stage: Stage,
): Record<WorkflowFunctionKey, $util.Output<string>> {
  const arns = {} as Record<WorkflowFunctionKey, $util.Output<string>>;
  for (const spec of functionSpecs(aslText, stage)) {
    const fn = functions[spec.file];
    if (spec.workflowKey && fn) arns[spec.workflowKey] = fn.arn;
  }
  return arns;
}
