import { TransientError } from "@gantry/core";
import { describe, expect, it } from "vitest";
import {
  BROKEN,
  BROKEN_IN_PROD,
  GOOD_V2,
  PREPROD_BUCKET,
  type RunReport,
  testRegistry,
  WorkflowHarness,
} from "../support/workflow-harness.ts";

/**
 * A world where preprod already runs and validated the artifact, ready for a prod run; alice
 * approves prod through her emailed link unless `approveAs` says otherwise (null: nobody).
 */
async function readyForProd(
  behaviour: object = GOOD_V2,
  approveAs: string | null = "alice@example.com",
) {
  const world = new WorkflowHarness();
  const request = world.publish("3f2a9c1e0b7d", behaviour, "octocat");
  const preprod = await world.run("preprod", request);
  expect(preprod.status).toBe("SUCCEEDED");
  world.validate(request);
  world.approveAs = approveAs ?? undefined;
  return { world, request };
}

/** The Task states that failed, in order (the final Fail state, named after the error, left out). */
const failedStates = (run: RunReport) =>
  run.events.flatMap((e) =>
    e.type === "StateFailed" && e.state.name !== run.error ? [e.state.name] : [],
  );

/**
 * Sets hello-prod-errors to ALARM partway through the bake: a while after the bake's hold has
 * read the alarms (OK) and started watching, well before the bake's end.
 */
function fireWhileBaking(world: WorkflowHarness) {
  let promoted = false;
  world.functions.onAliasChange((fn, alias) => {
    if (fn === "hello-prod" && alias.version === "2") promoted = true;
  });
  const original = world.alarms.describe.bind(world.alarms);
  let fired = false;
  world.alarms.describe = async (names) => {
    const statuses = await original(names);
    if (promoted && !fired) {
      fired = true;
      // 100 ms of the bake's 600 (scaled): the hold's own read of the alarms is behind it.
      setTimeout(() => world.alarms.set("hello-prod-errors", "ALARM", "5xx rate 4%"), 100);
    }
    return statuses;
  };
}

function expectUntouched(world: WorkflowHarness) {
  expect(world.functions.alias("hello-prod", "live")).toMatchObject({ version: "1", weights: {} });
  expect(world.functions.aliasHistory.filter((a) => a.functionName === "hello-prod")).toHaveLength(
    0,
  );
}

describe("failures before anything is deployed", () => {
  it("refuses invalid input before any side effect", async () => {
    const world = new WorkflowHarness();
    const run = await world.run("prod", {
      service: "hello-service",
      version: "not-a-sha",
      artifact: { key: "../prod/evil.zip", sha256: "abc" },
      trigger: { actor: "octocat" },
      targetFunction: "someone-elses-function",
    });

    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("InvalidInput");
    expect(run.cause).toContain("version");
    expect(run.cause).toContain("artifact.key");
    expect(run.cause).toContain("targetFunction: is not a known field");
    expect(run.states).toEqual([
      "ValidateInput",
      "DiscardRawInput",
      "FinishAfterFailure",
      "ReportFailure",
      "InvalidInput",
    ]);
    expect(world.records.prod.data.size).toBe(0);
    expectUntouched(world);
  });

  it("never trusts fields of a rejected input, even ones shaped like its own state", async () => {
    const { world, request } = await readyForProd(GOOD_V2, null);
    // Someone else's deployment holds the lock ...
    const other = world.start("prod", request);
    await world.approvalToken();
    const held = world.lock("prod");
    expect(held).toBeDefined();
    // ... and a crafted input claims to be that execution.
    const owner = JSON.parse(held?.json ?? "{}").owner;
    const run = await world.run("prod", {
      plan: { service: "hello-service" },
      execution: { id: owner, name: "x", startedAt: new Date().toISOString() },
    });

    expect(run.error).toBe("InvalidInput");
    expect(world.lock("prod")?.etag).toBe(held?.etag);
    other.stop("test over");
  });

  it("refuses an unknown service", async () => {
    const world = new WorkflowHarness();
    const request = { ...world.publish("aaaaaaa", GOOD_V2), service: "nobody-service" };
    const run = await world.run("prod", request);
    expect(run.error).toBe("InvalidInput");
    expect(run.cause).toContain("service: is not a registered service");
    expectUntouched(world);
  });

  it("stops an artifact preprod never validated", async () => {
    const world = new WorkflowHarness();
    const request = world.publish("3f2a9c1e0b7d", GOOD_V2);
    await world.run("preprod", request);
    const run = await world.run("prod", request);

    expect(run.error).toBe("PreprodNotValidated");
    expect(run.cause).toContain("no preprod validation record");
    expect(world.lock("prod")).toBeUndefined();
    expect(world.mailer.outbox).toHaveLength(0);
    expectUntouched(world);
  });

  it("stops bytes that do not match the requested SHA-256", async () => {
    const { world, request } = await readyForProd();
    // The preprod object is replaced after validation: same key, other bytes.
    world.artifacts.put(
      { bucket: PREPROD_BUCKET, key: request.artifact.key },
      JSON.stringify({ statusCode: 200, body: "tampered" }),
    );
    const run = await world.run("prod", request);

    expect(run.error).toBe("ArtifactChecksumMismatch");
    expect(world.lock("prod")).toBeUndefined();
    expectUntouched(world);
  });

  it("fails with ApprovalRejected when an approver says no", async () => {
    const { world, request } = await readyForProd(GOOD_V2, null);
    const execution = world.start("prod", request);
    await world.decide(execution.name, "bob@example.com", "reject", "not during the freeze");
    const run = await execution.done;

    expect(run.error).toBe("ApprovalRejected");
    expect(run.cause).toContain("bob@example.com");
    expect(world.lock("prod")).toBeUndefined();
    expectUntouched(world);
  });

  it("fails with ApprovalTimedOut when nobody decides in time, and the link's token dies with it", async () => {
    const world = new WorkflowHarness(testRegistry({ approvalTimeoutSeconds: 60 }));
    const request = world.publish("3f2a9c1e0b7d", GOOD_V2, "octocat");
    await world.run("preprod", request);
    world.validate(request);
    const execution = world.start("prod", request);
    const token = await world.approvalToken();
    const run = await execution.done;

    expect(run.error).toBe("ApprovalTimedOut");
    expect(run.states).toContain("NoteApprovalTimeout");
    expect(() => world.tokens.succeed(token, { approved: true })).toThrow(
      expect.objectContaining({ name: "TaskTimedOut" }),
    );
    expect(world.lock("prod")).toBeUndefined();
    expectUntouched(world);
  });

  it("refuses a second deployment to a busy target and leaves the first one alone", async () => {
    const { world, request } = await readyForProd(GOOD_V2, null);
    const first = world.start("prod", request);
    const token = await world.approvalToken();
    const second = world.publish("cccccccc", GOOD_V2, "octocat");
    const busy = await world.run("prod", second);

    expect(busy.error).toBe("DeploymentInProgress");
    expect(busy.cause).toContain(first.arn);
    expect(world.lock("prod")).toBeDefined();

    expect(token).toBeTruthy();
    await world.decide(first.name);
    const done = await first.done;
    expect(done.status).toBe("SUCCEEDED");
    expect(world.functions.alias("hello-prod", "live")).toMatchObject({
      version: "2",
      weights: {},
    });
    expect(world.lock("prod")).toBeUndefined();
  });

  it("takes over a lock whose owner is no longer running", async () => {
    const { world, request } = await readyForProd();
    world.records.prod.data.set("locks/hello-service.json", {
      json: JSON.stringify({
        owner: "arn:aws:states:us-east-1:000000000000:execution:gantry-prod:crashed",
        service: "hello-service",
        version: "0000000",
        acquiredAt: "2026-01-01T00:00:00Z",
      }),
      etag: '"stale"',
    });
    const run = await world.run("prod", request);

    expect(run.status).toBe("SUCCEEDED");
    const lock = run.events.find((e) => e.type === "StateExited" && e.state.name === "AcquireLock");
    expect(
      lock?.type === "StateExited" &&
        (lock.state.output as { lock: { brokeStaleLockOf?: string } }).lock.brokeStaleLockOf,
    ).toContain("crashed");
    expect(world.lock("prod")).toBeUndefined();
  });
});

describe("failures after the deploy started: rolled back", () => {
  it("stops a version that is broken everywhere at preprod, so it never reaches prod", async () => {
    const world = new WorkflowHarness();
    const request = world.publish("3f2a9c1e0b7d", BROKEN);
    const run = await world.run("preprod", request);

    expect(run.error).toBe("CanaryFailed");
    expect(world.functions.alias("hello-preprod", "live")).toMatchObject({
      version: "1",
      weights: {},
    });
    world.validate(request); // even if someone wrote a validation record by hand ...
    const prod = await world.run("prod", request);
    expect(prod.error).toBe("PreprodNotValidated"); // ... preprod does not serve these bytes
    expectUntouched(world);
  });

  it("stops a version that fails its canary in prod before it serves a single request", async () => {
    const { world, request } = await readyForProd(BROKEN_IN_PROD);
    const run = await world.run("prod", request);

    // The canary invoked version 2 directly; the alias never routed anything to it.
    expect(
      world.functions.invocations.filter(
        (i) => i.functionName === "hello-prod" && i.qualifier === "2",
      ).length,
    ).toBeGreaterThan(0);
    expect(
      world.functions.aliasHistory.filter(
        (a) => a.functionName === "hello-prod" && Object.keys(a.weights).length > 0,
      ),
    ).toEqual([]);

    expect(run.error).toBe("CanaryFailed");
    expect(run.cause).toMatch(/expected statusCode 200, got 500.*rolled back to version 1/);
    expect(run.states).toEqual(
      expect.arrayContaining(["Canary", "Rollback", "FinishAfterFailure", "CanaryFailed"]),
    );
    expect(world.functions.alias("hello-prod", "live")).toEqual(
      expect.objectContaining({ version: "1", weights: {} }),
    );
    expect(world.lock("prod")).toBeUndefined();
  });

  it("rolls back when an alarm fires during a traffic step", async () => {
    const { world, request } = await readyForProd();
    world.functions.onAliasChange((fn, alias) => {
      if (fn === "hello-prod" && alias.weights["2"] === 0.25)
        world.alarms.set("hello-prod-latency", "ALARM", "p99 above 800 ms");
    });
    const run = await world.run("prod", request);

    expect(run.error).toBe("AlarmTriggered");
    expect(run.cause).toContain("hello-prod-latency");
    expect(run.cause).toContain("25% of traffic");
    expect(run.states).not.toContain("Promote");
    expect(world.functions.alias("hello-prod", "live")).toEqual(
      expect.objectContaining({ version: "1", weights: {} }),
    );
    expect(world.lock("prod")).toBeUndefined();
  });

  it("rolls back when an alarm fires during the bake, after promotion", async () => {
    const { world, request } = await readyForProd();
    fireWhileBaking(world);
    const run = await world.run("prod", request);

    expect(run.error).toBe("AlarmTriggered");
    expect(run.states).toContain("Promote");
    // The bake's hold watched the alarm: its event failed the Bake Task, no end-of-bake check ran.
    expect(failedStates(run)).toEqual(["Bake"]);
    expect(run.states).not.toContain("CheckBakeAlarms");
    expect(run.cause).toContain("hello-prod-errors in ALARM");
    expect(run.cause).toContain("100% of traffic");
    expect(world.functions.alias("hello-prod", "live")).toEqual(
      expect.objectContaining({ version: "1", weights: {} }),
    );
    expect(world.lock("prod")).toBeUndefined();
  });

  it("rolls back at the end of the bake when the alarm's event is lost", async () => {
    const { world, request } = await readyForProd();
    world.alarmEvents = "lost";
    fireWhileBaking(world);
    const run = await world.run("prod", request);

    expect(run.error).toBe("AlarmTriggered");
    // Nothing ended the bake early: CheckBakeAlarms read the alarm at its end.
    expect(failedStates(run)).toEqual(["CheckBakeAlarms"]);
    expect(run.cause).toContain("100% of traffic");
    expect(world.functions.alias("hello-prod", "live")).toEqual(
      expect.objectContaining({ version: "1", weights: {} }),
    );
    expect(world.lock("prod")).toBeUndefined();
  });

  it("retries a transient AWS error and carries on", async () => {
    const { world, request } = await readyForProd();
    world.functions.faults.fail(
      "functions.updateCode",
      () => new TransientError("UpdateFunctionCode failed transiently (ThrottlingException)"),
      2,
    );
    const run = await world.run("prod", request);

    expect(run.status).toBe("SUCCEEDED");
    expect(
      run.events.filter((e) => e.type === "StateRetried" && e.state.name === "Deploy"),
    ).toHaveLength(2);
    expect(world.functions.alias("hello-prod", "live")).toMatchObject({
      version: "2",
      weights: {},
    });
    expect(world.lock("prod")).toBeUndefined();
  });

  it("ends in RollbackFailed, raises its alarm metric and still releases the lock", async () => {
    const { world, request } = await readyForProd();
    // At the second traffic step an alarm fires, and from then on the alias cannot be changed.
    world.functions.onAliasChange((fn, alias) => {
      if (fn === "hello-prod" && alias.weights["2"] === 0.25) {
        world.alarms.set("hello-prod-errors", "ALARM", "5xx rate 9%");
        world.functions.faults.fail(
          "functions.updateAlias",
          () => Object.assign(new Error("not authorized"), { name: "AccessDeniedException" }),
          99,
        );
      }
    });
    const run = await world.run("prod", request);

    expect(run.error).toBe("RollbackFailed");
    expect(run.cause).toContain("AccessDeniedException");
    expect(run.cause).toContain("AlarmTriggered");
    expect(world.metrics.published).toContainEqual({
      name: "RollbackFailed",
      value: 1,
      dimensions: { Service: "hello-service", Stage: "prod" },
    });
    // The alias is left where the failed rollback found it: 25% on the new version.
    expect(world.functions.alias("hello-prod", "live")).toMatchObject({
      version: "1",
      weights: { "2": 0.25 },
    });
    expect(world.lock("prod")).toBeUndefined();
  });
});
