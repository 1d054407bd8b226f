/**
 * `npm run demo`, run as CI runs it (its own private control plane), then checked from the
 * outside: the final alias, the artifacts' bytes against their SHA-256, the metrics per version,
 * and the execution histories of both stories.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { buildVariant } from "../../examples/hello-service/build.ts";
import { ROOT } from "../support/local-process.ts";

const run = promisify(execFile);

interface Step {
  executionArn: string;
  status: string;
  error?: string;
  cause?: string;
}

interface Report {
  failures: string[];
  goodVersion: string;
  home: string;
  timings: { approvalClickToTrafficShiftSeconds: number; alarmToRollbackMs: number };
  stories: {
    good: { version: string; sha256: string; key: string; preprod: Step; prod: Step };
    broken: { version: string; sha256: string; preprod: Step };
    prodBug: {
      version: string;
      sha256: string;
      key: string;
      preprod: Step;
      prod: Step;
      trafficAtAlarm: number | null;
    };
    diluted: { version: string; preprod: Step; prod: Step; aliasAlarm: string | null };
    incident: { version: string; prod: Step; alarmInAlarm: boolean };
    fix: {
      version: string;
      sha256: string;
      prod: Step;
      verdict: { decision: string; summary: string; fix?: { improved: boolean } } | null;
    };
  };
  finalVersion: string;
  world: {
    invocations: { functionName: string; version: string; invocations: number; errors: number }[];
  };
}

let report: Report;
let stdout: string;
let home: string;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "gantry-demo-e2e-"));
  const reportFile = join(home, "report.json");
  const out = await run(
    process.execPath,
    [join(ROOT, "examples/demo/main.ts"), "--report", reportFile],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        GANTRY_HOME: home,
        GANTRY_DEMO_PRIVATE: "1",
      },
      timeout: 360_000,
    },
  ).catch((error: Error & { stdout?: string; stderr?: string }) => {
    // Say what the demo said, not only that it exited non-zero.
    throw new Error(
      `the demo failed: ${error.message}\n${error.stdout ?? ""}\n${error.stderr ?? ""}`,
    );
  });
  stdout = out.stdout;
  report = JSON.parse(readFileSync(reportFile, "utf8"));
}, 380_000);

function history(executionArn: string): { type: string; [details: string]: unknown }[] {
  const [, machine, name] = /:execution:([^:]+):(.+)$/.exec(executionArn) ?? [];
  return readFileSync(
    join(home, "sfn/executions", machine as string, name as string, "history.jsonl"),
    "utf8",
  )
    .trim()
    .split("\n")
    .map((line) => unsealed(JSON.parse(line)));
}

function entered(events: ReturnType<typeof history>): string[] {
  return events.flatMap((e) =>
    e.type.endsWith("StateEntered") ? [(e.stateEnteredEventDetails as { name: string }).name] : [],
  );
}

/** A JSON file of the data directory: sealed ({sha256, value}) since the durable-files work, bare before. */
function storedJson(file: string) {
  return unsealed(JSON.parse(readFileSync(file, "utf8")));
}

/** A sealed document's value ({sha256, value}: files and history lines), or the bare document. */
function unsealed(raw: ReturnType<typeof JSON.parse>) {
  return raw && typeof raw.sha256 === "string" && "value" in raw ? raw.value : raw;
}

function objectOnDisk(bucket: string, key: string) {
  const bytes = readFileSync(join(home, "buckets", bucket, "objects", ...key.split("/")));
  const meta = storedJson(`${join(home, "buckets", bucket, "meta", ...key.split("/"))}.json`);
  return { sha256: createHash("sha256").update(bytes).digest("hex"), meta };
}

describe("npm run demo", () => {
  it("tells the story and says everything happened as it should", () => {
    expect(report.failures).toEqual([]);
    expect(stdout).toContain("Everything happened as it should.");
    expect(stdout).toMatch(/approval click → traffic shifted to v2 +\d/);
    // Times are measured (npm run bench), never asserted: only the lines' shape is checked.
    expect(stdout).toMatch(/alarm in ALARM → v4 rolled back +\d+ ms\n/);
    expect(stdout).toMatch(/: the rollback did not wait for a poll\n/);
  });

  it("leaves prod on the fix alone: the final alias", () => {
    const fn = storedJson(join(home, "functions/hello-service-prod/function.json"));
    expect(fn.aliases.live).toMatchObject({ version: report.finalVersion, weights: {} });
    const served = fn.versions.find((v: { version: string }) => v.version === report.finalVersion);
    expect(served.codeSha256).toBe(buildVariant("v7-token-fix").sha256);
  });

  it("copied the exact bytes: every artifact's checksum, in preprod and prod", () => {
    for (const story of [report.stories.good, report.stories.prodBug]) {
      for (const bucket of ["acme-gantry-artifacts-preprod", "acme-gantry-artifacts-prod"]) {
        const object = objectOnDisk(bucket, story.key);
        expect(object.sha256).toBe(story.sha256);
        expect(object.meta.sha256).toBe(story.sha256);
      }
      expect(objectOnDisk("acme-gantry-artifacts-prod", story.key).meta.metadata).toMatchObject({
        "gantry-version": story.version,
        "gantry-approved-by": "alice@example.com",
      });
    }
    expect(
      readdirSync(join(home, "buckets/acme-gantry-artifacts-prod/objects/hello-service")),
    ).not.toContain(report.stories.broken.version);
  });

  it("shows in the metrics that v4 failed under prod traffic and v2 did not", () => {
    const prod = report.world.invocations.filter((i) => i.functionName === "hello-service-prod");
    const good = prod.find((i) => i.version === report.goodVersion);
    const bad = prod.find(
      (i) => i.version === report.stories.prodBug.prod.cause?.match(/while version (\d+)/)?.[1],
    );
    expect(good?.invocations).toBeGreaterThan(20);
    expect(bad?.invocations).toBeGreaterThan(0);
    expect(bad?.errors).toBeGreaterThan(0);
    expect(bad?.errors).toBeLessThanOrEqual(bad?.invocations ?? 0);
    // The good version's errors, if any, are none of its own doing: it answers every request.
    expect(good?.errors).toBe(0);
  });

  it("recorded the good story's history: through approval, every traffic step, the bake, to success", () => {
    const events = history(report.stories.good.prod.executionArn);
    const states = entered(events);
    expect(states.slice(0, 7)).toEqual([
      "ValidateInput",
      "AcquireLock",
      "VerifyPreprod",
      "ApprovalGate",
      "VerifyApproval",
      "CopyArtifact",
      "Deploy",
    ]);
    expect(states.filter((s) => s === "CheckAlarms").length).toBeGreaterThanOrEqual(3);
    expect(states).toContain("Promote");
    expect(states.slice(-2)).toEqual(["Finish", "Deployed"]);
    expect(events.at(-1)?.type).toBe("ExecutionSucceeded");
    const verified = events.find(
      (e) =>
        e.type === "TaskStateExited" &&
        (e as { stateExitedEventDetails?: { name?: string } }).stateExitedEventDetails?.name ===
          "VerifyApproval",
    ) as { stateExitedEventDetails: { output: string } } | undefined;
    expect(JSON.parse(verified?.stateExitedEventDetails.output ?? "{}").approval).toMatchObject({
      by: "alice@example.com",
      how: "approver",
      verified: true,
    });
  });

  it("recorded the rolled-back story's history: the alarm, the rollback, the named failure", () => {
    const { prod, trafficAtAlarm } = report.stories.prodBug;
    expect(prod).toMatchObject({ status: "FAILED", error: "AlarmTriggered" });
    expect(prod.cause).toContain(`rolled back to version ${report.goodVersion}`);
    expect([10, 25, 50, 100]).toContain(trafficAtAlarm);
    const events = history(prod.executionArn);
    const states = entered(events);
    // v4 got real traffic before the alarm: the canary passed and gave it the first step, 10%.
    const canary = events.find(
      (e) =>
        e.type === "TaskStateExited" &&
        (e as { stateExitedEventDetails?: { name?: string } }).stateExitedEventDetails?.name ===
          "Canary",
    ) as { stateExitedEventDetails: { output: string } } | undefined;
    expect(JSON.parse(canary?.stateExitedEventDetails.output ?? "{}").rollout?.weight).toBe(10);
    expect(states).toContain("Rollback");
    expect(states.at(-1)).toBe("AlarmTriggered");
    // The alarm's event fails the hold's callback Task (TaskFailed); CheckAlarms, a plain Lambda
    // Task (LambdaFunctionFailed), fails only if the alarm fired between a hold's end and its check.
    const failed = events.find(
      (e) => e.type === "TaskFailed" || e.type === "LambdaFunctionFailed",
    ) as
      | {
          taskFailedEventDetails?: { error: string };
          lambdaFunctionFailedEventDetails?: { error: string };
        }
      | undefined;
    expect(
      (failed?.taskFailedEventDetails ?? failed?.lambdaFunctionFailedEventDetails)?.error,
    ).toBe("AlarmTriggered");
    expect(Number.isInteger(report.timings.alarmToRollbackMs)).toBe(true);
    expect(report.timings.alarmToRollbackMs).toBeGreaterThan(0);
  });

  it("caught the diluted failure by the version analysis, the alias's alarm quiet", () => {
    const { prod, preprod, aliasAlarm } = report.stories.diluted;
    expect(preprod.status).toBe("SUCCEEDED");
    expect(prod).toMatchObject({ status: "FAILED", error: "VersionRegressed" });
    expect(aliasAlarm).toBe("OK");
    const events = history(prod.executionArn);
    const states = entered(events);
    expect(states).toEqual(expect.arrayContaining(["NoteAnalysisFailure", "Rollback"]));
    expect(states.at(-1)).toBe("VersionRegressed");
    expect(states).not.toContain("AlarmTriggered");
    // The verdict is CheckAlarms' output: both versions' numbers and the test's p-value.
    const checked = events.findLast(
      (e) =>
        e.type === "TaskStateExited" &&
        (e as { stateExitedEventDetails?: { name?: string } }).stateExitedEventDetails?.name ===
          "CheckAlarms",
    ) as { stateExitedEventDetails: { output: string } } | undefined;
    const verdict = JSON.parse(checked?.stateExitedEventDetails.output ?? "{}").rollout?.analysis;
    expect(verdict).toMatchObject({ decision: "fail", failure: "VersionRegressed", weight: 10 });
    expect(verdict.errorRate.pValue).toBeLessThan(0.05);
    expect(verdict.newVersion.failures).toBeGreaterThan(0);
    expect(verdict.previousVersion.failures).toBe(0);
  });

  it("deployed the fix during the incident, approved by a person, judged by the analysis", () => {
    const { incident, fix } = report.stories;
    expect(incident.prod.status).toBe("SUCCEEDED");
    expect(incident.alarmInAlarm).toBe(true);
    expect(fix.prod.status).toBe("SUCCEEDED");
    expect(fix.verdict).toMatchObject({ decision: "pass", fix: { improved: true } });
    const events = history(fix.prod.executionArn);
    const verified = events.find(
      (e) =>
        e.type === "TaskStateExited" &&
        (e as { stateExitedEventDetails?: { name?: string } }).stateExitedEventDetails?.name ===
          "VerifyApproval",
    ) as { stateExitedEventDetails: { output: string } } | undefined;
    expect(JSON.parse(verified?.stateExitedEventDetails.output ?? "{}").approval).toMatchObject({
      how: "approver",
      by: "alice@example.com",
    });
    expect(stdout).toMatch(
      /the email says: ".*during an incident: a fix for hello-service-prod-errors/,
    );
  });

  it("stopped the broken build at preprod, rolled back there too", () => {
    const { preprod } = report.stories.broken;
    expect(preprod).toMatchObject({ status: "FAILED", error: "CanaryFailed" });
    expect(preprod.cause).toContain("ReferenceError: greeting is not defined");
    expect(entered(history(preprod.executionArn))).toEqual(
      expect.arrayContaining(["Canary", "Rollback", "CanaryFailed"]),
    );
    const preprodFn = storedJson(join(home, "functions/hello-service-preprod/function.json"));
    expect(preprodFn.aliases.live.weights).toEqual({});
  });
});
