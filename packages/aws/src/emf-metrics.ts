import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { METRIC_NAMESPACE, type MetricsPublisher } from "@gantry/core";

/**
 * Publishes Gantry's metrics with Powertools Metrics: an Embedded Metric Format line in the
 * function's log, which CloudWatch turns into the metric. No CloudWatch client and no API call
 * (nothing to import, nothing to throttle); the metric appears within about a minute, which is
 * the period of the alarms that watch it.
 *
 * Powertools adds a `service` dimension by default; it is cleared, so the metric is exactly
 * `Gantry/<name>` with the dimensions given (Service and Stage), as the alarms expect.
 *
 * @example
 * ```ts
 * const metrics = new EmfMetrics();
 * await metrics.publish("RollbackFailed", 1, { Service: "hello-service", Stage: "prod" });
 * ```
 */
export class EmfMetrics implements MetricsPublisher {
  async publish(
    name: string,
    value: number,
    dimensions: Readonly<Record<string, string>>,
  ): Promise<void> {
    const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: "gantry" });
    metrics.clearDefaultDimensions();
    metrics.addDimensions({ ...dimensions });
    metrics.addMetric(name, MetricUnit.Count, value);
    metrics.publishStoredMetrics();
  }
}
