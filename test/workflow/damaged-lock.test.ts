import { describe, expect, it } from "vitest";
import { GOOD_V2, WorkflowHarness } from "../support/workflow-harness.ts";

/**
 * A lock object that is not a lock (garbled bytes, a hand edit, a wrong shape) must end the
 * deployment with a named error that says how to recover, and must be left exactly as it was:
 * it is not this execution's to release or replace (issue 19, part B2).
 */
describe("a damaged lock", () => {
  for (const [what, json] of [
    ["bytes that are not JSON", '{"owner": "arn:aws:states:us-east-1:0:execution:gan'],
    ["JSON that is not a lock", JSON.stringify({ hello: "world" })],
  ] as const) {
    it(`ends LockDamaged and leaves the lock alone (${what})`, async () => {
      const world = new WorkflowHarness();
      const request = world.publish("3f2a9c1e0b7d", GOOD_V2, "octocat");
      world.records.preprod.data.set("locks/hello-service.json", { json, etag: '"garbled"' });

      const run = await world.run("preprod", request);

      expect(run.status).toBe("FAILED");
      expect(run.error).toBe("LockDamaged");
      expect(run.cause).toContain("locks/hello-service.json");
      expect(run.cause).toContain("damaged");
      expect(run.cause).toContain("gantry unlock hello-service --stage preprod");
      expect(run.cause).not.toContain("the next deployment takes it over");
      expect(run.states).toEqual([
        "ValidateInput",
        "AcquireLock",
        "FinishAfterFailure",
        "ReportFailure",
        "LockDamaged",
      ]);
      expect(world.lock("preprod")).toEqual({ json, etag: '"garbled"' });
      expect(world.functions.aliasHistory).toHaveLength(0);
    });
  }
});
