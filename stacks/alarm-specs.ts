import {
  CANARY_FAILURES_METRIC,
  METRIC_NAMESPACE,
  type Registry,
  ROLLBACK_FAILED_METRIC,
  type Stage,
} from "@gantry/core";
import { SCHEDULED_CANARY_STAGES } from "./catalog.ts";
import { stateMachineName } from "./names.ts";

/**
 * The alarms Gantry creates, as plain data (`stacks/alarms.ts` turns them into CloudWatch
 * alarms). The services' own alarms (errors, latency, ...) are the services' to create; the
 * registry only names them.
 */
export interface AlarmSpec {
  readonly name: string;
  readonly description: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly statistic: "Sum";
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly threshold: number;
  readonly comparisonOperator: "GreaterThanOrEqualToThreshold";
  readonly treatMissingData: "missing" | "notBreaching";
}

/** The scheduled canary's alarm, named as the local control plane names it. */
export function canaryAlarmName(service: string): string {
  return `${service}-canary`;
}

export function rollbackFailedAlarmName(service: string, stage: Stage): string {
  return `${service}-${stage}-rollback-failed`;
}

export function executionsFailedAlarmName(stage: Stage): string {
  return `${stateMachineName(stage)}-executions-failed`;
}

/**
 * Every alarm of a stage: per service, the scheduled canary failing (prod) and a rollback that
 * could not restore the previous version; and any failed execution of this state machine.
 *
 * @example
 * ```ts
 * alarmSpecs(registry, "prod", stateMachineArn).map((a) => a.name);
 * // ["hello-service-canary", "hello-service-prod-rollback-failed", "gantry-prod-executions-failed"]
 * ```
 */
export function alarmSpecs(registry: Registry, stage: Stage, stateMachineArn: string): AlarmSpec[] {
  const specs: AlarmSpec[] = [];
  for (const service of Object.keys(registry.services)) {
    if (SCHEDULED_CANARY_STAGES.includes(stage)) {
      specs.push({
        name: canaryAlarmName(service),
        description: `The hourly canary of ${service} failed in ${stage}.`,
        namespace: METRIC_NAMESPACE,
        metricName: CANARY_FAILURES_METRIC,
        dimensions: { Service: service, Stage: stage },
        statistic: "Sum",
        // One run an hour: the alarm holds the last run's verdict until the next run (a
        // passing run publishes 0), so a failing canary blocks deployments that list it.
        periodSeconds: 3600,
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "missing",
      });
    }
    specs.push({
      name: rollbackFailedAlarmName(service, stage),
      description: `A ${stage} rollback of ${service} could not restore the previous version: the alias needs a person.`,
      namespace: METRIC_NAMESPACE,
      metricName: ROLLBACK_FAILED_METRIC,
      dimensions: { Service: service, Stage: stage },
      statistic: "Sum",
      periodSeconds: 60,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
    });
  }
  specs.push({
    name: executionsFailedAlarmName(stage),
    description: `A deployment (execution of ${stateMachineName(stage)}) failed.`,
    namespace: "AWS/States",
    metricName: "ExecutionsFailed",
    dimensions: { StateMachineArn: stateMachineArn },
    statistic: "Sum",
    periodSeconds: 300,
    evaluationPeriods: 1,
    threshold: 1,
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    treatMissingData: "notBreaching",
  });
  return specs;
}
