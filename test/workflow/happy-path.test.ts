import { describe, expect, it } from "vitest";
import { GOOD_V2, PROD_BUCKET, WorkflowHarness } from "../support/workflow-harness.ts";

describe("a prod deployment that goes right", () => {
  it("promotes the exact bytes, shifts through every step, bakes and releases the lock", async () => {
    const world = new WorkflowHarness();
    const request = world.publish("3f2a9c1e0b7d", GOOD_V2);
    world.validate(request);
    // Preprod serves these bytes as its live version (what a preprod deployment leaves behind).
    const preprodRun = await world.run("preprod", request);
    expect(preprodRun.status).toBe("SUCCEEDED");

    const execution = world.start("prod", request);
    const token = await world.approvalToken();
    await world.decide(execution.name, "alice@example.com");
    const run = await execution.done;

    expect(run.status).toBe("SUCCEEDED");
    expect(world.functions.alias("hello-prod", "live")).toMatchObject({
      version: "2",
      weights: {},
    });
    // Traffic went 10 -> 25 -> 50 -> 100 on the new version, never skipping a step.
    const weights = world.functions.aliasHistory
      .filter((a) => a.functionName === "hello-prod")
      .map((a) => (a.version === "2" ? 100 : Math.round((a.weights["2"] ?? 0) * 100)));
    expect(weights).toEqual([10, 25, 50, 100]);
    expect(world.lock("prod")).toBeUndefined();
    // The prod copy carries the same bytes and its provenance.
    const copy = world.artifacts.object({ bucket: PROD_BUCKET, key: request.artifact.key });
    expect(copy?.sha256).toBe(request.artifact.sha256);
    expect(copy?.metadata).toMatchObject({
      "gantry-version": request.version,
      "gantry-approved-by": "alice@example.com",
    });
    // Both approvers were asked, each with their own links, none carrying the task token.
    expect(world.mailer.outbox.map((m) => m.to[0])).toEqual([
      "alice@example.com",
      "bob@example.com",
    ]);
    for (const mail of world.mailer.outbox) {
      expect(mail.text).not.toContain(token);
      expect(mail.html).not.toContain(token);
    }
    // The canary hit the new version directly, not the alias.
    expect(
      world.functions.invocations.some(
        (i) => i.functionName === "hello-prod" && i.qualifier === "2",
      ),
    ).toBe(true);
    // A deployment record with provenance.
    const records = [...world.records.prod.data.keys()].filter((k) => k.startsWith("deployments/"));
    expect(records).toHaveLength(1);
    const record = JSON.parse(world.records.prod.data.get(records[0] as string)?.json ?? "{}");
    expect(record).toMatchObject({
      version: request.version,
      sha256: request.artifact.sha256,
      approval: { by: "alice@example.com" },
      release: { newVersion: "2", previousVersion: "1" },
      outcome: { status: "deployed" },
    });
  });

  it("stays within 25 state transitions with three traffic steps, a 10-minute bake and a 60-second poll", async () => {
    const world = new WorkflowHarness();
    const request = world.publish("3f2a9c1e0b7d", GOOD_V2);
    world.validate(request);
    await world.run("preprod", request);
    world.approveAs = "alice@example.com";
    const run = await world.run("prod", request);

    expect(run.status).toBe("SUCCEEDED");
    expect(run.states.length).toBeLessThanOrEqual(25);
    // Each hold ends once, whatever the poll: one hold Task, one check and one Choice per step
    // and for the bake.
    const step = ["HoldTrafficStep", "CheckAlarms", "AllStepsHeld"];
    expect(run.states).toEqual([
      "ValidateInput",
      "AcquireLock",
      "VerifyPreprod",
      "ApprovalGate",
      "VerifyApproval",
      "CopyArtifact",
      "Deploy",
      "Canary",
      ...step,
      ...step,
      ...step,
      "Promote",
      "Bake",
      "CheckBakeAlarms",
      "BakeComplete",
      "Finish",
      "Deployed",
    ]);
  });

  it("redeploys the version the alias already serves: no traffic to shift, straight on to promote", async () => {
    const world = new WorkflowHarness();
    const request = world.publish("3f2a9c1e0b7d", GOOD_V2);
    expect((await world.run("preprod", request)).status).toBe("SUCCEEDED");
    const live = world.functions.alias("hello-preprod", "live");

    // The same release again (a redeploy on purpose: another execution name).
    const again = await world.start("preprod", request, "hello-service-redeploy").done;

    expect(again.status, `${again.error}: ${again.cause}`).toBe("SUCCEEDED");
    expect(again.states).toContain("Promote");
    expect(world.functions.alias("hello-preprod", "live")).toMatchObject({
      version: live?.version,
      weights: {},
    });
    expect(world.lock("preprod")).toBeUndefined();
  });

  it("waits for a person even when the caller claims to be an auto-approve actor", async () => {
    const world = new WorkflowHarness();
    const request = world.publish("aaaaaaa", GOOD_V2, "dependabot[bot]");
    world.validate(request);
    await world.run("preprod", request);
    const execution = world.start("prod", request);
    await world.approvalToken();

    expect(world.mailer.outbox.map((m) => m.to[0])).toEqual([
      "alice@example.com",
      "bob@example.com",
    ]);
    expect(world.functions.aliasHistory.filter((a) => a.functionName === "hello-prod")).toEqual([]);
    await world.decide(execution.name, "bob@example.com");
    const run = await execution.done;
    expect(run.status).toBe("SUCCEEDED");
    // The decision the deployment went on is the verified one, not whatever completed the task.
    const verified = run.events.find(
      (e) => e.type === "StateExited" && e.state.name === "VerifyApproval",
    );
    expect(
      verified?.type === "StateExited" && (verified.state.output as { approval: unknown }).approval,
    ).toMatchObject({ how: "approver", by: "bob@example.com", verified: true });
  });
});
