/**
 * The approval gate, attacked the way an adversary would, against the local control plane as
 * `npm start` runs it (a child process, real HTTP, the real SDK, the built `gantry` command).
 * Every attack asserts two things: what the API or page answered, and that nothing changed
 * (the execution still waits or ended with a named error, no decision was recorded, the prod
 * alias did not move). docs/security.md lists the same attacks, by id; `table.test.ts` keeps
 * the two in step.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join, relative } from "node:path";
import { SendTaskSuccessCommand, StopExecutionCommand } from "@aws-sdk/client-sfn";
import {
  type ApprovalDecisionRecord,
  approvalLink,
  recordKeys,
  sealDecision,
  signingKeysFrom,
} from "@gantry/core";
import { confirm, emailFor, link, outbox } from "@gantry/local/approver";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.ts";
import {
  type LocalProcess,
  PREPROD_BUCKET,
  publish,
  requestFor,
  startDeployment,
  startLocalProcess,
  throughPreprod,
  waitForStatus,
} from "../support/local-process.ts";
import { ATTACKS, type AttackId } from "./attacks.ts";
import {
  prodAliasOf,
  prodStateBucket,
  prodStatus,
  stopRunningProd,
  storedJson,
  type Waiting,
  waitingProdDeployment,
} from "./support.ts";

let local: LocalProcess;
let request: ReturnType<typeof requestFor>;

beforeAll(async () => {
  local = await startLocalProcess({ trafficRps: 5 });
  ({ request } = await throughPreprod(local, "v2"));
}, 120_000);

afterAll(async () => {
  await local?.kill();
});

// An attack that leaves its execution waiting would hold the prod lock for the next one.
afterEach(() => stopRunningProd(local));

/** One attack of the table in docs/security.md. */
function attack(id: AttackId, test: () => Promise<void>) {
  it(`${id} ${ATTACKS[id]}`, test, 120_000);
}

// ---- what an attacker can reach, and what we check afterwards --------------------------------

const stateBucket = () => prodStateBucket(local);

/** A prod deployment waiting for its approval, emails sent. */
const waitingDeployment = (input: ReturnType<typeof requestFor> = request) =>
  waitingProdDeployment(local, input);

/** hello-service-prod:live as the local world keeps it. */
const prodAlias = () => prodAliasOf(local);

const status = (arn: string) => prodStatus(local, arn);

/** Nothing was decided on this approval, it still waits, and prod did not move. */
async function expectNothingChanged(waiting: Waiting, alias: ReturnType<typeof prodAlias>) {
  expect(await stateBucket().get(recordKeys.approvalDecision(waiting.approvalId))).toBeUndefined();
  expect(await status(waiting.arn)).toBe("RUNNING");
  expect(prodAlias()).toEqual(alias);
}

/** The forgery ended ApprovalNotVerified: nothing copied or deployed, lock released, approval void. */
async function expectRefusedAsNotVerified(waiting: Waiting, alias: ReturnType<typeof prodAlias>) {
  const done = await waitForStatus(local, waiting.arn);
  expect(done).toMatchObject({ status: "FAILED", error: "ApprovalNotVerified" });
  expect(prodAlias()).toEqual(alias);
  expect(await stateBucket().get("locks/hello-service.json")).toBeUndefined();
  expect(await stateBucket().get(recordKeys.approvalVoid(waiting.approvalId))).toBeDefined();
  // The links of a voided approval answer 410, and it is no longer pending.
  const page = await fetch(
    link(await emailFor(local, waiting.name, "alice@example.com"), "Approve"),
  );
  expect(page.status).toBe(410);
  const pending = await operatorApi("GET", "/operator/approvals");
  expect(JSON.parse(pending.body).approvals).toEqual([]);
}

async function forgeTaskSuccess(waiting: Waiting, output: string) {
  const accepted = await local.sfn.send(
    new SendTaskSuccessCommand({ taskToken: waiting.token, output }),
  );
  // The API accepts it, as AWS would: the token is a bearer capability.
  expect(accepted.$metadata.httpStatusCode).toBe(200);
}

function operatorSecret(): string {
  return readFileSync(join(local.home, "operator-secret"), "utf8").trim();
}

/** The operator API, with whatever headers an attacker chooses (the secret by default). */
function operatorApi(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string; secret?: string | null } = {},
): Promise<{ status: number; body: string }> {
  const secret = options.secret === undefined ? operatorSecret() : options.secret;
  return rawRequest(
    new URL(path, local.webEndpoint),
    method,
    {
      ...(secret ? { authorization: `Bearer ${secret}` } : {}),
      ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
      ...options.headers,
    },
    options.body,
  );
}

/** A raw HTTP request: fetch would not let a caller choose the Host header. */
function rawRequest(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      let body = "";
      res.on("data", (chunk) => {
        body += String(chunk);
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** The link parameters of an email, to tamper with. */
function linkUrl(mail: { text: string }, action: "Approve" | "Reject"): URL {
  return new URL(link(mail as never, action));
}

async function postForm(url: URL, params: URLSearchParams): Promise<Response> {
  return fetch(new URL(url.pathname, url), {
    method: "POST",
    body: params,
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
}

// ---- forged task completions --------------------------------------------------------------

describe("completing the approval task without a decision", () => {
  attack("A01", async () => {
    const waiting = await waitingDeployment();
    const alias = prodAlias();
    await forgeTaskSuccess(waiting, JSON.stringify({ approved: false }));
    await expectRefusedAsNotVerified(waiting, alias);
  });

  attack("A02", async () => {
    const waiting = await waitingDeployment();
    const alias = prodAlias();
    await forgeTaskSuccess(
      waiting,
      JSON.stringify({
        approved: true,
        how: "approver",
        by: "alice@example.com",
        at: new Date().toISOString(),
        approvalId: waiting.approvalId,
        verified: true,
      }),
    );
    await expectRefusedAsNotVerified(waiting, alias);
    // Whoever the forged output named appears nowhere as the approver.
    const records = join(local.home, "buckets/gantry-state-prod/objects/deployments/hello-service");
    const record = readdirSync(records)
      .map((f) => JSON.parse(readFileSync(join(records, f), "utf8")))
      .find((r) => r.execution.id === waiting.arn);
    expect(record.outcome.error).toBe("ApprovalNotVerified");
    expect(record.approval).toBeUndefined();
  });

  attack("A03", async () => {
    const waiting = await waitingDeployment();
    const alias = prodAlias();
    await forgeTaskSuccess(waiting, JSON.stringify({ approved: true, how: "not-required" }));
    await expectRefusedAsNotVerified(waiting, alias);
  });

  attack("A04", async () => {
    const waiting = await waitingDeployment();
    const alias = prodAlias();
    await forgeTaskSuccess(waiting, JSON.stringify({ padding: "x".repeat(200_000) }));
    await expectRefusedAsNotVerified(waiting, alias);
  });

  attack("A05", async () => {
    const waiting = await waitingDeployment();
    const alias = prodAlias();
    await stateBucket().put(recordKeys.approvalDecision(waiting.approvalId), {
      approvalId: waiting.approvalId,
      decision: "approved",
      by: "alice@example.com",
      at: new Date().toISOString(),
      channel: "link",
    });
    await forgeTaskSuccess(waiting, "{}");
    await expectRefusedAsNotVerified(waiting, alias);
  });

  attack("A06", async () => {
    const waiting = await waitingDeployment();
    const alias = prodAlias();
    // Someone holding the link signing key (not the decision key) seals a perfect record.
    const linkKey = storedJson(join(local.home, "signing-key.json"));
    const approval = (
      await stateBucket().get<{ execution: { startedAt: string } }>(
        recordKeys.approval(waiting.approvalId),
      )
    )?.value;
    const fields = {
      approvalId: waiting.approvalId,
      execution: waiting.arn,
      executionStartedAt: approval?.execution.startedAt ?? "",
      service: "hello-service",
      stage: "prod" as const,
      version: request.version,
      sha256: request.artifact.sha256,
      decision: "approved" as const,
      by: "alice@example.com",
      channel: "link" as const,
      at: new Date().toISOString(),
    };
    const forged: ApprovalDecisionRecord = {
      ...fields,
      seal: sealDecision(fields, signingKeysFrom(linkKey.current).current),
    };
    await stateBucket().put(recordKeys.approvalDecision(waiting.approvalId), forged);
    await forgeTaskSuccess(waiting, "{}");
    await expectRefusedAsNotVerified(waiting, alias);
  });

  attack("A07", async () => {
    // A genuine, sealed approval of an earlier deployment ...
    const earlier = await waitingDeployment();
    await confirm(link(await emailFor(local, earlier.name, "alice@example.com"), "Approve"));
    expect((await waitForStatus(local, earlier.arn, undefined, 90_000)).status).toBe("SUCCEEDED");
    const genuine = (
      await stateBucket().get<ApprovalDecisionRecord>(
        recordKeys.approvalDecision(earlier.approvalId),
      )
    )?.value;
    expect(genuine?.seal).toBeDefined();
    // ... replayed onto this one.
    const waiting = await waitingDeployment();
    const alias = prodAlias();
    await stateBucket().put(recordKeys.approvalDecision(waiting.approvalId), genuine);
    await forgeTaskSuccess(waiting, "{}");
    await expectRefusedAsNotVerified(waiting, alias);
  });

  attack("A08", async () => {
    const alias = prodAlias();
    const waiting = await waitingDeployment({ ...request, trigger: { actor: "dependabot[bot]" } });
    const mails = outbox(local, waiting.name);
    expect(mails.map((m) => m.to).sort()).toEqual(["alice@example.com", "bob@example.com"]);
    expect(mails[0]?.text).toContain("dependabot[bot] (unverified claim: no ID token)");
    await new Promise((r) => setTimeout(r, 500));
    await expectNothingChanged(waiting, alias);
  });
});

// ---- the operator API ---------------------------------------------------------------------

describe("the operator API from anywhere but the operator's terminal", () => {
  const decide = (approvalId: string) => `/operator/approvals/${approvalId}`;
  const approveBody = JSON.stringify({ action: "approve", as: "alice@example.com" });

  attack("A09", async () => {
    const waiting = await waitingDeployment();
    const alias = prodAlias();
    // What a web page can send without a CORS preflight: text/plain, its own Origin, no secret.
    const response = await operatorApi("POST", decide(waiting.approvalId), {
      secret: null,
      body: approveBody,
      headers: {
        "content-type": "text/plain;charset=UTF-8",
        origin: "https://evil.example",
        "sec-fetch-site": "cross-site",
      },
    });
    expect(response.status).toBe(403);
    await expectNothingChanged(waiting, alias);
  });

  attack("A10", async () => {
    const waiting = await waitingDeployment();
    const alias = prodAlias();
    const port = new URL(local.webEndpoint).port;
    const rebound = await operatorApi("POST", decide(waiting.approvalId), {
      body: approveBody,
      headers: { host: `evil.example:${port}` },
    });
    expect(rebound.status).toBe(403);
    const listed = await operatorApi("GET", "/operator/approvals", {
      headers: { host: `evil.example:${port}` },
    });
    expect(listed.status).toBe(403);
    expect(listed.body).not.toContain(waiting.approvalId);
    // The outbox (where the links are) and the Step Functions endpoint refuse it too.
    const mail = await operatorApi("GET", "/outbox", { headers: { host: `evil.example:${port}` } });
    expect(mail.status).toBe(403);
    const sfn = await rawRequest(
      new URL(local.sfnEndpoint),
      "POST",
      {
        host: `evil.example:${new URL(local.sfnEndpoint).port}`,
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": "AWSStepFunctions.SendTaskSuccess",
      },
      JSON.stringify({ taskToken: waiting.token, output: "{}" }),
    );
    expect(sfn.status).toBe(403);
    await expectNothingChanged(waiting, alias);
  });

  attack("A11", async () => {
    const waiting = await waitingDeployment();
    const alias = prodAlias();
    const response = await operatorApi("POST", decide(waiting.approvalId), {
      secret: null,
      body: approveBody,
    });
    expect(response.status).toBe(401);
    await expectNothingChanged(waiting, alias);
  });

  attack("A12", async () => {
    const waiting = await waitingDeployment();
    const alias = prodAlias();
    const response = await operatorApi("POST", decide(waiting.approvalId), {
      secret: "A".repeat(43),
      body: approveBody,
    });
    expect(response.status).toBe(403);
    await expectNothingChanged(waiting, alias);
  });

  attack("A13", async () => {
    const waiting = await waitingDeployment();
    const alias = prodAlias();
    const response = await operatorApi("POST", decide(waiting.approvalId), {
      body: approveBody,
      headers: { "content-type": "text/plain" },
    });
    expect(response.status).toBe(415);
    await expectNothingChanged(waiting, alias);
  });

  attack("A14", async () => {
    const waiting = await waitingDeployment();
    const alias = prodAlias();
    const response = await operatorApi("POST", decide(waiting.approvalId), {
      body: approveBody,
      headers: { "sec-fetch-site": "cross-site" },
    });
    expect(response.status).toBe(403);
    await expectNothingChanged(waiting, alias);
  });

  attack("A15", async () => {
    const waiting = await waitingDeployment();
    const alias = prodAlias();
    const asMallory = await operatorApi("POST", decide(waiting.approvalId), {
      body: JSON.stringify({ action: "approve", as: "mallory@example.com" }),
    });
    expect(asMallory.status).toBe(403);
    const claimed = await operatorApi("POST", decide(waiting.approvalId), {
      body: JSON.stringify({ action: "approve", operator: "alice@example.com" }),
    });
    expect(claimed.status).toBe(400);
    const cli = await runCli(["approve", waiting.name, "--as", "mallory@example.com"], { local });
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain("Not you");
    await expectNothingChanged(waiting, alias);
  });
});

// ---- the emailed links --------------------------------------------------------------------

describe("the emailed links, tampered with", () => {
  async function tampered(change: (params: URLSearchParams) => void, expected: number) {
    const waiting = await waitingDeployment();
    const alias = prodAlias();
    const url = linkUrl(await emailFor(local, waiting.name, "alice@example.com"), "Approve");
    const params = new URLSearchParams(url.search);
    change(params);
    const get = await fetch(new URL(`${url.pathname}?${params}`, url));
    expect(get.status).toBe(expected);
    const post = await postForm(url, params);
    expect(post.status).toBe(expected);
    await expectNothingChanged(waiting, alias);
    return waiting;
  }

  attack("A16", async () => {
    await tampered((p) => {
      const sig = p.get("sig") ?? "";
      p.set("sig", `${sig.slice(0, -2)}${sig.endsWith("AA") ? "AB" : "AA"}`);
    }, 403);
  });

  attack("A17", async () => {
    await tampered((p) => p.set("action", "reject"), 403);
  });

  attack("A18", async () => {
    await tampered((p) => p.set("approver", "bob@example.com"), 403);
  });

  attack("A19", async () => {
    await tampered((p) => p.set("exp", String(Number(p.get("exp")) + 86_400)), 403);
  });

  attack("A20", async () => {
    const first = await waitingDeployment();
    const url = linkUrl(await emailFor(local, first.name, "alice@example.com"), "Approve");
    await local.sfn.send(new StopExecutionCommand({ executionArn: first.arn }));
    await waitForStatus(local, first.arn);
    const waiting = await waitingDeployment();
    const alias = prodAlias();
    const other = new URL(`/approvals/${waiting.approvalId}${url.search}`, url);
    expect((await fetch(other)).status).toBe(403);
    expect((await postForm(other, new URLSearchParams(url.search))).status).toBe(403);
    await expectNothingChanged(waiting, alias);
  });

  attack("A21", async () => {
    const waiting = await waitingDeployment();
    const alias = prodAlias();
    // Even with the link signing key, someone not on the list gets nowhere.
    const key = storedJson(join(local.home, "signing-key.json"));
    const forged = new URL(
      approvalLink(
        local.webEndpoint,
        {
          approvalId: waiting.approvalId,
          action: "approve",
          approver: "mallory@example.com",
          expiresAt: Math.floor(Date.now() / 1000) + 3600,
        },
        signingKeysFrom(key.current).current,
      ),
    );
    expect((await fetch(forged)).status).toBe(403);
    expect((await postForm(forged, new URLSearchParams(forged.search))).status).toBe(403);
    await expectNothingChanged(waiting, alias);
  });

  attack("A22", async () => {
    const waiting = await waitingDeployment();
    const alias = prodAlias();
    const url = link(await emailFor(local, waiting.name, "alice@example.com"), "Approve");
    for (let i = 0; i < 3; i++) expect((await fetch(url)).status).toBe(200);
    expect((await fetch(url, { method: "HEAD" })).status).toBe(200);
    await expectNothingChanged(waiting, alias);
  });

  attack("A23", async () => {
    const waiting = await waitingDeployment();
    const mail = await emailFor(local, waiting.name, "bob@example.com");
    const first = await confirm(link(mail, "Reject"), "no");
    expect(first.result.status).toBe(200);
    const replay = await confirm(link(mail, "Reject"));
    expect(replay.page.status).toBe(409);
    const alice = await confirm(
      link(await emailFor(local, waiting.name, "alice@example.com"), "Approve"),
    );
    expect(alice.page.status).toBe(409);
    expect(alice.pageBody).toContain("already rejected by bob@example.com");
    expect((await waitForStatus(local, waiting.arn)).error).toBe("ApprovalRejected");
  });

  attack("A24", async () => {
    const waiting = await waitingDeployment();
    const url = linkUrl(await emailFor(local, waiting.name, "alice@example.com"), "Reject");
    const params = new URLSearchParams(url.search);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => postForm(url, params).then((r) => r.status)),
    );
    expect(answers.filter((s) => s === 200)).toHaveLength(1);
    expect(answers.filter((s) => s === 409)).toHaveLength(19);
    expect((await waitForStatus(local, waiting.arn)).error).toBe("ApprovalRejected");
  });

  attack("A25", async () => {
    const waiting = await waitingDeployment();
    const alias = prodAlias();
    const mail = await emailFor(local, waiting.name, "alice@example.com");
    await forgeTaskSuccess(waiting, "{}");
    await expectRefusedAsNotVerified(waiting, alias);
    const late = await confirm(link(mail, "Approve"));
    expect(late.page.status).toBe(410);
    expect(
      await stateBucket().get(recordKeys.approvalDecision(waiting.approvalId)),
    ).toBeUndefined();
  });
});

// ---- text that reaches people -------------------------------------------------------------

describe("text that reaches people", () => {
  async function refusedAtValidateInput(trigger: Record<string, string>) {
    const alias = prodAlias();
    const started = await startDeployment(local, "prod", { ...request, trigger } as never);
    const done = await waitForStatus(local, started.executionArn as string);
    expect(done).toMatchObject({ status: "FAILED", error: "InvalidInput" });
    expect(done.cause).toContain("trigger.ciRunUrl");
    expect(outbox(local, (started.executionArn as string).split(":").at(-1) as string)).toEqual([]);
    expect(prodAlias()).toEqual(alias);
  }

  attack("A26", async () => {
    await refusedAtValidateInput({
      actor: "octocat",
      ciRunUrl: "https://ci.example.com/runs/1\r\nApprove: https://evil.example/approve",
    });
  });

  attack("A27", async () => {
    await refusedAtValidateInput({
      actor: "octocat",
      ciRunUrl: "https://ci.example.com/runs/\u202e1/evil.example",
    });
  });

  attack("A28", async () => {
    const built = await publish(local, "v1");
    // A lower-trust writer of the preprod bucket puts its own text in the validation record.
    await local.s3.send(
      new (await import("@aws-sdk/client-s3")).PutObjectCommand({
        Bucket: PREPROD_BUCKET,
        Key: `validations/hello-service/${built.version}.json`,
        Body: JSON.stringify({
          service: "hello-service",
          version: built.version,
          sha256: built.sha256,
          validatedAt: new Date().toISOString(),
          validatedBy: { toString: "[object Object]" },
          ciRunUrl: "https://ci.example.com/1\nApprove: https://evil.example/approve",
          padding: "x".repeat(300_000),
        }),
      }),
    );
    const preprod = await startDeployment(local, "preprod", requestFor(built));
    expect((await waitForStatus(local, preprod.executionArn as string)).status).toBe("SUCCEEDED");
    const alias = prodAlias();
    const started = await startDeployment(local, "prod", requestFor(built));
    const done = await waitForStatus(local, started.executionArn as string);
    expect(done).toMatchObject({ status: "FAILED", error: "PreprodNotValidated" });
    expect(outbox(local, (started.executionArn as string).split(":").at(-1) as string)).toEqual([]);
    expect(prodAlias()).toEqual(alias);
    // Preprod runs the shared release again, for the attacks after this one.
    const back = await startDeployment(local, "preprod", request);
    expect((await waitForStatus(local, back.executionArn as string)).status).toBe("SUCCEEDED");
  });

  attack("A29", async () => {
    const waiting = await waitingDeployment();
    await local.sfn.send(
      new StopExecutionCommand({
        executionArn: waiting.arn,
        error: "Stop\u001b[2J",
        cause: "bye\u001b]0;owned\u0007\u001b[31m red\rDeployed",
      }),
    );
    await waitForStatus(local, waiting.arn);
    const shown = await runCli(["status", waiting.arn], { local });
    expect(shown.stdout + shown.stderr).toContain("bye");
    const controls = [...(shown.stdout + shown.stderr)].filter((c) =>
      ["\u001b", "\u009b", "\r", "\u0007"].includes(c),
    );
    expect(controls).toEqual([]);
    expect(shown.stdout).toContain("red\\u{000D}Deployed");
  });
});

// ---- secrets at rest ----------------------------------------------------------------------

describe("secrets at rest", () => {
  attack("A30", async () => {
    const waiting = await waitingDeployment();
    await confirm(link(await emailFor(local, waiting.name, "bob@example.com"), "Reject"));
    await waitForStatus(local, waiting.arn);
    const state = join(local.home, "buckets/gantry-state-prod/objects");
    const sensitive = [
      join(local.home, "signing-key.json"),
      join(local.home, "decision-key.json"),
      join(local.home, "operator-secret"),
      join(state, "approval-tokens", `${waiting.approvalId}.json`),
      join(state, "approvals", `${waiting.approvalId}.decision.json`),
    ];
    for (const file of sensitive)
      expect([file, (statSync(file).mode & 0o777).toString(8)]).toEqual([file, "600"]);
    expect((statSync(local.home).mode & 0o777).toString(8)).toBe("700");
    expect((statSync(join(state, "approval-tokens")).mode & 0o777).toString(8)).toBe("700");
  });

  attack("A31", async () => {
    const waiting = await waitingDeployment();
    const mails = outbox(local, waiting.name);
    const page = await (await fetch(link(mails[0] as never, "Approve"))).text();
    const history = JSON.stringify(
      await local.sfn.send(
        new (await import("@aws-sdk/client-sfn")).GetExecutionHistoryCommand({
          executionArn: waiting.arn,
          maxResults: 1000,
        }),
      ),
    );
    const decisionKey = JSON.parse(
      readFileSync(join(local.home, "decision-key.json"), "utf8"),
    ).current;
    const linkKey = storedJson(join(local.home, "signing-key.json")).current;
    for (const text of [page, history, local.output(), ...mails.map((m) => m.text)]) {
      for (const secret of [waiting.token, decisionKey, linkKey, operatorSecret()])
        expect(text).not.toContain(secret);
    }
    // On disk, only the token's own record holds the token; only the key files hold keys.
    const leaks: string[] = [];
    const scan = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        const where = relative(local.home, path);
        if (statSync(path).isDirectory()) {
          if (!where.includes("/code")) scan(path);
          continue;
        }
        const text = readFileSync(path, "latin1");
        if (text.includes(waiting.token) && !where.includes("approval-tokens/")) leaks.push(where);
        if (text.includes(decisionKey) && where !== "decision-key.json") leaks.push(where);
        if (text.includes(linkKey) && where !== "signing-key.json") leaks.push(where);
      }
    };
    scan(local.home);
    expect(leaks).toEqual([]);
  });
});
