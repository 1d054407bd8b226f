/**
 * Auto-approval, attacked against the local control plane as `npm start` runs it: an
 * auto-approval rule (`{ actor: "dependabot[bot]", ref: "refs/heads/main" }` in prod) matches
 * verified claims only, so a trigger that merely claims to be dependabot[bot] (no ID token; the
 * example registry still allows unverified triggers) waits for a person, and completing its
 * approval task with `how: "auto"` is refused as ApprovalNotVerified. The same holds for a
 * trigger verified by the local OIDC issuer whose claims the rule does not match; and, as the
 * control that shows the rule can fire at all, a verified trigger it matches is auto-approved.
 */
import { SendTaskSuccessCommand } from "@aws-sdk/client-sfn";
import { oidcSettingsOf, recordKeys } from "@gantry/core";
import { emailFor, link, outbox } from "@gantry/local/approver";
import { localIssuerUrl, mintLocalIdToken } from "@gantry/local/oidc";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import registry from "../../gantry.registry.ts";
import {
  type LocalProcess,
  type requestFor,
  startDeployment,
  startLocalProcess,
  throughPreprod,
  waitForStatus,
} from "../support/local-process.ts";
import {
  prodAliasOf,
  prodStateBucket,
  prodStatus,
  stopRunningProd,
  type Waiting,
  waitingProdDeployment,
} from "./support.ts";

let local: LocalProcess;
let claimed: ReturnType<typeof requestFor>;

beforeAll(async () => {
  local = await startLocalProcess({ trafficRps: 5 });
  const { request } = await throughPreprod(local, "v2");
  // Only the caller's word: no ID token, so no verified claims.
  claimed = { ...request, trigger: { actor: "dependabot[bot]" } };
}, 120_000);

afterAll(async () => {
  await local?.kill();
});

// An attack that leaves its execution waiting would hold the prod lock for the next one.
afterEach(() => stopRunningProd(local));

const stateBucket = () => prodStateBucket(local);

/** hello-service-prod:live as the local world keeps it (sealed or bare JSON). */
const prodAlias = () => prodAliasOf(local);

/** The claimed request with an ID token from the local issuer for prod: dependabot[bot] on `ref`. */
async function verifiedAs(ref: string) {
  const idToken = await mintLocalIdToken({
    home: local.home,
    issuer: localIssuerUrl(local.webEndpoint),
    audience: oidcSettingsOf(registry, "prod").audience,
    claims: {
      repository: "acme/hello-service",
      ref,
      sha: claimed.version,
      actor: "dependabot[bot]",
      eventName: "push",
    },
  });
  return { ...claimed, trigger: { actor: "dependabot[bot]", idToken } };
}

/** A prod deployment, waiting for its approval, emails sent. */
const waitingDeployment = (input: ReturnType<typeof requestFor> = claimed) =>
  waitingProdDeployment(local, input);

/** Completes the approval task as anyone holding its token could, claiming an auto-approval. */
async function forgeAutoApproval(token: string) {
  const forged = {
    approved: true,
    how: "auto",
    by: "auto-approve rule 1",
    at: new Date().toISOString(),
    rule: { index: 0, matched: "actor dependabot[bot], ref refs/heads/main" },
    verified: true,
  };
  const accepted = await local.sfn.send(
    new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(forged) }),
  );
  // The API accepts it, as AWS would: the token is a bearer capability.
  expect(accepted.$metadata.httpStatusCode).toBe(200);
}

/** The forgery ended ApprovalNotVerified: prod did not move, the lock is free, the approval void. */
async function expectRefused(waiting: Waiting, alias: unknown) {
  const done = await waitForStatus(local, waiting.arn);
  expect(done).toMatchObject({ status: "FAILED", error: "ApprovalNotVerified" });
  expect(done.cause).toContain(
    `the approval task was completed, but nobody decided approval ${waiting.approvalId}`,
  );
  expect(prodAlias()).toEqual(alias);
  expect(await stateBucket().get("locks/hello-service.json")).toBeUndefined();
  expect(await stateBucket().get(recordKeys.approvalVoid(waiting.approvalId))).toBeDefined();
  const page = await fetch(
    link(await emailFor(local, waiting.name, "alice@example.com"), "Approve"),
  );
  expect(page.status).toBe(410);
}

const status = (arn: string) => prodStatus(local, arn);

describe("auto-approval without a verified trigger", () => {
  it("a StartExecution claiming dependabot[bot] without an ID token waits for a person", async () => {
    const alias = prodAlias();
    const waiting = await waitingDeployment();
    const mails = outbox(local, waiting.name);
    expect(mails.map((m) => m.to).sort()).toEqual(["alice@example.com", "bob@example.com"]);
    expect(mails[0]?.text).toContain(
      "Triggered by: dependabot[bot] (unverified claim: no ID token)",
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(await status(waiting.arn)).toBe("RUNNING");
    expect(
      await stateBucket().get(recordKeys.approvalDecision(waiting.approvalId)),
    ).toBeUndefined();
    expect(prodAlias()).toEqual(alias);
  });

  it('completing its approval task with how: "auto" is ApprovalNotVerified, and voids the approval', async () => {
    const alias = prodAlias();
    const waiting = await waitingDeployment();
    await forgeAutoApproval(waiting.token);
    await expectRefused(waiting, alias);
  });
});

describe("auto-approval with a verified trigger", () => {
  it("a verified trigger the rule does not match (another ref) waits for a person, its claims in the email", async () => {
    const alias = prodAlias();
    const input = await verifiedAs("refs/heads/feature");
    const waiting = await waitingDeployment(input);
    const mails = outbox(local, waiting.name);
    expect(mails.map((m) => m.to).sort()).toEqual(["alice@example.com", "bob@example.com"]);
    expect(mails[0]?.text).toContain(
      `Triggered by: dependabot[bot] — verified by ${localIssuerUrl(local.webEndpoint)}: ` +
        `acme/hello-service@refs/heads/feature, commit ${claimed.version}, event push`,
    );
    for (const mail of mails) expect(mail.text).not.toContain(input.trigger.idToken);
    // The approval record keeps the verified claims, never the token they came from.
    const record = await stateBucket().get<{ trigger: unknown }>(
      recordKeys.approval(waiting.approvalId),
    );
    expect(record?.value.trigger).toMatchObject({
      actor: "dependabot[bot]",
      verified: {
        repository: "acme/hello-service",
        ref: "refs/heads/feature",
        actor: "dependabot[bot]",
      },
    });
    expect(JSON.stringify(record?.value)).not.toContain(input.trigger.idToken);
    // Completing its task with how: "auto" does not make the rule match.
    await forgeAutoApproval(waiting.token);
    await expectRefused(waiting, alias);
  });

  it("control: a verified trigger the rule matches is auto-approved, nobody asked", async () => {
    const input = await verifiedAs("refs/heads/main");
    const approvalsBefore = await stateBucket().list("approvals/");
    const started = await startDeployment(local, "prod", input);
    const arn = started.executionArn as string;
    const done = await waitForStatus(local, arn, undefined, 90_000);
    expect(done.status).toBe("SUCCEEDED");
    // VerifyApproval's own decision, from the verified claims in the state; no token anywhere.
    expect(JSON.parse(done.output ?? "{}").approval).toEqual({
      approved: true,
      how: "auto",
      by: "auto-approve rule 1",
      at: expect.any(String),
      rule: { index: 0, matched: "actor dependabot[bot], ref refs/heads/main" },
      verified: true,
    });
    expect(done.output).not.toContain(input.trigger.idToken);
    expect(outbox(local, arn.split(":").at(-1) as string)).toEqual([]);
    // No approval record, index or token was written for it.
    expect(await stateBucket().list("approvals/")).toEqual(approvalsBefore);
  });
});
