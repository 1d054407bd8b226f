/**
 * Verified triggers, attacked the way an adversary would, against the local control plane as
 * `npm start` runs it (a child process, real HTTP, the real SDK, its own OIDC issuer). Prod's
 * registry requires an ID token (test/support/registries/verified-triggers.ts): every bad token,
 * a missing one, a claimed actor that is not the token's, and a caller-written `verified`
 * object end the execution FAILED with InvalidInput naming why, before any side effect: no
 * lock, no approval, no email, nothing copied to the prod bucket, the prod alias unmoved.
 *
 * Then auto-approval, on a registry whose prod also accepts unverified triggers
 * (unverified-auto-approve.ts) and auto-approves `dependabot[bot]`: a verified dependabot token
 * is approved by the rule; the same actor merely claimed waits for a person, and a forged
 * `how: "auto"` task completion for it ends ApprovalNotVerified; a bad token there is still
 * InvalidInput, never taken for "no token".
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import {
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SendTaskSuccessCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { isApprovalRecordKey } from "@gantry/core";
import { LocalBuckets } from "@gantry/local";
import { emailFor, outbox } from "@gantry/local/approver";
import { localIssuerUrl, mintLocalIdToken } from "@gantry/local/oidc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AUDIENCE,
  forgedIdToken,
  localIdToken,
  REPOSITORY,
  releaseClaims,
} from "../support/id-tokens.ts";
import {
  type LocalProcess,
  PROD_BUCKET,
  pendingApprovalToken,
  ROOT,
  type requestFor,
  startDeployment,
  startLocalProcess,
  throughPreprod,
  waitForStatus,
} from "../support/local-process.ts";
import { storedJson } from "./support.ts";

type Request = ReturnType<typeof requestFor>;

const registry = (file: string) => join(ROOT, "test/support/registries", file);

/** A prod deployment of `request` whose trigger is whatever the caller chose to send. */
function startWith(local: LocalProcess, request: Request, trigger: Record<string, unknown>) {
  const input = { ...request, trigger };
  return startDeployment(local, "prod", input as Request);
}

/** The states after ValidateInput that would touch the world. */
const SIDE_EFFECT_STATES = [
  "AcquireLock",
  "VerifyPreprod",
  "ApprovalGate",
  "VerifyApproval",
  "CopyArtifact",
  "Deploy",
];

async function historyOf(local: LocalProcess, executionArn: string): Promise<HistoryEvent[]> {
  return (
    (await local.sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 })))
      .events ?? []
  );
}

function statesEntered(events: HistoryEvent[]): string[] {
  return events
    .filter((e) => e.type?.endsWith("StateEntered"))
    .map((e) => e.stateEnteredEventDetails?.name ?? "");
}

/** What an execution can change in the world, to compare before and after. */
async function worldOf(local: LocalProcess) {
  const state = new LocalBuckets(join(local.home, "buckets")).records("gantry-state-prod");
  const approvals = (await state.list("approvals/")).filter((k) => isApprovalRecordKey(k));
  const prodObjects = (
    await local.s3.send(new ListObjectsV2Command({ Bucket: PROD_BUCKET }))
  ).Contents?.map((o) => `${o.Key} ${o.ETag}`).sort();
  return {
    alias: storedJson(join(local.home, "functions/hello-service-prod/function.json")).aliases.live,
    lock: (await state.get("locks/hello-service.json"))?.value,
    approvals: approvals.sort(),
    outbox: existsSync(join(local.home, "outbox"))
      ? readdirSync(join(local.home, "outbox")).sort()
      : [],
    prodObjects: prodObjects ?? [],
  };
}

/**
 * Starts a prod deployment of `request` with this trigger and checks it ends FAILED with
 * InvalidInput whose cause matches `reason`, having touched nothing (no lock, approval, email,
 * prod object or alias change); the token, if any, is in no record and not on the console.
 */
async function refusedOn(
  local: LocalProcess,
  request: Request,
  trigger: Record<string, unknown>,
  reason: RegExp,
) {
  const before = await worldOf(local);
  const started = await startWith(local, request, trigger);
  const arn = started.executionArn as string;
  const done = await waitForStatus(local, arn);
  expect(done.status).toBe("FAILED");
  expect(done.error, done.cause).toBe("InvalidInput");
  expect(done.cause).toMatch(reason);
  const entered = statesEntered(await historyOf(local, arn));
  expect(entered.filter((s) => SIDE_EFFECT_STATES.includes(s))).toEqual([]);
  expect(outbox(local, arn.split(":").at(-1) as string)).toEqual([]);
  const after = await worldOf(local);
  expect(after).toEqual(before);
  expect(after.lock).toBeUndefined();
  const token = trigger.idToken;
  if (typeof token === "string") {
    expect(done.cause).not.toContain(token);
    const state = join(local.home, "buckets/gantry-state-prod/objects");
    const deployments = join(state, "deployments/hello-service");
    let records: string[] = [];
    try {
      records = readdirSync(deployments).map((f) => readFileSync(join(deployments, f), "utf8"));
    } catch {
      // No deployment record at all: nothing to leak.
    }
    for (const record of records) expect(record).not.toContain(token);
    // The console shows the refused execution, ValidateInput's input included: token hidden.
    const page = `${local.webEndpoint}/executions/gantry-prod/${encodeURIComponent(arn.split(":").at(-1) as string)}`;
    for (const url of [page, `${page}/states/ValidateInput`]) {
      const response = await fetch(url);
      expect(response.status, url).toBe(200);
      expect((await response.text()).includes(token), url).toBe(false);
    }
  }
  return done;
}

// ---- refused before any side effect -----------------------------------------------------------

describe("a prod that requires verified triggers", () => {
  let local: LocalProcess;
  let request: Request;
  let version: string;

  beforeAll(async () => {
    local = await startLocalProcess({
      trafficRps: 5,
      env: { GANTRY_REGISTRY: registry("verified-triggers.ts") },
    });
    ({ request } = await throughPreprod(local, "v2"));
    version = request.version;
    // Not in the prod bucket yet: an unchanged bucket then means nothing was copied.
    const prod = (await worldOf(local)).prodObjects;
    expect(prod.some((o) => o.startsWith(request.artifact.key))).toBe(false);
  }, 120_000);

  afterAll(async () => {
    await local?.kill();
  });

  const refused = (trigger: Record<string, unknown>, reason: RegExp) =>
    refusedOn(local, request, trigger, reason);

  it("refuses a token signed by a key that is not the issuer's (same kid, forged signature)", async () => {
    const idToken = await forgedIdToken(local, releaseClaims(version));
    await refused(
      { actor: "octocat", idToken },
      /trigger\.idToken: the ID token has a signature that does not verify/,
    );
  });

  it("refuses a token signed by a key the issuer does not publish (another kid)", async () => {
    const idToken = await forgedIdToken(local, releaseClaims(version), { kid: "mallorys-key" });
    await refused(
      { actor: "octocat", idToken },
      /trigger\.idToken: the ID token is signed by a key the issuer does not publish/,
    );
  });

  it("refuses a token the plane's own key signed for another issuer (GitHub's)", async () => {
    // What a stolen local key could sign: it must not pass for GitHub Actions, nor GitHub's
    // tokens for the local plane.
    const idToken = await mintLocalIdToken({
      home: local.home,
      issuer: "https://token.actions.githubusercontent.com",
      audience: AUDIENCE.prod,
      claims: releaseClaims(version),
    });
    await refused(
      { actor: "octocat", idToken },
      /trigger\.idToken: the ID token was issued by another issuer \(expected http:\/\/127\.0\.0\.1:\d+\/oidc\)/,
    );
  });

  it("refuses an unsigned token (alg none)", async () => {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const idToken = `${part({ alg: "none", typ: "JWT" })}.${part({
      iss: localIssuerUrl(local.webEndpoint),
      aud: AUDIENCE.prod,
      sub: `repo:${REPOSITORY}:ref:refs/heads/main`,
      repository: REPOSITORY,
      repository_id: "123456789",
      ref: "refs/heads/main",
      sha: version,
      actor: "octocat",
      iat: now,
      nbf: now,
      exp: now + 300,
    })}.`;
    await refused(
      { actor: "octocat", idToken },
      /trigger\.idToken: the ID token is signed with none; only RS256 is accepted/,
    );
  });

  it("refuses an expired token", async () => {
    const idToken = await localIdToken(local, releaseClaims(version), {
      issuedAt: new Date(Date.now() - 2 * 3600_000),
      expiresInSeconds: 300,
    });
    await refused({ actor: "octocat", idToken }, /trigger\.idToken: the ID token expired at /);
  });

  it("refuses a token issued in the future (not valid yet)", async () => {
    const idToken = await localIdToken(local, releaseClaims(version), {
      issuedAt: new Date(Date.now() + 3600_000),
    });
    await refused({ actor: "octocat", idToken }, /trigger\.idToken: the ID token is not valid yet/);
  });

  it("refuses a token for another audience (preprod's, on prod)", async () => {
    const idToken = await localIdToken(local, releaseClaims(version), {
      audience: AUDIENCE.preprod,
    });
    await refused(
      { actor: "octocat", idToken },
      /trigger\.idToken: the ID token was issued for another audience \(expected gantry-prod\)/,
    );
  });

  it("refuses a token from another repository", async () => {
    const idToken = await localIdToken(
      local,
      releaseClaims(version, { repository: "mallory/hello-service" }),
    );
    const done = await refused(
      { actor: "octocat", idToken },
      /trigger\.idToken: the ID token is from repository mallory\/hello-service, but /,
    );
    expect(done.cause).toContain("mallory/hello-service");
    expect(done.cause).toContain(REPOSITORY);
  });

  it("refuses a token from a repository of the same name but another id (recreated)", async () => {
    const idToken = await localIdToken(local, releaseClaims(version, { repositoryId: "999" }));
    await refused(
      { actor: "octocat", idToken },
      /trigger\.idToken: the ID token is from repository id 999, but acme\/hello-service is registered with id 123456789/,
    );
  });

  it("refuses a token for another commit than the version deployed", async () => {
    const other = "0123456789abcdef0123456789abcdef01234567";
    const idToken = await localIdToken(local, releaseClaims(other));
    const done = await refused(
      { actor: "octocat", idToken },
      /trigger\.idToken: the ID token is for commit \w+, not the requested version/,
    );
    expect(done.cause).toContain(other.slice(0, 12));
  });

  it("refuses a claimed actor that is not the token's", async () => {
    const idToken = await localIdToken(local, releaseClaims(version, { actor: "octocat" }));
    await refused(
      { actor: "alice", idToken },
      /trigger\.idToken: the ID token names actor octocat, but the request claims alice/,
    );
  });

  it("refuses a request without a token", async () => {
    await refused({ actor: "octocat" }, /trigger\.idToken: the ID token is required/);
  });

  it("refuses a caller-written trigger.verified", async () => {
    const verified = {
      issuer: "https://token.actions.githubusercontent.com",
      audience: AUDIENCE.prod,
      subject: `repo:${REPOSITORY}:ref:refs/heads/main`,
      repository: REPOSITORY,
      ref: "refs/heads/main",
      sha: version,
      actor: "dependabot[bot]",
      issuedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 300_000).toISOString(),
    };
    await refused(
      { actor: "dependabot[bot]", verified },
      /trigger\.verified: is not a known field/,
    );
    // ... even next to a genuine token.
    const idToken = await localIdToken(local, releaseClaims(version));
    await refused(
      { actor: "octocat", idToken, verified },
      /trigger\.verified: is not a known field/,
    );
  });

  // The control: the same plane lets a genuine token through, and the checks above would see it.
  it("lets a genuine token through ValidateInput, which the side-effect checks notice", async () => {
    const before = await worldOf(local);
    const idToken = await localIdToken(local, releaseClaims(version));
    const started = await startWith(local, request, { actor: "octocat", idToken });
    const arn = started.executionArn as string;
    try {
      await emailFor(local, arn.split(":").at(-1) as string, "alice@example.com");
      const after = await worldOf(local);
      expect(after.lock).toBeDefined();
      expect(after.approvals.length).toBe(before.approvals.length + 1);
      expect(after.outbox.length).toBeGreaterThan(before.outbox.length);
    } finally {
      await local.sfn.send(new StopExecutionCommand({ executionArn: arn }));
      await waitForStatus(local, arn);
    }
  });
});

// ---- auto-approval on verified claims only ----------------------------------------------------

describe("auto-approval where unverified triggers are allowed", () => {
  let local: LocalProcess;
  let request: Request;

  beforeAll(async () => {
    local = await startLocalProcess({
      trafficRps: 5,
      env: { GANTRY_REGISTRY: registry("unverified-auto-approve.ts") },
    });
    ({ request } = await throughPreprod(local, "v2"));
  }, 120_000);

  afterAll(async () => {
    await local?.kill();
  });

  /** VerifyApproval's output: the approval the rest of the workflow acts on. */
  async function approvalOf(arn: string) {
    const events = await historyOf(local, arn);
    const exited = events.find(
      (e) => e.type === "TaskStateExited" && e.stateExitedEventDetails?.name === "VerifyApproval",
    );
    return JSON.parse(exited?.stateExitedEventDetails?.output ?? "{}").approval;
  }

  it("approves a verified dependabot[bot] token by the rule: nobody asked, no email", async () => {
    const idToken = await localIdToken(
      local,
      releaseClaims(request.version, { actor: "dependabot[bot]" }),
    );
    const started = await startWith(local, request, { actor: "dependabot[bot]", idToken });
    const arn = started.executionArn as string;
    const done = await waitForStatus(local, arn, undefined, 90_000);
    expect(done.status, `${done.error}: ${done.cause}`).toBe("SUCCEEDED");
    expect(await approvalOf(arn)).toMatchObject({
      approved: true,
      how: "auto",
      by: "auto-approve rule 1",
      rule: { index: 0, matched: "actor dependabot[bot]" },
      verified: true,
    });
    expect(outbox(local, arn.split(":").at(-1) as string)).toEqual([]);
    // No approval record was written for it.
    const state = new LocalBuckets(join(local.home, "buckets")).records("gantry-state-prod");
    for (const key of await state.list("approvals/")) {
      if (!isApprovalRecordKey(key)) continue;
      const record = await state.get<{ execution: { id: string } }>(key);
      expect(record?.value.execution.id).not.toBe(arn);
    }
    const entered = statesEntered(await historyOf(local, arn));
    expect(entered).toContain("CopyArtifact");
  });

  it("refuses a forged dependabot[bot] token rather than treating it as no token", async () => {
    const idToken = await forgedIdToken(
      local,
      releaseClaims(request.version, { actor: "dependabot[bot]" }),
    );
    await refusedOn(
      local,
      request,
      { actor: "dependabot[bot]", idToken },
      /trigger\.idToken: the ID token has a signature that does not verify/,
    );
  });

  it("refuses a caller-written trigger.verified naming dependabot[bot]", async () => {
    const verified = {
      issuer: localIssuerUrl(local.webEndpoint),
      audience: AUDIENCE.prod,
      subject: `repo:${REPOSITORY}:ref:refs/heads/main`,
      repository: REPOSITORY,
      ref: "refs/heads/main",
      sha: request.version,
      actor: "dependabot[bot]",
      issuedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 300_000).toISOString(),
    };
    await refusedOn(
      local,
      request,
      { actor: "dependabot[bot]", verified },
      /trigger\.verified: is not a known field/,
    );
  });

  it("makes an unverified request claiming dependabot[bot] wait for a person", async () => {
    const alias = storedJson(join(local.home, "functions/hello-service-prod/function.json")).aliases
      .live;
    const started = await startWith(local, request, { actor: "dependabot[bot]" });
    const arn = started.executionArn as string;
    const name = arn.split(":").at(-1) as string;
    try {
      const mail = await emailFor(local, name, "alice@example.com");
      await emailFor(local, name, "bob@example.com");
      expect(mail.text).toMatch(/dependabot\[bot\] \(unverified/);
      // Still waiting, well after an automatic approval would have gone through.
      await new Promise((r) => setTimeout(r, 1000));
      const events = await historyOf(local, arn);
      expect(statesEntered(events)).not.toContain("VerifyApproval");
      expect(events.some((e) => e.type === "TaskSucceeded")).toBe(false);
      const validated = JSON.parse(
        events.find(
          (e) =>
            e.type === "TaskStateExited" && e.stateExitedEventDetails?.name === "ValidateInput",
        )?.stateExitedEventDetails?.output ?? "{}",
      );
      expect(validated.request.trigger).toEqual({ actor: "dependabot[bot]" });
      expect(
        storedJson(join(local.home, "functions/hello-service-prod/function.json")).aliases.live,
      ).toEqual(alias);
    } finally {
      await local.sfn.send(new StopExecutionCommand({ executionArn: arn }));
      await waitForStatus(local, arn);
    }
  });

  it("refuses a forged auto-approval (SendTaskSuccess how: auto) of a merely claimed dependabot[bot]", async () => {
    const alias = storedJson(join(local.home, "functions/hello-service-prod/function.json")).aliases
      .live;
    const started = await startWith(local, request, { actor: "dependabot[bot]" });
    const arn = started.executionArn as string;
    // In AWS, anyone allowed GetExecutionHistory can read the task token.
    const taskToken = await pendingApprovalToken(local, arn);
    await local.sfn.send(
      new SendTaskSuccessCommand({
        taskToken,
        output: JSON.stringify({
          approved: true,
          how: "auto",
          by: "auto-approve rule 1",
          at: new Date().toISOString(),
          rule: { index: 0, matched: "actor dependabot[bot]" },
        }),
      }),
    );
    const done = await waitForStatus(local, arn);
    expect(done).toMatchObject({ status: "FAILED", error: "ApprovalNotVerified" });
    expect(statesEntered(await historyOf(local, arn))).not.toContain("CopyArtifact");
    expect(
      storedJson(join(local.home, "functions/hello-service-prod/function.json")).aliases.live,
    ).toEqual(alias);
  });

  it("makes a verified token of an actor no rule names wait for a person", async () => {
    const idToken = await localIdToken(local, releaseClaims(request.version, { actor: "octocat" }));
    const started = await startWith(local, request, { actor: "octocat", idToken });
    const arn = started.executionArn as string;
    try {
      const mail = await emailFor(local, arn.split(":").at(-1) as string, "alice@example.com");
      expect(mail.text).toMatch(/^Triggered by: octocat .*\bverified\b/m);
      await new Promise((r) => setTimeout(r, 500));
      expect(statesEntered(await historyOf(local, arn))).not.toContain("VerifyApproval");
    } finally {
      await local.sfn.send(new StopExecutionCommand({ executionArn: arn }));
      await waitForStatus(local, arn);
    }
  });
});
