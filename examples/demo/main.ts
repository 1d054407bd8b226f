/**
 * `npm run demo`: hello-service's whole story, with nobody at the keyboard. It plays CI with the
 * `gantry` command (publish, deploy --wait, validate; ci.ts) and an approver (the link from the
 * outbox, opened and confirmed; approver.ts):
 *
 *   1. a good release (v2) goes through preprod and, once approved, to 100% in prod;
 *   2. a release broken everywhere (v3) fails its canary in preprod and never reaches prod;
 *   3. a release with a bug only prod traffic finds (v4) passes preprod, is approved, trips its
 *      alarm under prod traffic and is rolled back by itself;
 *   4. a release that fails one plain greeting in five (v5): at 10% of traffic the alias's error rate
 *      stays under its alarm, but the version analysis compares v5 with the live version on their
 *      own numbers (Lambda's ExecutedVersion metrics) and rolls it back (VersionRegressed);
 *   5. an incident: v6 passes everything, then its access token expires and prod's alarm goes to
 *      ALARM; the fix (v7) is deployed with `--fix-for` during the incident, approved by a person
 *      (the email says it is a fix), and judged by the analysis: it must fail less than v6.
 *
 * It uses the control plane `npm start` runs, if one is running (watch it in the console), or
 * starts a private one (GANTRY_DEMO_PRIVATE=1 forces that; plane.ts). What happened comes from
 * `gantry deploy`'s JSON summaries and the console's view of the world. It exits 0 only if every
 * step ended as the story says. `--report <file>` writes what happened as JSON.
 */
import { writeFileSync } from "node:fs";
import type { DeploymentSummary } from "@gantry/cli";
import { buildVariant } from "../hello-service/build.ts";
import { approveFromOutbox } from "./approver.ts";
import { Ci, type Deployment, type Published } from "./ci.ts";
import { connect, type Plane, worldView } from "./plane.ts";

/** One deployment as the report records it. */
interface Step {
  readonly stage: string;
  readonly executionArn: string;
  readonly status: string;
  readonly result: string;
  readonly exitCode: number;
  readonly error?: string;
  readonly cause?: string;
  readonly seconds: number | null;
}

const report: Record<string, unknown> = { stories: {} };
const failures: string[] = [];
const t0 = Date.now();

function say(line = ""): void {
  process.stdout.write(`${line}\n`);
}

function expectThat(ok: boolean, what: string): void {
  if (!ok) {
    failures.push(what);
    say(`   ✗ expected: ${what}`);
  }
}

function stepOf(summary: DeploymentSummary): Step {
  return {
    stage: summary.stage ?? "",
    executionArn: summary.executionArn,
    status: summary.status,
    result: summary.result,
    exitCode: summary.exitCode,
    ...(summary.error ? { error: summary.error } : {}),
    ...(summary.cause ? { cause: summary.cause } : {}),
    seconds: summary.durationSeconds === null ? null : round(summary.durationSeconds),
  };
}

function outcomeLine(summary: DeploymentSummary): string {
  if (summary.status === "SUCCEEDED")
    return `✓ deployed (${round(summary.durationSeconds ?? 0)} s)`;
  return `✗ ${summary.error ?? summary.status}: ${(summary.cause ?? "").slice(0, 160)}`;
}

/** When a state of the execution last finished, from the summary's state timings. */
function exitedAt(summary: DeploymentSummary, state: string): number | undefined {
  const visit = summary.states.findLast((s) => s.name === state && s.exitedAt);
  return visit?.exitedAt ? Date.parse(visit.exitedAt) : undefined;
}

/**
 * Milliseconds from the alarm entering ALARM to the alias serving only the previous version.
 * The start is the alarm's own state change, as the cause records it ("in ALARM since", the
 * change's time); the end is when Rollback read the alias back on the previous version alone
 * (the deployment record's `rollback.verifiedAt`, just after its UpdateAlias returned), or, if
 * the record cannot say, when the Rollback state ended (a little later).
 */
async function alarmToRollbackMs(
  ci: Ci,
  bad: DeploymentSummary,
  version: string,
): Promise<number | undefined> {
  const since = /in ALARM since (\S+)/.exec(bad.cause ?? "")?.[1];
  if (!since) return undefined;
  const record = await ci.provenance(version).catch(() => undefined);
  const verifiedAt =
    record?.execution.arn === bad.executionArn && record.rollback?.verifiedAt
      ? Date.parse(record.rollback.verifiedAt)
      : undefined;
  const restoredAt = verifiedAt ?? exitedAt(bad, "Rollback");
  const ms = restoredAt !== undefined ? restoredAt - Date.parse(since) : Number.NaN;
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

/** The alarm the prod stage of hello-service watches (gantry.registry.ts). */
const PROD_ALARM = "hello-service-prod-errors";

/** Waits until the alarm is in `state`, as the console's world view shows it; false on timeout. */
async function alarmIn(
  plane: Plane,
  name: string,
  state: string,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const alarm = (await worldView(plane)).alarms.find((a) => a.name === name);
    if (alarm?.state === state) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

/** A prod deployment, approved through the emailed link while `deploy --wait` follows it. */
async function deployToProd(ci: Ci, plane: Plane, artifact: Published) {
  let clickedAt: number | undefined;
  const deployment: Deployment = await ci.deploy("prod", artifact, async (name) => {
    clickedAt = await approveFromOutbox(plane, name, say);
  });
  return { ...deployment, clickedAt };
}

async function main(): Promise<void> {
  const plane = await connect();
  const ci = new Ci(plane);
  say(
    `Gantry demo: hello-service on ${plane.private ? "a private local control plane" : "the running local control plane"}`,
  );
  say(`  API ${plane.api} · console ${plane.web}/ · outbox ${plane.web}/outbox`);
  try {
    // 1. A good release.
    say("\n1. A good release: v2 greets people by name");
    const v2 = await ci.publish(buildVariant("v2"));
    say(`   published ${v2.key} (SHA-256 ${v2.sha256.slice(0, 16)}…)`);
    const pre2 = (await ci.deploy("preprod", v2)).summary;
    say(`   preprod  ${outcomeLine(pre2)}`);
    expectThat(pre2.status === "SUCCEEDED", "v2 deploys to preprod");
    await ci.validate(v2);
    say("   preprod tests pass: validation record written");
    const prod2 = await deployToProd(ci, plane, v2);
    // The first traffic step is given when the canary passes.
    const shifted = exitedAt(prod2.summary, "Canary");
    const clickToShift =
      shifted !== undefined && prod2.clickedAt !== undefined
        ? round((shifted - prod2.clickedAt) / 1000, 2)
        : undefined;
    const afterGood = await worldView(plane);
    const prodAlias = afterGood.services["hello-service"]?.prod;
    say(`   prod     ${outcomeLine(prod2.summary)}: version ${prodAlias?.version} serves 100%`);
    expectThat(prod2.summary.status === "SUCCEEDED", "v2 deploys to prod");
    expectThat(
      Object.keys(prodAlias?.weights ?? { x: 1 }).length === 0,
      "prod's alias serves one version after the promotion",
    );
    const goodVersion = prodAlias?.version;
    // Provenance, from the records the pipeline wrote: the trigger was proven by an ID token
    // (`gantry deploy` minted one with the local plane's issuer).
    const provenance = await ci.provenance(v2.version);
    const verifiedBy = provenance.trigger.verified?.issuer;
    say(
      `   provenance: ${provenance.repository?.name ?? "(unverified repository)"} commit ` +
        `${provenance.commit.slice(0, 12)}, triggered by ${provenance.trigger.actor} ` +
        `(${verifiedBy ? `verified by ${verifiedBy}` : "unverified"}); ` +
        `${provenance.artifact.verdict} at ${provenance.artifact.hops.length} hops; ` +
        `approved by ${provenance.approval?.by ?? "nobody"}`,
    );
    expectThat(
      verifiedBy !== undefined && provenance.repository?.verified === true,
      "v2's prod deployment carries a verified trigger",
    );
    expectThat(
      provenance.artifact.verdict === "same-bytes",
      "v2's provenance shows the same bytes at every hop",
    );

    // 2. Broken everywhere: stopped at preprod.
    say("\n2. A broken build: v3 fails on every request");
    const v3 = await ci.publish(buildVariant("v3-broken"));
    const pre3 = (await ci.deploy("preprod", v3)).summary;
    say(`   preprod  ${outcomeLine(pre3)}`);
    say("            no validation record, so it never goes to prod");
    expectThat(
      pre3.status === "FAILED" && pre3.error === "CanaryFailed",
      "v3 fails its canary in preprod",
    );
    const preprodAfter = (await worldView(plane)).services["hello-service"]?.preprod;
    expectThat(
      Object.keys(preprodAfter?.weights ?? { x: 1 }).length === 0,
      "preprod's alias is back on one version",
    );

    // 3. A bug only prod traffic finds: rolled back by the alarm.
    say(
      "\n3. A bug only prod traffic finds: v4 breaks on names in any language but English, which preprod's tests use",
    );
    const v4 = await ci.publish(buildVariant("v4-prod-bug"));
    const pre4 = (await ci.deploy("preprod", v4)).summary;
    say(`   preprod  ${outcomeLine(pre4)}`);
    expectThat(pre4.status === "SUCCEEDED", "v4 passes preprod");
    await ci.validate(v4);
    const prod4 = await deployToProd(ci, plane, v4);
    const bad = prod4.summary;
    // The cause names the alarm, since when it fires, and the share v4 had then (worded alike
    // whether the alarm's event ended a hold or a check found it).
    const trafficAtAlarm = Number(/had (\d+)% of traffic/.exec(bad.cause ?? "")?.[1] ?? Number.NaN);
    say(
      `   prod     traffic on v4: ${Number.isNaN(trafficAtAlarm) ? "?" : `${trafficAtAlarm}%`} when its alarm fired`,
    );
    say(`   prod     ${outcomeLine(bad)}`);
    const alarmToRollback = await alarmToRollbackMs(ci, bad, v4.version);
    // Which state the alarm failed: the hold its state-change event ended, or the check at a
    // hold's end (the alarm fired just as the hold's time was up). Neither waited for a poll.
    const stoppedBy = bad.states.findLast((s) => s.error === "AlarmTriggered")?.name;
    if (stoppedBy === "HoldTrafficStep" || stoppedBy === "Bake")
      say(
        `   prod     the alarm's state-change event ended ${stoppedBy} at once: the rollback did not wait for a poll`,
      );
    else if (stoppedBy)
      say(
        `   prod     the alarm fired as a hold ended; ${stoppedBy} read it at once: the rollback did not wait for a poll`,
      );
    const afterBad = await worldView(plane);
    const finalAlias = afterBad.services["hello-service"]?.prod;
    expectThat(
      bad.status === "FAILED" && bad.error === "AlarmTriggered",
      "v4 is stopped by its alarm in prod",
    );
    expectThat(
      bad.states.some((s) => s.name === "Rollback" && s.exitedAt !== null && !s.error),
      "the Rollback state ran",
    );
    expectThat(
      finalAlias?.version === goodVersion &&
        Object.keys(finalAlias?.weights ?? { x: 1 }).length === 0,
      `prod is back on version ${goodVersion} alone`,
    );

    // 4. A failure diluted below the alarm: only the version's own numbers show it.
    say("\n4. A failure the alias's alarm cannot see: v5 fails one plain greeting in five");
    const v5 = await ci.publish(buildVariant("v5-flaky"));
    const pre5 = (await ci.deploy("preprod", v5)).summary;
    say(`   preprod  ${outcomeLine(pre5)}`);
    expectThat(pre5.status === "SUCCEEDED", "v5 passes preprod");
    await ci.validate(v5);
    const diluted = (await deployToProd(ci, plane, v5)).summary;
    say(`   prod     ${outcomeLine(diluted)}`);
    const aliasAlarm = (await worldView(plane)).alarms.find((a) => a.name === PROD_ALARM);
    say(
      `   prod     the alias's alarm stayed ${aliasAlarm?.state ?? "?"}: at 10% of traffic, under 1% of the alias's requests failed`,
    );
    expectThat(
      diluted.status === "FAILED" && diluted.error === "VersionRegressed",
      "v5 is rolled back by the version analysis (VersionRegressed)",
    );
    const afterDiluted = (await worldView(plane)).services["hello-service"]?.prod;
    expectThat(
      afterDiluted?.version === goodVersion &&
        Object.keys(afterDiluted?.weights ?? { x: 1 }).length === 0,
      `prod is back on version ${goodVersion} alone after v5`,
    );

    // 5. An incident, and its fix deployed while the alarm is in ALARM.
    say("\n5. An incident: v6's access token expires after it went live; v7 is the fix");
    const v6 = await ci.publish(buildVariant("v6-expiring-token"));
    const pre6 = (await ci.deploy("preprod", v6)).summary;
    expectThat(pre6.status === "SUCCEEDED", "v6 passes preprod");
    await ci.validate(v6);
    const prod6 = (await deployToProd(ci, plane, v6)).summary;
    say(`   prod     ${outcomeLine(prod6)}`);
    expectThat(prod6.status === "SUCCEEDED", "v6 deploys to prod (its token is still fresh)");
    say("   prod     …until its token expires: waiting for the alarm");
    const incident = await alarmIn(plane, PROD_ALARM, "ALARM", 150_000);
    say(
      `   prod     ${PROD_ALARM} is ${incident ? "in ALARM: an incident" : "still not in ALARM"}`,
    );
    expectThat(incident, `${PROD_ALARM} goes to ALARM once v6's token expires`);
    const v7 = await ci.publish(buildVariant("v7-token-fix"));
    const pre7 = (await ci.deploy("preprod", v7)).summary;
    expectThat(pre7.status === "SUCCEEDED", "v7 passes preprod");
    await ci.validate(v7);
    say(`   prod     deploying v7 with --fix-for ${PROD_ALARM}`);
    const fix = (
      await ci.deploy(
        "prod",
        v7,
        async (name) => {
          await approveFromOutbox(plane, name, say);
        },
        [PROD_ALARM],
      )
    ).summary;
    say(`   prod     ${outcomeLine(fix)}`);
    const fixVerdict = (await ci.provenance(v7.version).catch(() => undefined))?.analysis;
    if (fixVerdict) say(`   prod     last verdict: ${fixVerdict.summary}`);
    expectThat(fixVerdict?.decision === "pass", "the fix's last verdict is a pass");
    expectThat(fix.status === "SUCCEEDED", "v7, the fix, deploys during the incident");
    const finalProd = (await worldView(plane)).services["hello-service"]?.prod;
    expectThat(
      finalProd !== undefined &&
        finalProd.version !== goodVersion &&
        Object.keys(finalProd.weights ?? { x: 1 }).length === 0,
      "prod serves the fix alone",
    );

    say("\nSummary");
    say(`   approval click → traffic shifted to v2     ${clickToShift ?? "?"} s`);
    say(`   alarm in ALARM → v4 rolled back             ${alarmToRollback ?? "?"} ms`);
    say(
      `   prod serves version ${finalProd?.version} (v7, the fix) at 100%; total ${round((Date.now() - t0) / 1000)} s`,
    );
    Object.assign(report, {
      stories: {
        good: {
          variant: "v2",
          version: v2.version,
          sha256: v2.sha256,
          key: v2.key,
          preprod: stepOf(pre2),
          prod: stepOf(prod2.summary),
        },
        broken: {
          variant: "v3-broken",
          version: v3.version,
          sha256: v3.sha256,
          key: v3.key,
          preprod: stepOf(pre3),
        },
        prodBug: {
          variant: "v4-prod-bug",
          version: v4.version,
          sha256: v4.sha256,
          key: v4.key,
          preprod: stepOf(pre4),
          prod: stepOf(bad),
          trafficAtAlarm: Number.isNaN(trafficAtAlarm) ? null : trafficAtAlarm,
        },
        diluted: {
          variant: "v5-flaky",
          version: v5.version,
          preprod: stepOf(pre5),
          prod: stepOf(diluted),
          aliasAlarm: aliasAlarm?.state ?? null,
        },
        incident: {
          variant: "v6-expiring-token",
          version: v6.version,
          prod: stepOf(prod6),
          alarmInAlarm: incident,
        },
        fix: {
          variant: "v7-token-fix",
          version: v7.version,
          sha256: v7.sha256,
          prod: stepOf(fix),
          verdict: fixVerdict ?? null,
        },
      },
      timings: {
        approvalClickToTrafficShiftSeconds: clickToShift,
        alarmToRollbackMs: alarmToRollback ?? null,
      },
      goodVersion,
      finalVersion: finalProd?.version ?? null,
      world: afterBad,
      home: plane.home,
    });
  } finally {
    const reportFile = flag("--report");
    if (reportFile)
      writeFileSync(reportFile, `${JSON.stringify({ ...report, failures }, null, 2)}\n`);
    ci.close();
    await plane.close();
  }
  if (failures.length > 0) {
    say(`\nThe demo did not go as the story says (${failures.length}): ${failures.join("; ")}`);
    process.exit(1);
  }
  say("\nEverything happened as it should.");
  process.exit(0);
}

function flag(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

await main().catch((error: unknown) => {
  say(`\ngantry demo: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
