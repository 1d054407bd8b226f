import { describe, expect, it } from "vitest";
import { CANARY_FAILURES_METRIC, METRIC_NAMESPACE, ROLLBACK_FAILED_METRIC } from "./metrics.ts";

describe("metric names", () => {
  // The alarms (stacks/alarm-specs.ts) take these names from here, so a rename moves them along,
  // but it also cuts the metrics' history and breaks any dashboard or query outside the repo:
  // changing one must be deliberate.
  it("stay the names the deployed alarms watch", () => {
    expect({ METRIC_NAMESPACE, ROLLBACK_FAILED_METRIC, CANARY_FAILURES_METRIC }).toEqual({
      METRIC_NAMESPACE: "Gantry",
      ROLLBACK_FAILED_METRIC: "RollbackFailed",
      CANARY_FAILURES_METRIC: "CanaryFailures",
    });
  });
});
