import { CanaryFailed } from "../errors.ts";
import type { Clock, FunctionControl, InvocationResult } from "../ports.ts";
import type { CanaryCheck, CanarySpec } from "../registry.ts";
import type { CanaryCheckResult, CanaryReport, DeploymentState, Rollout } from "../state.ts";
import { shiftTraffic } from "./traffic.ts";

/**
 * Runs every check of a canary spec against one qualifier (a version or an alias). Shared by
 * the deployment's Canary step and the hourly scheduled canary. A check that cannot even be
 * invoked counts as failed, with the reason.
 *
 * @example
 * ```ts
 * const results = await runCanaryChecks(functions, "hello-service", "live", spec);
 * results.every((r) => r.passed);
 * ```
 */
export async function runCanaryChecks(
  functions: Pick<FunctionControl, "invoke">,
  functionName: string,
  qualifier: string,
  spec: CanarySpec,
): Promise<CanaryCheckResult[]> {
  const results: CanaryCheckResult[] = [];
  for (const check of spec.checks)
    results.push(await runCanaryCheck(functions, functionName, qualifier, check));
  return results;
}

/**
 * Runs one canary check against one qualifier: its event, then its expectations. A check that
 * cannot even be invoked counts as failed, with the reason. The version analysis sends its
 * synthetic requests through this too, so a synthetic request fails exactly when a canary would.
 *
 * @example
 * ```ts
 * const result = await runCanaryCheck(functions, "hello-service", "7", spec.checks[0]);
 * result.passed; // false when the function errors or an expectation is not met
 * ```
 */
export async function runCanaryCheck(
  functions: Pick<FunctionControl, "invoke">,
  functionName: string,
  qualifier: string,
  check: CanaryCheck,
): Promise<CanaryCheckResult> {
  try {
    const result = await functions.invoke(functionName, qualifier, check.event);
    return judge(check, result);
  } catch (error) {
    return { name: check.name, passed: false, detail: clip(`invoke failed: ${messageOf(error)}`) };
  }
}

export interface CanaryDeps {
  readonly functions: FunctionControl;
  readonly clock: Clock;
}

/**
 * The Canary step: invokes the new version directly (not through the alias) with the service's
 * canary events, and fails with {@link CanaryFailed} if any expectation is not met. Only when
 * every check passes does it give the version its first traffic step, so a version that fails
 * its canary never serves a request. Returns the rollout, with the canary's report in it.
 *
 * @example
 * ```ts
 * const rollout = await canary(state, { functions, clock: systemClock });
 * rollout.canary?.results.every((r) => r.passed); // true
 * rollout.weight; // the first traffic step, e.g. 10
 * ```
 */
export async function canary(
  state: Pick<DeploymentState, "plan" | "rollout">,
  deps: CanaryDeps,
): Promise<Rollout> {
  const rollout = state.rollout;
  const version = rollout?.newVersion;
  if (!rollout || !version) throw new TypeError("canary needs $.rollout (Deploy runs first)");
  const results = await runCanaryChecks(
    deps.functions,
    state.plan.target.functionName,
    version,
    state.plan.canary,
  );
  const failed = results.filter((r) => !r.passed);
  if (failed.length > 0) {
    throw new CanaryFailed(
      `version ${version} failed ${failed.length} of ${results.length} canary checks: ` +
        failed.map((r) => `${r.name}: ${r.detail}`).join("; "),
    );
  }
  const report: CanaryReport = { version, results };
  const waitingForFirstStep = rollout.phase === "steps" && rollout.stepIndex < 0;
  const next = waitingForFirstStep
    ? await shiftTraffic(deps.functions, state.plan, rollout, 0, deps.clock.now())
    : rollout;
  return { ...next, canary: report };
}

function judge(check: CanaryCheck, result: InvocationResult): CanaryCheckResult {
  // The new version wrote what it answered: clipped, so it cannot grow the execution's state.
  const fail = (detail: string) => ({ name: check.name, passed: false, detail: clip(detail) });
  if (result.functionError)
    return fail(`function error (${result.functionError}): ${lambdaError(result.payload)}`);
  const payload = result.payload as { statusCode?: unknown; body?: unknown } | null;
  const { statusCode, bodyIncludes } = check.expect;
  if (statusCode !== undefined && payload?.statusCode !== statusCode) {
    return fail(`expected statusCode ${statusCode}, got ${String(payload?.statusCode)}`);
  }
  if (bodyIncludes !== undefined) {
    const body = typeof payload?.body === "string" ? payload.body : stringify(result.payload);
    if (!body.includes(bodyIncludes))
      return fail(`body does not include ${JSON.stringify(bodyIncludes)}`);
  }
  return { name: check.name, passed: true, detail: `ok (version ${result.executedVersion})` };
}

/** Longest detail kept of a check's result (it lands in the execution's state and history). */
export const MAX_DETAIL = 300;

/** Lambda's error payload as `errorType: errorMessage`, or the payload as it is. */
function lambdaError(payload: unknown): string {
  const error = payload as { errorType?: unknown; errorMessage?: unknown } | null;
  if (typeof error?.errorType === "string" && typeof error.errorMessage === "string") {
    return `${error.errorType}: ${error.errorMessage}`;
  }
  return stringify(payload);
}

function stringify(value: unknown): string {
  return typeof value === "string" ? value : (JSON.stringify(value) ?? "");
}

function clip(text: string): string {
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
