import { afterEach, describe, expect, it, vi } from "vitest";
import { EmfMetrics } from "./emf-metrics.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

/** What the function writes to its log: one EMF document per publish. */
function capture(): string[] {
  const lines: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  return lines;
}

describe("EmfMetrics", () => {
  it("writes one EMF document with the Gantry namespace, exactly the given dimensions and the value", async () => {
    const lines = capture();
    await new EmfMetrics().publish("RollbackFailed", 1, {
      Service: "hello-service",
      Stage: "prod",
    });

    const documents = lines
      .join("")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(documents).toHaveLength(1);
    const emf = documents[0];
    expect(emf._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: "Gantry",
        Dimensions: [["Service", "Stage"]],
        Metrics: [{ Name: "RollbackFailed", Unit: "Count" }],
      },
    ]);
    expect(emf).toMatchObject({ Service: "hello-service", Stage: "prod", RollbackFailed: 1 });
    expect(emf.service).toBeUndefined(); // Powertools' default dimension is cleared
  });

  it("publishes each call on its own, with its own dimensions", async () => {
    const lines = capture();
    const metrics = new EmfMetrics();
    await metrics.publish("CanaryFailures", 0, { Service: "a", Stage: "prod" });
    await metrics.publish("CanaryFailures", 2, { Service: "b", Stage: "prod" });
    const documents = lines
      .join("")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(documents.map((d) => [d.Service, d.CanaryFailures])).toEqual([
      ["a", 0],
      ["b", 2],
    ]);
  });
});
