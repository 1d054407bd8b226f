/**
 * `npm run demo`: hello-service's whole story, with nobody at the keyboard. It plays CI (publish,
 * deploy, validate) and an approver (the link from the outbox, opened and confirmed over HTTP):
 *
 *   1. a good release (v2) goes through preprod and, once approved, to 100% in prod;
 *   2. a release broken everywhere (v3) fails its canary in preprod and never reaches prod;
 *   3. a release with a bug only prod traffic finds (v4) passes preprod, is approved, trips its
 *      alarm under prod traffic and is rolled back by itself.
 *
 * It uses the control plane `npm start` runs, if one is running (watch it in the console), or
 * starts a private one (GANTRY_DEMO_PRIVATE=1 forces that). It exits 0 only if every step ended
 * as the story says. `--report <file>` writes what happened as JSON.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { executionName, hexToBase64, validationKey } from "@gantry/core";
import {
  artifactKey,
  type BuiltVariant,
  buildVariant,
  type Variant,
} from "../../../examples/hello-service/build.ts";
import { type LocalControlPlane, startLocalControlPlane } from "./local-control-plane.ts";
import { silenceNegativeTimeoutWarnings } from "./quiet-warnings.ts";
import { localSettings } from "./settings.ts";
import type { WorldSnapshot } from "./web/world-api.ts";

const STATE_MACHINE = (stage: "preprod" | "prod") =>
  `arn:aws:states:us-east-1:000000000000:stateMachine:gantry-${stage}`;
const credentials = { accessKeyId: "demo", secretAccessKey: "demo" };

interface Target {
  readonly api: string;
  readonly sfn: SFNClient;
  readonly s3: S3Client;
  readonly web: string;
  readonly home: string;
  readonly preprodBucket: string;
  readonly private: boolean;
  close(): Promise<void>;
}

interface Step {
  readonly stage: "preprod" | "prod";
  readonly executionArn: string;
  readonly status: string;
  readonly error?: string;
  readonly cause?: string;
  readonly seconds: number;
}

const report: Record<string, unknown> = { stories: {} as Record<string, unknown> };
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

async function connect(): Promise<Target> {
  const settings = await localSettings(process.env);
  const endpointsFile = join(settings.home, "endpoints.json");
  if (process.env.GANTRY_DEMO_PRIVATE !== "1" && existsSync(endpointsFile)) {
    const endpoints = JSON.parse(readFileSync(endpointsFile, "utf8")) as {
      sfn: string;
      web: string;
      pid: number;
    };
    if (alive(endpoints.pid)) {
      return clients(
        endpoints.sfn,
        endpoints.web,
        settings.home,
        settings.registry.stages.preprod.sourceBucket,
        false,
        async () => undefined,
      );
    }
  }
  const home = process.env.GANTRY_HOME
    ? settings.home
    : mkdtempSync(join(tmpdir(), "gantry-demo-"));
  const local: LocalControlPlane = await startLocalControlPlane({
    ...settings,
    home,
    sfnPort: 0,
    webPort: 0,
    timeScale: process.env.GANTRY_TIME_SCALE ? settings.timeScale : 0.02,
    // The story is told here; failed steps are part of it, not warnings.
    functionLogLevel: process.env.GANTRY_LOG_LEVEL ? settings.functionLogLevel : "ERROR",
  });
  return clients(
    local.sfnEndpoint,
    local.webEndpoint,
    home,
    settings.registry.stages.preprod.sourceBucket,
    true,
    async () => {
      await local.close();
      if (!process.env.GANTRY_HOME) rmSync(home, { recursive: true, force: true });
    },
  );
}

function clients(
  sfnEndpoint: string,
  web: string,
  home: string,
  preprodBucket: string,
  isPrivate: boolean,
  close: () => Promise<void>,
): Target {
  const config = { endpoint: sfnEndpoint, region: "us-east-1", credentials };
  return {
    api: sfnEndpoint,
    sfn: new SFNClient(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
    web,
    home,
    preprodBucket,
    private: isPrivate,
    close,
  };
}

// ---- CI's part ---------------------------------------------------------------------------

async function publish(target: Target, variant: Variant): Promise<BuiltVariant & { key: string }> {
  const built = buildVariant(variant);
  const key = artifactKey(built);
  await target.s3
    .send(
      new PutObjectCommand({
        Bucket: target.preprodBucket,
        Key: key,
        Body: built.zip,
        ChecksumSHA256: hexToBase64(built.sha256),
        IfNoneMatch: "*",
      }),
    )
    .catch(async (error: Error) => {
      // Published before (a second demo run): fine if it is the same bytes.
      const head = await target.s3.send(
        new HeadObjectCommand({ Bucket: target.preprodBucket, Key: key, ChecksumMode: "ENABLED" }),
      );
      if (error.name !== "PreconditionFailed" || head.ChecksumSHA256 !== hexToBase64(built.sha256))
        throw error;
    });
  return { ...built, key };
}

async function validate(target: Target, built: { version: string; sha256: string }): Promise<void> {
  const record = {
    service: "hello-service",
    version: built.version,
    sha256: built.sha256,
    validatedAt: new Date().toISOString(),
    validatedBy: "demo",
  };
  await target.s3
    .send(
      new PutObjectCommand({
        Bucket: target.preprodBucket,
        Key: validationKey("hello-service", built.version),
        Body: JSON.stringify(record),
        IfNoneMatch: "*",
      }),
    )
    .catch((error: Error) => {
      if (error.name !== "PreconditionFailed") throw error;
    });
}

function requestFor(built: { version: string; sha256: string; key: string }) {
  return {
    service: "hello-service",
    version: built.version,
    artifact: { key: built.key, sha256: built.sha256 },
    trigger: { actor: "demo", ciRunUrl: "http://localhost/demo" },
  };
}

async function start(
  target: Target,
  stage: "preprod" | "prod",
  request: ReturnType<typeof requestFor>,
): Promise<string> {
  // The same version deployed again (another demo run) needs a new attempt.
  for (let attempt = 1; ; attempt++) {
    try {
      const out = await target.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: STATE_MACHINE(stage),
          name: executionName(request, attempt),
          input: JSON.stringify(request),
        }),
      );
      return out.executionArn as string;
    } catch (error) {
      if ((error as Error).name !== "ExecutionAlreadyExists" || attempt >= 100) throw error;
    }
  }
}

async function finish(
  target: Target,
  stage: "preprod" | "prod",
  executionArn: string,
  started: number,
): Promise<Step> {
  let out: DescribeExecutionCommandOutput;
  do {
    await sleep(100);
    out = await target.sfn.send(new DescribeExecutionCommand({ executionArn }));
  } while (out.status === "RUNNING");
  return {
    stage,
    executionArn,
    status: out.status ?? "UNKNOWN",
    ...(out.error ? { error: out.error } : {}),
    ...(out.cause ? { cause: out.cause } : {}),
    seconds: round((Date.now() - started) / 1000),
  };
}

async function deploy(
  target: Target,
  stage: "preprod" | "prod",
  request: ReturnType<typeof requestFor>,
  approve?: (arn: string) => Promise<number>,
) {
  const started = Date.now();
  const arn = await start(target, stage, request);
  const clickedAt = approve ? await approve(arn) : undefined;
  return { step: await finish(target, stage, arn, started), clickedAt };
}

// ---- the approver's part ----------------------------------------------------------------

/** Reads the approval email from the outbox (an .eml file), opens its link and confirms. */
async function approveFromOutbox(target: Target, executionArn: string): Promise<number> {
  const name = executionArn.split(":").at(-1) as string;
  const dir = join(target.home, "outbox");
  let text: string | undefined;
  for (let i = 0; i < 600 && !text; i++) {
    await sleep(50);
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".eml"))) {
      const raw = readFileSync(join(dir, file), "utf8");
      if (raw.includes(name) && raw.includes("To: alice@example.com")) text = raw;
    }
  }
  if (!text) throw new Error(`no approval email for ${name} in ${dir}`);
  const link = /^Approve: (\S+)$/m.exec(text)?.[1];
  if (!link) throw new Error("the approval email has no approve link");
  say("   prod     approval requested: emailed alice@example.com and bob@example.com");
  const page = await fetch(link);
  const html = await page.text();
  if (page.status !== 200) throw new Error(`the approval link answered ${page.status}`);
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    form.set(m[1] as string, decodeEntities(m[2] as string));
  form.set("comment", "approved by the demo");
  const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1] ?? "";
  const decided = await fetch(new URL(action, link), {
    method: "POST",
    body: form,
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  const clickedAt = Date.now();
  await decided.text();
  if (decided.status !== 200) throw new Error(`confirming the approval answered ${decided.status}`);
  say("            alice@example.com opened the link from the outbox and confirmed");
  return clickedAt;
}

function decodeEntities(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

// ---- reading what happened --------------------------------------------------------------

async function history(target: Target, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await target.sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

function exitOf(events: HistoryEvent[], state: string): number | undefined {
  const event = events.find(
    (e) => e.type === "TaskStateExited" && e.stateExitedEventDetails?.name === state,
  );
  return event?.timestamp?.getTime();
}

async function world(target: Target): Promise<WorldSnapshot> {
  return (await (await fetch(`${target.web}/api/world`)).json()) as WorldSnapshot;
}

function outcomeLine(step: Step): string {
  if (step.status === "SUCCEEDED") return `✓ deployed (${step.seconds} s)`;
  return `✗ ${step.error ?? step.status}: ${(step.cause ?? "").slice(0, 160)}`;
}

// ---- the story --------------------------------------------------------------------------

async function main(): Promise<void> {
  silenceNegativeTimeoutWarnings();
  const target = await connect();
  say(
    `Gantry demo: hello-service on ${target.private ? "a private local control plane" : "the running local control plane"}`,
  );
  say(`  API ${target.api} · console ${target.web}/ · outbox ${target.web}/outbox`);
  try {
    // 1. A good release.
    say("\n1. A good release: v2 greets people by name");
    const v2 = await publish(target, "v2");
    say(`   published ${v2.key} (SHA-256 ${v2.sha256.slice(0, 16)}…)`);
    const pre2 = (await deploy(target, "preprod", requestFor(v2))).step;
    say(`   preprod  ${outcomeLine(pre2)}`);
    expectThat(pre2.status === "SUCCEEDED", "v2 deploys to preprod");
    await validate(target, v2);
    say("   preprod tests pass: validation record written");
    const prod2 = await deploy(target, "prod", requestFor(v2), (arn) =>
      approveFromOutbox(target, arn),
    );
    const events2 = await history(target, prod2.step.executionArn);
    const shifted = exitOf(events2, "Canary"); // the first traffic step is given when the canary passes
    const clickToShift =
      shifted !== undefined && prod2.clickedAt !== undefined
        ? round((shifted - prod2.clickedAt) / 1000, 2)
        : undefined;
    const afterGood = await world(target);
    const prodAlias = afterGood.services["hello-service"]?.prod;
    say(`   prod     ${outcomeLine(prod2.step)}: version ${prodAlias?.version} serves 100%`);
    expectThat(prod2.step.status === "SUCCEEDED", "v2 deploys to prod");
    expectThat(
      Object.keys(prodAlias?.weights ?? { x: 1 }).length === 0,
      "prod's alias serves one version after the promotion",
    );
    const goodVersion = prodAlias?.version;

    // 2. Broken everywhere: stopped at preprod.
    say("\n2. A broken build: v3 fails on every request");
    const v3 = await publish(target, "v3-broken");
    const pre3 = (await deploy(target, "preprod", requestFor(v3))).step;
    say(`   preprod  ${outcomeLine(pre3)}`);
    say("            no validation record, so it never goes to prod");
    expectThat(
      pre3.status === "FAILED" && pre3.error === "CanaryFailed",
      "v3 fails its canary in preprod",
    );
    const preprodAfter = (await world(target)).services["hello-service"]?.preprod;
    expectThat(
      Object.keys(preprodAfter?.weights ?? { x: 1 }).length === 0,
      "preprod's alias is back on one version",
    );

    // 3. A bug only prod traffic finds: rolled back by the alarm.
    say("\n3. A bug only prod traffic finds: v4 breaks on names, which preprod's tests never send");
    const v4 = await publish(target, "v4-prod-bug");
    const pre4 = (await deploy(target, "preprod", requestFor(v4))).step;
    say(`   preprod  ${outcomeLine(pre4)}`);
    expectThat(pre4.status === "SUCCEEDED", "v4 passes preprod");
    await validate(target, v4);
    const prod4 = await deploy(target, "prod", requestFor(v4), (arn) =>
      approveFromOutbox(target, arn),
    );
    const events4 = await history(target, prod4.step.executionArn);
    const weights = events4
      .filter(
        (e) =>
          e.type === "TaskStateExited" &&
          ["Canary", "CheckAlarms", "Promote"].includes(e.stateExitedEventDetails?.name ?? ""),
      )
      .map(
        (e) =>
          (
            JSON.parse(e.stateExitedEventDetails?.output ?? "{}") as {
              rollout?: { weight?: number };
            }
          ).rollout?.weight,
      )
      .filter((w, i, all): w is number => w !== undefined && w !== all[i - 1]);
    say(`   prod     traffic on v4: ${weights.map((w) => `${w}%`).join(" → ")}`);
    say(`   prod     ${outcomeLine(prod4.step)}`);
    const alarmSince = /in ALARM since (\S+)/.exec(prod4.step.cause ?? "")?.[1];
    const rolledBackAt = exitOf(events4, "Rollback");
    const alarmToRollback =
      alarmSince && rolledBackAt
        ? round((rolledBackAt - Date.parse(alarmSince)) / 1000, 2)
        : undefined;
    const afterBad = await world(target);
    const finalAlias = afterBad.services["hello-service"]?.prod;
    expectThat(
      prod4.step.status === "FAILED" && prod4.step.error === "AlarmTriggered",
      "v4 is stopped by its alarm in prod",
    );
    expectThat(
      events4.some(
        (e) => e.type === "TaskStateExited" && e.stateExitedEventDetails?.name === "Rollback",
      ),
      "the Rollback state ran",
    );
    expectThat(
      finalAlias?.version === goodVersion &&
        Object.keys(finalAlias?.weights ?? { x: 1 }).length === 0,
      `prod is back on version ${goodVersion} alone`,
    );

    say("\nSummary");
    say(`   approval click → traffic shifted to v2     ${clickToShift ?? "?"} s`);
    say(`   alarm in ALARM → v4 rolled back             ${alarmToRollback ?? "?"} s`);
    say(
      `   prod serves version ${finalAlias?.version} (v2) at 100%; total ${round((Date.now() - t0) / 1000)} s`,
    );
    Object.assign(report, {
      stories: {
        good: {
          variant: "v2",
          version: v2.version,
          sha256: v2.sha256,
          key: v2.key,
          preprod: pre2,
          prod: prod2.step,
        },
        broken: { variant: "v3-broken", version: v3.version, sha256: v3.sha256, preprod: pre3 },
        prodBug: {
          variant: "v4-prod-bug",
          version: v4.version,
          sha256: v4.sha256,
          key: v4.key,
          preprod: pre4,
          prod: prod4.step,
          trafficSteps: weights,
        },
      },
      timings: {
        approvalClickToTrafficShiftSeconds: clickToShift,
        alarmToRollbackSeconds: alarmToRollback,
      },
      goodVersion,
      world: afterBad,
      home: target.home,
    });
  } finally {
    const reportFile = flag("--report");
    if (reportFile)
      writeFileSync(reportFile, `${JSON.stringify({ ...report, failures }, null, 2)}\n`);
    await target.close();
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

await main().catch((error: unknown) => {
  say(`\ngantry demo: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
