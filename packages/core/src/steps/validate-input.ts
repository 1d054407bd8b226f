import { InvalidInput } from "../errors.ts";
import { resolvePlan } from "../plan.ts";
import type { Registry, Stage } from "../registry.ts";
import { parseDeploymentRequest } from "../request.ts";
import type { DeploymentState, ExecutionRef } from "../state.ts";

export interface ValidateInputEvent {
  /** The raw StartExecution input. */
  readonly input: unknown;
  /** From the context object: `$$.Execution.Id`, `.Name`, `.StartTime`. */
  readonly execution: ExecutionRef;
}

export interface ValidateInputDeps {
  readonly registry: Registry;
  readonly stage: Stage;
  /** 1 in AWS. The local control plane runs faster than real time. */
  readonly timeScale?: number;
}

export type ValidatedDeployment = Pick<DeploymentState, "request" | "execution" | "plan">;

/**
 * First step: turns the caller's input into a request plus the plan from the registry. Pure:
 * no I/O, so nothing has happened yet when it refuses.
 *
 * @example
 * ```ts
 * const { plan } = validateInput(
 *   { input, execution: { id: arn, name: "hello-3f2a9c1", startedAt: new Date().toISOString() } },
 *   { registry, stage: "prod" },
 * );
 * ```
 */
export function validateInput(
  event: ValidateInputEvent,
  deps: ValidateInputDeps,
): ValidatedDeployment {
  const request = parseDeploymentRequest(event.input);
  const execution = event.execution;
  if (!execution?.id || !execution.name || !execution.startedAt) {
    throw new InvalidInput([{ field: "(execution)", reason: "the execution context is missing" }]);
  }
  const plan = resolvePlan(deps.registry, deps.stage, request, { timeScale: deps.timeScale ?? 1 });
  return { request, execution, plan };
}
