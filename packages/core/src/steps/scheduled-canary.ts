import type { FunctionControl, Log, MetricsPublisher } from "../ports.ts";
import type { Registry, Stage } from "../registry.ts";
import type { CanaryCheckResult } from "../state.ts";
import { runCanaryChecks } from "./canary.ts";
import { CANARY_FAILURES_METRIC } from "./metrics.ts";

export interface ScheduledCanaryDeps {
  readonly functions: Pick<FunctionControl, "invoke">;
  readonly metrics: MetricsPublisher;
  readonly log?: Log;
}

export interface ServiceCanaryResult {
  readonly service: string;
  readonly target: string;
  readonly results: readonly CanaryCheckResult[];
  readonly failures: number;
}

/**
 * The hourly canary: runs every registered service's canary spec (the same one the Canary step
 * uses) against the stage's alias, and publishes the number of failed checks as the
 * `CanaryFailures` metric (dimensions Service, Stage), which the service's canary alarm and
 * therefore the next deployment's alarm checks watch. A service whose checks cannot even run
 * counts every check as failed.
 *
 * @example
 * ```ts
 * const results = await runScheduledCanary(registry, "prod", { functions, metrics });
 * results.filter((r) => r.failures > 0).map((r) => r.service);
 * ```
 */
export async function runScheduledCanary(
  registry: Registry,
  stage: Stage,
  deps: ScheduledCanaryDeps,
): Promise<ServiceCanaryResult[]> {
  const outcomes: ServiceCanaryResult[] = [];
  for (const [service, definition] of Object.entries(registry.services)) {
    const target = definition.stages[stage];
    const results = await runCanaryChecks(
      deps.functions,
      target.functionName,
      target.alias,
      definition.canary,
    );
    const failures = results.filter((r) => !r.passed).length;
    await deps.metrics.publish(CANARY_FAILURES_METRIC, failures, {
      Service: service,
      Stage: stage,
    });
    if (failures > 0) deps.log?.warn("scheduled canary failed", { service, stage, failures });
    outcomes.push({ service, target: `${target.functionName}:${target.alias}`, results, failures });
  }
  return outcomes;
}
