/**
 * Issue 15's "done when", end to end against the local control plane as `npm start` runs it: a
 * prod deployment started with a valid ID token from the plane's own OIDC issuer shows what the
 * token proved (repository, ref, commit, actor) in the approval email, the execution history,
 * the console and `gantry provenance`, while the token itself reaches none of them (only the
 * StartExecution input holds it, as the caller sent it).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import {
  GetExecutionHistoryCommand,
  type HistoryEvent,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { type Io, run } from "@gantry/cli";
import { approveByEmail, emailFor, link, type Mail, outbox } from "@gantry/local/approver";
import { localIssuerUrl } from "@gantry/local/oidc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIENCE, localIdToken, REPOSITORY, releaseClaims } from "../support/id-tokens.ts";
import {
  type LocalProcess,
  ROOT,
  startDeployment,
  startLocalProcess,
  throughPreprod,
  waitForStatus,
} from "../support/local-process.ts";

const REGISTRY = join(ROOT, "test/support/registries/verified-triggers.ts");

let local: LocalProcess;

beforeAll(async () => {
  local = await startLocalProcess({ env: { GANTRY_REGISTRY: REGISTRY } });
});

afterAll(async () => {
  await local?.kill();
});

async function historyOf(executionArn: string): Promise<HistoryEvent[]> {
  return (
    (await local.sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 })))
      .events ?? []
  );
}

/** `gantry <argv>` in this process (the command's sources), against this control plane. */
async function gantry(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GANTRY_HOME: local.home,
      GANTRY_REGISTRY: REGISTRY,
      AWS_EC2_METADATA_DISABLED: "true",
    },
    cwd: ROOT,
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

/** Every file under a directory of the data directory, as text, by its path there. */
function filesUnder(dir: string): { where: string; text: string }[] {
  const root = join(local.home, dir);
  if (!existsSync(root)) return [];
  const found: { where: string; text: string }[] = [];
  const scan = (path: string) => {
    for (const entry of readdirSync(path)) {
      const child = join(path, entry);
      if (statSync(child).isDirectory()) scan(child);
      else found.push({ where: relative(local.home, child), text: readFileSync(child, "latin1") });
    }
  };
  scan(root);
  return found;
}

/** A JSON file of the data directory: sealed ({sha256, value}) or bare. */
function storedJson(text: string) {
  const raw = JSON.parse(text);
  return raw && typeof raw.sha256 === "string" && "value" in raw ? raw.value : raw;
}

describe("a prod deployment started with a valid local ID token", () => {
  let version: string;
  let sha256: string;
  let idToken: string;
  let arn: string;
  let name: string;
  let mail: Mail;
  /** What the approver's link opens, before anyone decided. */
  let confirmationPage: string;
  let events: HistoryEvent[];

  // One deployment, from the token to SUCCEEDED; each test below reads one place it shows up.
  beforeAll(async () => {
    const { built, request } = await throughPreprod(local, "v2");
    version = built.version;
    sha256 = built.sha256;
    idToken = await localIdToken(local, releaseClaims(version, { actor: "octocat" }));
    const input = {
      ...request,
      trigger: {
        actor: "octocat",
        ciRunUrl: "https://github.com/acme/hello-service/actions/runs/4242",
        idToken,
      },
    };
    const started = await startDeployment(local, "prod", input);
    arn = started.executionArn as string;
    name = arn.split(":").at(-1) as string;
    mail = await emailFor(local, name, "alice@example.com");
    confirmationPage = await (await fetch(link(mail, "Approve"))).text();
    await approveByEmail(local, arn, "alice@example.com", "verified release");
    const done = await waitForStatus(local, arn, undefined, 90_000);
    if (done.status !== "SUCCEEDED")
      throw new Error(`the verified deployment ended ${done.status}: ${done.error} ${done.cause}`);
    events = await historyOf(arn);
  }, 120_000);

  it("shows the verified claims in the approval email and on its page, and not the token", () => {
    const triggeredBy = /^Triggered by: (.*)$/m.exec(mail.text)?.[1] ?? "";
    expect(triggeredBy, mail.text).toMatch(/\bverified\b/);
    expect(triggeredBy).not.toMatch(/unverified|not verified|claim/i);
    for (const fact of [REPOSITORY, "refs/heads/main", version, "octocat"])
      expect(triggeredBy).toContain(fact);
    const mails = outbox(local, name);
    expect(mails.map((m) => m.to).sort()).toEqual(["alice@example.com", "bob@example.com"]);
    for (const m of mails) expect(m.text).not.toContain(idToken);
    // The outbox's files: the .eml (HTML part base64) and its JSON twin (HTML in clear).
    const leaks = filesUnder("outbox").filter((f) => f.text.includes(idToken));
    expect(leaks.map((f) => f.where)).toEqual([]);
    // The page the link opens says the same.
    expect(confirmationPage).toContain("verified by an ID token");
    for (const fact of [REPOSITORY, "refs/heads/main", version])
      expect(confirmationPage).toContain(fact);
    expect(confirmationPage).not.toContain(idToken);
  });

  it("puts the verified claims in ValidateInput's output, and the token in no later event", () => {
    // The StartExecution input is the caller's, token included: that is expected.
    const startedEvent = events.find((e) => e.type === "ExecutionStarted");
    expect(startedEvent?.executionStartedEventDetails?.input).toContain(idToken);
    const exitedAt = events.findIndex(
      (e) => e.type === "TaskStateExited" && e.stateExitedEventDetails?.name === "ValidateInput",
    );
    expect(exitedAt).toBeGreaterThan(0);
    const validated = JSON.parse(events[exitedAt]?.stateExitedEventDetails?.output ?? "{}") as {
      request: { trigger: Record<string, unknown> };
    };
    expect(validated.request.trigger).not.toHaveProperty("idToken");
    expect(validated.request.trigger).toMatchObject({
      actor: "octocat",
      verified: {
        issuer: localIssuerUrl(local.webEndpoint),
        audience: AUDIENCE.prod,
        subject: `repo:${REPOSITORY}:ref:refs/heads/main`,
        repository: REPOSITORY,
        repositoryId: "123456789",
        ref: "refs/heads/main",
        sha: version,
        actor: "octocat",
        workflowRef: `${REPOSITORY}/.github/workflows/release.yml@refs/heads/main`,
        runId: "4242",
      },
    });
    const later = events.slice(exitedAt).filter((e) => JSON.stringify(e).includes(idToken));
    expect(later.map((e) => `${e.id} ${e.type}`)).toEqual([]);
    const approval = JSON.parse(
      events.find(
        (e) => e.type === "TaskStateExited" && e.stateExitedEventDetails?.name === "VerifyApproval",
      )?.stateExitedEventDetails?.output ?? "{}",
    ).approval;
    expect(approval).toMatchObject({ how: "approver", by: "alice@example.com", verified: true });
  });

  it("shows the verified claims on the console's execution page, and the token nowhere there", async () => {
    const base = `${local.webEndpoint}/executions/gantry-prod/${encodeURIComponent(name)}`;
    const pages: [string, string][] = [];
    for (const path of [base, `${base}?state=ValidateInput`, `${base}/states/ValidateInput`]) {
      const response = await fetch(path);
      expect(response.status, path).toBe(200);
      pages.push([path, await response.text()]);
    }
    const view = pages[0]?.[1] ?? "";
    expect(view).toMatch(/\bverified\b/);
    expect(view).not.toMatch(/unverified claim|claimed, not verified/);
    for (const fact of [REPOSITORY, "refs/heads/main", version, "octocat"])
      expect(view).toContain(fact);
    for (const [path, body] of pages) expect(body.includes(idToken), path).toBe(false);
    // The live updates the page subscribes to: every history row from the first, then the end.
    const stream = await fetch(`${base}/events?after=0`, { signal: AbortSignal.timeout(10_000) });
    expect(stream.status).toBe(200);
    const events = await stream.text();
    expect(events).toContain("event: end");
    expect(events).toContain("ValidateInput");
    expect(events.includes(idToken)).toBe(false);
  });

  it("shows the verified claims in gantry provenance --json, and not the token", async () => {
    const provenance = await gantry([
      "provenance",
      "--stage",
      "prod",
      "--service",
      "hello-service",
      "--version",
      version,
      "--json",
    ]);
    expect(provenance.code, provenance.stderr).toBe(0);
    expect(provenance.stdout + provenance.stderr).not.toContain(idToken);
    const human = await gantry(["provenance", "--stage", "prod", "--service", "hello-service"]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(REPOSITORY);
    expect(human.stdout).toMatch(/\bverified\b/);
    expect(human.stdout + human.stderr).not.toContain(idToken);
    const shown = JSON.parse(provenance.stdout);
    expect(shown).toMatchObject({
      stage: "prod",
      service: "hello-service",
      commit: version,
      repository: { name: REPOSITORY, id: "123456789", verified: true },
      trigger: {
        actor: "octocat",
        verified: {
          issuer: localIssuerUrl(local.webEndpoint),
          audience: AUDIENCE.prod,
          repository: REPOSITORY,
          ref: "refs/heads/main",
          sha: version,
          actor: "octocat",
        },
      },
      approval: { how: "approver", by: "alice@example.com" },
      execution: { arn, name },
      outcome: { status: "deployed" },
      artifact: { requested: { sha256 }, verdict: "same-bytes" },
    });
    // Every hop the bytes went through: the same SHA-256.
    const hops = shown.artifact.hops as { hop: string; sha256: string; matches: boolean }[];
    expect(hops.length).toBeGreaterThanOrEqual(3);
    for (const hop of hops) expect(hop, hop.hop).toMatchObject({ sha256, matches: true });
  });

  it("keeps the token out of gantry status and history (text and JSON), which mark the trigger verified", async () => {
    for (const argv of [
      ["status", name, "--stage", "prod"],
      ["status", name, "--stage", "prod", "--json"],
      ["history", name, "--stage", "prod"],
      ["history", name, "--stage", "prod", "--json"],
    ]) {
      const shownBy = await gantry(argv);
      expect(shownBy.code, `gantry ${argv.join(" ")}: ${shownBy.stderr}`).toBe(0);
      expect(shownBy.stdout + shownBy.stderr, `gantry ${argv.join(" ")}`).not.toContain(idToken);
    }
    const status = await gantry(["status", name, "--stage", "prod"]);
    expect(status.stdout).toContain(REPOSITORY);
    expect(status.stdout).toMatch(/\bverified\b/);
  });

  it("writes the verified trigger to the deployment record, and the token to no record or object", () => {
    const records = filesUnder("buckets/gantry-state-prod/objects/deployments/hello-service")
      .map((f) => storedJson(f.text))
      .filter((r) => r?.execution?.id === arn);
    expect(records.length).toBeGreaterThan(0);
    expect(JSON.stringify(records)).toContain(REPOSITORY);
    const leaks = filesUnder("buckets").filter((f) => f.text.includes(idToken));
    expect(leaks.map((f) => f.where)).toEqual([]);
    expect(local.output()).not.toContain(idToken);
  });
});

describe("gantry deploy against the local control plane", () => {
  it("mints a token with the plane's issuer, which ValidateInput verifies, and never prints it", async () => {
    const { built } = await throughPreprod(local, "v2");
    const deployed = await gantry([
      "deploy",
      "--stage",
      "prod",
      "--service",
      "hello-service",
      "--version",
      built.version,
      "--artifact-key",
      `hello-service/${built.version}/${built.sha256.slice(0, 16)}.zip`,
      "--sha256",
      built.sha256,
      "--actor",
      "octocat",
      // Attempt 1 is the first test's: another execution of the same release.
      "--attempt",
      "7",
    ]);
    const arn = /^execution (\S+)$/m.exec(deployed.stdout)?.[1];
    expect(arn, deployed.stdout + deployed.stderr).toBeDefined();
    try {
      const name = (arn as string).split(":").at(-1) as string;
      const mail = await emailFor(local, name, "alice@example.com");
      expect(mail.text).toMatch(/^Triggered by: octocat — verified\b/m);
      const events = await historyOf(arn as string);
      const input = JSON.parse(
        events.find((e) => e.type === "ExecutionStarted")?.executionStartedEventDetails?.input ??
          "{}",
      );
      const idToken = input.trigger?.idToken as string;
      expect(idToken).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(deployed.stdout + deployed.stderr).not.toContain(idToken);
      const validated = JSON.parse(
        events.find(
          (e) =>
            e.type === "TaskStateExited" && e.stateExitedEventDetails?.name === "ValidateInput",
        )?.stateExitedEventDetails?.output ?? "{}",
      );
      expect(validated.request.trigger).not.toHaveProperty("idToken");
      expect(validated.request.trigger.verified).toMatchObject({
        issuer: localIssuerUrl(local.webEndpoint),
        audience: AUDIENCE.prod,
        repository: REPOSITORY,
        repositoryId: "123456789",
        sha: built.version,
        actor: "octocat",
        ref: "refs/heads/local",
      });
    } finally {
      await local.sfn.send(new StopExecutionCommand({ executionArn: arn }));
      await waitForStatus(local, arn as string);
    }
  });
});
