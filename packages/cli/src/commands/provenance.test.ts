import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { amendmentKey, type DeploymentRecord, recordKeys } from "@gantry/core";
import { regressedVerdict, testVerdict, verifiedTrigger } from "@gantry/core/testing";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import type { Io } from "../io.ts";
import { run } from "../run.ts";
import { provenanceLines, provenanceOf } from "./provenance.ts";

const s3 = mockClient(S3Client);
const sts = mockClient(STSClient);
beforeEach(() => {
  s3.reset();
  sts.reset();
});

const SHA = "ab".repeat(32);
const OTHER = "cd".repeat(32);
const VERSION = "3f2a9c1e0b7d4a5f6e8c9b0a1d2e3f4a5b6c7d8e";
const NAME = `hello-service-${VERSION.slice(0, 12)}-abababab`;
const STARTED = "2026-11-30T10:00:00.000Z";
const KEY = recordKeys.deployment("hello-service", STARTED, NAME);

const verified = verifiedTrigger({
  repositoryId: "123",
  sha: VERSION,
  actor: "octocat",
  workflow: "release",
  workflowRef: "acme/hello-service/.github/workflows/release.yml@refs/heads/main",
  eventName: "push",
  environment: "prod",
  runId: "42",
  runAttempt: "1",
  issuedAt: "2026-11-30T09:59:00.000Z",
  expiresAt: "2026-11-30T10:04:00.000Z",
});

function record(overrides: Partial<DeploymentRecord> = {}): DeploymentRecord {
  return {
    service: "hello-service",
    stage: "prod",
    version: VERSION,
    sha256: SHA,
    repository: {
      name: "acme/hello-service",
      id: "123",
      url: "https://github.com/acme/hello-service",
      verified: true,
    },
    trigger: { actor: "octocat", ciRunUrl: "https://ci.example.com/runs/42", verified },
    execution: {
      id: `arn:aws:states:us-east-1:123456789012:execution:gantry-prod:${NAME}`,
      name: NAME,
      startedAt: STARTED,
    },
    preprod: {
      required: true,
      validatedAt: "2026-11-30T09:00:00.000Z",
      validatedBy: "ci-bot",
      preprodVersion: "7",
      alarms: [],
      bucket: "acme-preprod-artifacts",
      key: "hello-service/a.zip",
      sha256: SHA,
      codeSha256: SHA,
    },
    approval: {
      approved: true,
      how: "approver",
      by: "alice@example.com",
      at: "2026-11-30T10:01:00.000Z",
      approvalId: "abcdefghijklmnopqrstuvwx",
      verified: true,
    },
    artifact: {
      bucket: "acme-prod-artifacts",
      key: "hello-service/a.zip",
      versionId: "v1",
      sha256: SHA,
      size: 10,
      copied: true,
    },
    release: { newVersion: "5", previousVersion: "4", codeSha256: SHA },
    outcome: { status: "deployed", version: "5" },
    finishedAt: "2026-11-30T10:10:00.000Z",
    ...overrides,
  };
}

describe("provenanceOf", () => {
  it("compares the SHA-256 at every hop with the requested one", () => {
    const doc = provenanceOf(record(), KEY);
    expect(doc).toMatchObject({
      record: KEY,
      amended: false,
      commit: VERSION,
      repository: { name: "acme/hello-service", verified: true },
      lambda: { newVersion: "5", previousVersion: "4" },
      trigger: { actor: "octocat", verified },
      approval: { how: "approver", by: "alice@example.com", channel: "emailed link" },
      execution: { name: NAME, startedAt: STARTED },
      outcome: { status: "deployed", version: "5" },
      rollback: null,
    });
    expect(doc.artifact).toEqual({
      requested: { key: "hello-service/a.zip", sha256: SHA },
      hops: [
        {
          hop: "preprod bucket",
          where: "s3://acme-preprod-artifacts/hello-service/a.zip",
          sha256: SHA,
          matches: true,
        },
        { hop: "preprod Lambda", where: "version 7", sha256: SHA, matches: true },
        {
          hop: "prod bucket",
          where: "s3://acme-prod-artifacts/hello-service/a.zip (version id v1)",
          sha256: SHA,
          matches: true,
        },
        { hop: "prod Lambda", where: "version 5", sha256: SHA, matches: true },
      ],
      verdict: "same-bytes",
    });
  });

  it("says mismatch when a hop saw other bytes, incomplete when a hop was not reached", () => {
    const bad = record({ release: { newVersion: "5", previousVersion: "4", codeSha256: OTHER } });
    expect(provenanceOf(bad, KEY).artifact.verdict).toBe("mismatch");
    const { release: _r, artifact: _a, ...early } = record();
    const doc = provenanceOf(early, KEY);
    expect(doc.artifact.verdict).toBe("incomplete");
    expect(doc.artifact.hops.slice(2)).toEqual([
      { hop: "prod bucket", where: null, sha256: null, matches: null },
      { hop: "prod Lambda", where: null, sha256: null, matches: null },
    ]);
    expect(doc.lambda).toBeNull();
  });

  it("shows only the stage's hops when preprod was not required, and an amendment as such", () => {
    const doc = provenanceOf(
      record({ preprod: { required: false }, amends: KEY }),
      amendmentKey(KEY, "2026-11-30T11:00:00.000Z"),
    );
    expect(doc.amended).toBe(true);
    expect(doc.artifact.hops.map((h) => h.hop)).toEqual(["prod bucket", "prod Lambda"]);
  });
});

describe("provenanceLines", () => {
  it("prints verified facts as verified, and the verdict", () => {
    const text = provenanceLines(provenanceOf(record(), KEY)).join("\n");
    expect(text).toContain(
      "acme/hello-service (id 123), https://github.com/acme/hello-service (verified: OIDC ID token)",
    );
    expect(text).toContain(
      "octocat (verified: ID token from https://token.actions.githubusercontent.com, audience gantry-prod)",
    );
    expect(text).toContain("ref refs/heads/main");
    expect(text).toContain("run 42 attempt 1");
    expect(text).toContain(`${SHA} = requested`);
    expect(text).toContain("the same bytes at every hop");
    expect(text).toContain(
      "approved by alice@example.com at 2026-11-30T10:01:00.000Z, via emailed link",
    );
    expect(text).toContain("deployed (version 5)");
    expect(text).toContain("rollback     none");
  });

  it("marks unverified claims, auto-approvals, rollbacks and failures", () => {
    const text = provenanceLines(
      provenanceOf(
        record({
          repository: { url: "https://github.com/acme/hello-service", verified: false },
          trigger: { actor: "dependabot[bot]" },
          approval: {
            approved: true,
            how: "auto",
            by: "auto-approve rule 0",
            at: "2026-11-30T10:01:00.000Z",
            rule: { index: 0, matched: "actor dependabot[bot]" },
            verified: true,
          },
          release: { newVersion: "5", previousVersion: "4", codeSha256: OTHER },
          rollback: { restoredVersion: "4", removedVersion: "5", verifiedAt: "t" },
          outcome: { status: "rolled-back", error: "AlarmTriggered", cause: "errors > 1" },
        }),
        KEY,
      ),
    ).join("\n");
    expect(text).toContain("https://github.com/acme/hello-service (unverified claim");
    expect(text).toContain("dependabot[bot] (unverified claim: no ID token)");
    expect(text).toContain(
      "auto-approved at 2026-11-30T10:01:00.000Z by rule #0 (actor dependabot[bot])",
    );
    expect(text).toContain(`${OTHER} ≠ requested`);
    expect(text).toContain("MISMATCH");
    expect(text).toContain("rolled-back: AlarmTriggered (errors > 1)");
    expect(text).toContain("version 4 serves all traffic again, version 5 removed");
  });
});

describe("the version analysis in the record", () => {
  it("shows the verdict that stopped the deployment and the alarms it was a fix for", () => {
    const verdict = regressedVerdict();
    const doc = provenanceOf(
      record({
        fixFor: ["hello-prod-errors"],
        analysis: verdict,
        outcome: { status: "rolled-back", error: "VersionRegressed", cause: verdict.summary },
      }),
      KEY,
    );
    expect(doc.analysis).toEqual(verdict);
    expect(doc.fixFor).toEqual(["hello-prod-errors"]);
    const text = provenanceLines(doc).join("\n");
    expect(text).toContain(
      `  analysis     last verdict at 10%: FAILED VersionRegressed — ${verdict.summary}`,
    );
    expect(text).toContain("  fix for      hello-prod-errors (deployed during an incident");
  });

  it("shows a passing verdict's numbers, and none for a record without analysis", () => {
    const passed = provenanceOf(record({ analysis: testVerdict() }), KEY);
    expect(provenanceLines(passed).join("\n")).toContain(
      "last verdict at 10%: pass — version 2 0 of 130 failed (0.0%)",
    );
    const none = provenanceOf(record(), KEY);
    expect(none.analysis).toBeNull();
    expect(none.fixFor).toEqual([]);
    expect(provenanceLines(none).join("\n")).toContain("analysis     none");
    expect(provenanceLines(none).join("\n")).not.toContain("fix for");
  });

  it("shows no verdict for a record whose analysis is in a shape it does not know", () => {
    const odd = record({ analysis: { decision: "pass" } as never, fixFor: [7] as never });
    expect(provenanceOf(odd, KEY)).toMatchObject({ analysis: null, fixFor: [] });
  });
});

async function gantry(args: readonly string[], env: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
    cwd: process.cwd(),
    now: () => Date.parse("2026-11-30T12:00:00Z"),
    sleep: async () => {},
  };
  const code = await run(["provenance", ...args, "--aws", "--region", "us-east-1"], io);
  return { code, stdout, stderr };
}

const body = (value: unknown) =>
  ({
    transformToString: async () => (typeof value === "string" ? value : JSON.stringify(value)),
  }) as never;

describe("gantry provenance (AWS, mocked)", () => {
  it("reads the newest record of the version, an amendment over the first, cleaning remote text", async () => {
    const older = recordKeys.deployment("hello-service", "2026-11-29T10:00:00.000Z", NAME);
    const amended = amendmentKey(KEY, "2026-11-30T11:00:00.000Z");
    const newer = recordKeys.deployment(
      "hello-service",
      "2026-12-01T10:00:00.000Z",
      "hello-service-999999999999-abababab",
    );
    s3.on(ListObjectsV2Command)
      .resolvesOnce({
        Contents: [{ Key: older }, { Key: KEY }],
        IsTruncated: true,
        NextContinuationToken: "t",
      })
      .resolvesOnce({ Contents: [{ Key: amended }, { Key: newer }], IsTruncated: false });
    s3.on(GetObjectCommand, { Key: newer }).resolves({
      Body: body(record({ version: "999999999999aaaa" })),
    });
    s3.on(GetObjectCommand, { Key: amended }).resolves({
      Body: body(
        record({
          amends: KEY,
          outcome: { status: "rolled-back", error: "AlarmTriggered", cause: "boom\u001b[2K" },
        }),
      ),
    });
    const ran = await gantry(
      ["--stage", "prod", "--service", "hello-service", "--version", VERSION.slice(0, 7), "--json"],
      { GANTRY_STATE_BUCKET: "acme-state" },
    );
    expect(ran.code, ran.stderr).toBe(0);
    const doc = JSON.parse(ran.stdout);
    expect(doc).toMatchObject({
      record: amended,
      amended: true,
      outcome: { status: "rolled-back" },
    });
    expect(doc.outcome.cause).not.toContain("\u001b");
    expect(s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input)).toEqual([
      { Bucket: "acme-state", Prefix: "deployments/hello-service/" },
      { Bucket: "acme-state", Prefix: "deployments/hello-service/", ContinuationToken: "t" },
    ]);
    // Newest first, up to the version's current record: never its superseded first record.
    expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
      newer,
      amended,
    ]);
  });

  it("names the default state bucket from the caller's account, skips damaged records, exit 5 when none", async () => {
    sts
      .on(GetCallerIdentityCommand)
      .resolves({ Account: "123456789012", Arn: "arn:aws:iam::123456789012:user/x" });
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: KEY }] });
    s3.on(GetObjectCommand).resolves({ Body: body("{not json") });
    const ran = await gantry(["--stage", "prod", "--service", "hello-service"]);
    expect(ran.code).toBe(5);
    expect(ran.stderr).toContain(
      `skipped s3://gantry-state-prod-123456789012-us-east-1/${KEY}: not JSON`,
    );
    expect(ran.stderr).toContain("no deployment record of hello-service in prod");
  });

  it("prints the newest deployment for a person", async () => {
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: KEY }] });
    s3.on(GetObjectCommand).resolves({ Body: body(record()) });
    const ran = await gantry([
      "--stage",
      "prod",
      "--service",
      "hello-service",
      "--state-bucket",
      "acme-state",
    ]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain(`Provenance of hello-service ${VERSION.slice(0, 12)} in prod`);
  });

  it("has its help, and a line in gantry --help", async () => {
    const help = await gantry(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: gantry provenance [options]");
    expect(help.stdout).toContain("--state-bucket NAME");
    const main = await run(["--help"], {
      stdout: { write: (text: string) => (help.stdout = text) },
      stderr: { write: () => true },
      env: {},
      cwd: process.cwd(),
      now: () => 0,
      sleep: async () => {},
    });
    expect(main).toBe(0);
    expect(help.stdout).toMatch(/^ {2}provenance +where a deployment came from/m);
  });

  it("refuses a missing service or a malformed version (exit 2)", async () => {
    expect((await gantry(["--stage", "prod"])).code).toBe(2);
    expect((await gantry(["--stage", "prod", "--service", "../locks"])).code).toBe(2);
    expect((await gantry(["--stage", "prod", "--service", "s", "--version", "XYZ"])).code).toBe(2);
  });
});
