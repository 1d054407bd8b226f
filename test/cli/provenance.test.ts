/**
 * `gantry provenance` against a real local control plane: a version goes through preprod and is
 * approved into prod by the commands CI and an approver run; the command then shows, from the
 * record the pipeline wrote (read over the plane's S3 endpoint), the same bytes at every hop,
 * who triggered it, who approved it, and the outcome.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployArgs, runCli, spawnCli, throughPreprodWithCli } from "../support/cli.ts";
import { type LocalProcess, startLocalProcess } from "../support/local-process.ts";

let local: LocalProcess;

beforeAll(async () => {
  local = await startLocalProcess();
});

afterAll(async () => {
  await local?.kill();
});

describe("gantry provenance", () => {
  it("shows a prod deployment's commit, SHA-256 at every hop, trigger, approval and outcome", async () => {
    const build = await throughPreprodWithCli(local, "v2");
    const deploy = spawnCli(deployArgs("prod", build, "--wait"), { local });
    await deploy.waitForOutput(
      /approval: or at a terminal, as a registered operator: gantry approve \S+/,
    );
    const name =
      /gantry approve (hello-service-[0-9a-f]{12}-[0-9a-f]{8})/.exec(deploy.stdout())?.[1] ?? "";
    const approved = await runCli(["approve", name, "--as", "alice@example.com"], { local });
    expect(approved.code, approved.stderr).toBe(0);
    const done = await deploy.done;
    expect(done.code, done.stdout + done.stderr).toBe(0);

    const ran = await runCli(
      ["provenance", "--stage", "prod", "--service", "hello-service", "--json"],
      { local },
    );
    expect(ran.code, ran.stderr).toBe(0);
    const doc = JSON.parse(ran.stdout);
    expect(doc).toMatchObject({
      stage: "prod",
      service: "hello-service",
      amended: false,
      commit: build.version,
      artifact: { requested: { sha256: build.sha256 }, verdict: "same-bytes" },
      approval: { how: "operator", by: "alice@example.com", channel: "terminal (operator API)" },
      execution: { name },
      outcome: { status: "deployed" },
      rollback: null,
    });
    expect(doc.artifact.hops.map((h: { hop: string }) => h.hop)).toEqual([
      "preprod bucket",
      "preprod Lambda",
      "prod bucket",
      "prod Lambda",
    ]);
    for (const hop of doc.artifact.hops)
      expect(hop).toMatchObject({ sha256: build.sha256, matches: true });
    expect(doc.lambda.newVersion).toBe(doc.outcome.version);
    expect(doc.execution.arn).toContain(`:execution:gantry-prod:${name}`);
    // `gantry deploy` against the local plane sends a token from the plane's own issuer: the
    // record keeps its verified claims (never the token), and the repository they proved.
    expect(doc.trigger.verified).toMatchObject({
      repository: "acme/hello-service",
      sha: build.version,
      audience: "gantry-prod",
      actor: doc.trigger.actor,
    });
    expect(doc.trigger.verified.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/oidc$/);
    expect(doc.repository).toMatchObject({ name: "acme/hello-service", verified: true });
    expect(ran.stdout).not.toContain("idToken");

    // The same for a person, and the same record when asked by version.
    const text = await runCli(
      ["provenance", "--stage", "prod", "--service", "hello-service", "--version", build.version],
      { local },
    );
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(
      `Provenance of hello-service ${build.version.slice(0, 12)} in prod`,
    );
    expect(text.stdout).toContain("the same bytes at every hop");
    expect(text.stdout).toContain("approved by alice@example.com");
    expect(text.stdout).toContain(
      "acme/hello-service, https://github.com/acme/hello-service (verified: OIDC ID token)",
    );
    expect(text.stdout).toMatch(
      /trigger {6}\S+ \(verified: ID token from http:\/\/127\.0\.0\.1:\d+\/oidc/,
    );

    // Another version has no record: exit 5, saying where it looked.
    const none = await runCli(
      ["provenance", "--stage", "prod", "--service", "hello-service", "--version", "0000000"],
      { local },
    );
    expect(none.code).toBe(5);
    expect(none.stderr).toContain("no deployment record of hello-service 0000000 in prod");
  });
});
