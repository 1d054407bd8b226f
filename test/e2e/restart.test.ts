/**
 * A kill -9 of the local control plane in the middle of a prod rollout, then a restart on the
 * same data directory: finished executions and histories are all there; the interrupted one is
 * FAILED because of the restart; its lock is released and its traffic is rolled back.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
} from "@aws-sdk/client-sfn";
import { approveByEmail } from "@gantry/local/approver";
import { afterAll, describe, expect, it } from "vitest";
import {
  type LocalProcess,
  STATE_MACHINE,
  startDeployment,
  startLocalProcess,
  throughPreprod,
  waitFor,
  waitForStatus,
} from "../support/local-process.ts";

const running: LocalProcess[] = [];
afterAll(async () => {
  for (const local of running) await local.kill("SIGKILL");
});

/** execution.json's status (sealed JSON or bare). */
function storedStatus(home: string, name: string): string {
  const file = join(home, "sfn/executions/gantry-prod", name, "execution.json");
  const parsed = JSON.parse(readFileSync(file, "utf8")) as {
    status?: string;
    value?: { status?: string };
  };
  return parsed.value?.status ?? parsed.status ?? "";
}

function prodAlias(home: string): { version: string; weights: Record<string, number> } {
  const raw = JSON.parse(
    readFileSync(join(home, "functions/hello-service-prod/function.json"), "utf8"),
  );
  // Sealed JSON ({sha256, value}) since the durable-files work; bare JSON before it.
  return (raw.value ?? raw).aliases.live;
}

describe("a crash in the middle of a deployment", () => {
  it("keeps every history, fails the interrupted execution, releases its lock and rolls its traffic back", async () => {
    // A slow bake keeps the rollout busy long enough to be killed in the middle of it.
    const first = await startLocalProcess({ timeScale: 0.02 });
    running.push(first);
    const { request } = await throughPreprod(first, "v2");
    const started = await startDeployment(first, "prod", request);
    const arn = started.executionArn as string;
    await approveByEmail(first, arn);
    // Wait until the new version has some traffic.
    await waitFor(
      () => {
        const alias = prodAlias(first.home);
        return alias.weights["2"] !== undefined ? alias : undefined;
      },
      30_000,
      () => "the rollout never shifted traffic",
    );
    const before =
      (
        await first.sfn.send(
          new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 1000 }),
        )
      ).events ?? [];

    expect(await first.kill("SIGKILL")).toBeNull();
    const lockFile = join(first.home, "buckets/gantry-state-prod/objects/locks/hello-service.json");
    expect(existsSync(lockFile)).toBe(true); // nobody released it: the process died

    const second = await startLocalProcess({ home: first.home, timeScale: 0.02 });
    running.push(second);
    const described = await second.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(described.status).toBe("FAILED");
    expect(described.error).toBe("ControlPlaneRestarted");
    expect(described.cause).toContain("control plane stopped while this execution was running");

    const after =
      (
        await second.sfn.send(
          new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 1000 }),
        )
      ).events ?? [];
    expect(after.length).toBeGreaterThan(before.length);
    expect(after.slice(0, before.length).map((e) => [e.id, e.type])).toEqual(
      before.map((e) => [e.id, e.type]),
    );
    expect(after.at(-1)).toMatchObject({
      type: "ExecutionFailed",
      executionFailedEventDetails: { error: "ControlPlaneRestarted" },
    });
    expect(after.map((e) => e.id)).toEqual(after.map((_, i) => i + 1));

    // Cleanup: the alias serves the previous version alone, and the lock is gone.
    await waitFor(
      () => (existsSync(lockFile) ? undefined : true),
      10_000,
      () => "the lock was not released",
    );
    expect(prodAlias(second.home)).toMatchObject({ version: "1", weights: {} });

    // The preprod deployment that finished before the crash is still there, with its history.
    const preprod = await second.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: STATE_MACHINE.preprod }),
    );
    expect(preprod.executions?.map((e) => e.status)).toEqual(["SUCCEEDED"]);
    const preprodHistory = await second.sfn.send(
      new GetExecutionHistoryCommand({
        executionArn: preprod.executions?.[0]?.executionArn,
        maxResults: 1000,
      }),
    );
    expect(preprodHistory.events?.at(-1)?.type).toBe("ExecutionSucceeded");

    // And the restarted control plane deploys again.
    const retry = await throughPreprod(second, "v1");
    const again = await startDeployment(second, "prod", retry.request);
    await approveByEmail(second, again.executionArn as string, "bob@example.com");
    const done = await waitForStatus(second, again.executionArn as string, undefined, 60_000);
    expect(done.status).toBe("SUCCEEDED");
  });
});

describe("crashes during the recovery itself", () => {
  it("never marks the interrupted execution terminal before its cleanup ran, however often it dies", async () => {
    const first = await startLocalProcess({ timeScale: 0.02 });
    running.push(first);
    const { request } = await throughPreprod(first, "v2");
    const started = await startDeployment(first, "prod", request);
    const arn = started.executionArn as string;
    const name = arn.split(":").at(-1) as string;
    await approveByEmail(first, arn);
    await waitFor(
      () => (prodAlias(first.home).weights["2"] !== undefined ? true : undefined),
      30_000,
      () => "the rollout never shifted traffic",
    );
    expect(await first.kill("SIGKILL")).toBeNull();
    const home = first.home;
    const lockFile = join(home, "buckets/gantry-state-prod/objects/locks/hello-service.json");
    const intentFile = join(home, "sfn/executions/gantry-prod", name, "reconcile.json");

    // Dies as soon as it has promised the cleanup: nothing moved yet, nothing is over.
    await expect(
      startLocalProcess({
        home,
        timeScale: 0.02,
        env: { GANTRY_CRASH_AT: "after-reconcile-intent" },
      }),
    ).rejects.toThrow(/did not start/);
    expect(existsSync(intentFile)).toBe(true);
    expect(storedStatus(home, name)).toBe("RUNNING");
    expect(prodAlias(home).weights["2"]).toBeDefined();
    expect(existsSync(lockFile)).toBe(true);

    // Dies after the cleanup, before the execution is marked over: the cleanup is done.
    await expect(
      startLocalProcess({
        home,
        timeScale: 0.02,
        env: { GANTRY_CRASH_AT: "after-cleanup-before-terminal" },
      }),
    ).rejects.toThrow(/did not start/);
    expect(storedStatus(home, name)).toBe("RUNNING");
    expect(prodAlias(home)).toMatchObject({ version: "1", weights: {} });
    expect(existsSync(lockFile)).toBe(false);

    // The next start finishes the job: FAILED once, with one ExecutionFailed, the record kept.
    const last = await startLocalProcess({ home, timeScale: 0.02 });
    running.push(last);
    const described = await last.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(described).toMatchObject({ status: "FAILED", error: "ControlPlaneRestarted" });
    const events =
      (await last.sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 1000 })))
        .events ?? [];
    expect(events.filter((e) => e.type === "ExecutionFailed")).toHaveLength(1);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    expect(existsSync(intentFile)).toBe(false);
    expect(prodAlias(home)).toMatchObject({ version: "1", weights: {} });
    const records = readdirSync(
      join(home, "buckets/gantry-state-prod/objects/deployments/hello-service"),
    );
    expect(records.some((file) => file.includes(name))).toBe(true);
  });
});
