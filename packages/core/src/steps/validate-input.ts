import { ConfigurationError, InvalidInput } from "../errors.ts";
import { resolvePlan } from "../plan.ts";
import type { TriggerTokenVerifier } from "../ports.ts";
import { type Registry, type ServiceDefinition, type Stage, serviceOf } from "../registry.ts";
import { type DeploymentRequest, parseDeploymentRequest } from "../request.ts";
import type { DeploymentState, ExecutionRef } from "../state.ts";
import type { VerifiedTrigger } from "../trigger/claims.ts";

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
  /**
   * Verifies a request's OIDC ID token (AWS: the stage's issuer from the registry; the local
   * plane: its own issuer). Absent: a request carrying a token fails with ConfigurationError.
   */
  readonly triggerVerifier?: TriggerTokenVerifier;
}

export type ValidatedDeployment = Pick<DeploymentState, "request" | "execution" | "plan">;

const TOKEN_FIELD = "trigger.idToken";

/**
 * First step: turns the caller's input into a request plus the plan from the registry, and
 * proves the trigger when the input carries an OIDC ID token (its signature, issuer, audience
 * and expiry by the verifier; its repository, commit and actor here, against the registry and
 * the request). No side effect: the only I/O is fetching the issuer's public keys, so nothing
 * has happened yet when it refuses. The token never leaves this step: the request it returns
 * carries the verified claims instead.
 *
 * @example
 * ```ts
 * const { request, plan } = await validateInput(
 *   { input, execution: { id: arn, name: "hello-3f2a9c1", startedAt: new Date().toISOString() } },
 *   { registry, stage: "prod", triggerVerifier },
 * );
 * request.trigger.verified?.repository; // "acme/hello-service", or undefined when unverified
 * ```
 */
export async function validateInput(
  event: ValidateInputEvent,
  deps: ValidateInputDeps,
): Promise<ValidatedDeployment> {
  const parsed = parseDeploymentRequest(event.input);
  const execution = event.execution;
  if (!execution?.id || !execution.name || !execution.startedAt) {
    throw new InvalidInput([{ field: "(execution)", reason: "the execution context is missing" }]);
  }
  const plan = resolvePlan(deps.registry, deps.stage, parsed, { timeScale: deps.timeScale ?? 1 });
  // resolvePlan refused an unregistered service.
  const service = serviceOf(deps.registry, parsed.service) as ServiceDefinition;
  const { idToken, verified: _never, ...claimed } = parsed.trigger;
  if (idToken === undefined) {
    if (service.stages[deps.stage].allowUnverifiedTrigger === true) {
      return { request: { ...parsed, trigger: claimed }, execution, plan };
    }
    throw refused(
      `is required: ${parsed.service}'s ${deps.stage} target does not set allowUnverifiedTrigger ` +
        "in the registry, so only a trigger proven by an OIDC ID token may deploy (docs/ci.md)",
    );
  }
  if (!deps.triggerVerifier) {
    throw new ConfigurationError(
      `the ${deps.stage} stage cannot verify ID tokens: ValidateInput has no trigger verifier`,
    );
  }
  const verified = await deps.triggerVerifier.verify(idToken);
  checkAgainstRegistry(verified, parsed, service);
  return { request: { ...parsed, trigger: { ...claimed, verified } }, execution, plan };
}

/** What the verifier cannot know: whose repository, which commit, which actor. */
function checkAgainstRegistry(
  verified: VerifiedTrigger,
  request: DeploymentRequest,
  service: ServiceDefinition,
): void {
  const repository = service.repository;
  if (repository === undefined) {
    throw refused(
      `cannot be checked: the registry names no repository for ${request.service} ` +
        "(set its repository to owner/name)",
    );
  }
  if (verified.repository !== repository) {
    throw refused(
      `is from repository ${verified.repository}, but ${request.service} deploys from ${repository}`,
    );
  }
  const repositoryId = service.repositoryId;
  if (repositoryId !== undefined && verified.repositoryId !== repositoryId) {
    throw refused(
      `is from repository id ${verified.repositoryId ?? "(none)"}, but ${repository} is ` +
        `registered with id ${repositoryId} (was the repository deleted and recreated?)`,
    );
  }
  if (verified.sha !== request.version) {
    throw refused(
      `is for commit ${verified.sha}, not the requested version ${request.version}` +
        (verified.sha.startsWith(request.version) ? " (give the full 40-character SHA)" : ""),
    );
  }
  if (verified.actor !== request.trigger.actor) {
    throw refused(`names actor ${verified.actor}, but the request claims ${request.trigger.actor}`);
  }
}

function refused(reason: string): InvalidInput {
  return new InvalidInput([{ field: TOKEN_FIELD, reason: `the ID token ${reason}` }]);
}
