import { describe, expect, it } from "vitest";
import { ArtifactChecksumMismatch, InvalidTarget, TargetNotFound } from "../errors.ts";
import type { Plan } from "../plan.ts";
import type { PromotedArtifact } from "../state.ts";
import {
  fixedClock,
  PROD_BUCKET,
  T0,
  testExecution,
  testPlan,
  testRequest,
} from "../testing/fixtures.ts";
import { MemoryArtifacts, MemoryFunctions } from "../testing/memory-world.ts";
import { deploy } from "./deploy.ts";

const V1 = { statusCode: 200, body: "hello v1" };
const V2 = { statusCode: 200, body: "hello v2" };
const iso = (ms: number) => new Date(ms).toISOString();

/** hello-prod:live on version 1; the stage bucket holds `code` as the artifact to deploy. */
function world(code: object = V2, options: { requestedSha256?: string; plan?: Plan } = {}) {
  const artifacts = new MemoryArtifacts();
  const functions = new MemoryFunctions(artifacts);
  functions.create("hello-prod", "live", V1);
  const key = "hello-service/3f2a9c1e0b7d.zip";
  const sha256 = artifacts.put({ bucket: PROD_BUCKET, key }, JSON.stringify(code));
  const versionId = artifacts.object({ bucket: PROD_BUCKET, key })?.versionId;
  const request = testRequest({ key, sha256: options.requestedSha256 ?? sha256 });
  const artifact: PromotedArtifact = {
    bucket: PROD_BUCKET,
    key,
    ...(versionId ? { versionId } : {}),
    sha256,
    size: 10,
    copied: true,
  };
  const state = {
    plan: options.plan ?? testPlan("prod", request),
    request,
    execution: testExecution(),
    artifact,
  };
  return { artifacts, functions, state, sha256, deps: { functions, clock: fixedClock(T0) } };
}

describe("deploy", () => {
  it("publishes a new version and moves no traffic (the canary decides that)", async () => {
    const w = world();
    const rollout = await deploy(w.state, w.deps);
    expect(rollout).toEqual({
      newVersion: "2",
      previousVersion: "1",
      codeSha256: w.sha256,
      phase: "steps",
      stepIndex: -1,
      weight: 0,
      checks: 0,
      // The bake's baseline window ends here; no hold has started (the canary starts the first).
      startedAt: iso(T0),
      holdEndsAt: iso(T0),
      nextCheckAt: iso(T0),
      holdTimeoutSeconds: 61,
    });
    expect(w.functions.alias("hello-prod", "live")).toMatchObject({ version: "1", weights: {} });
    expect(w.functions.aliasHistory).toEqual([]);
    expect((await w.functions.getVersion("hello-prod", "2"))?.codeSha256).toBe(w.sha256);
  });

  it("deploys the exact object version from the stage bucket and publishes that revision, described", async () => {
    const w = world();
    const updates: unknown[] = [];
    const revisions: (string | undefined)[] = [];
    const publishes: unknown[] = [];
    const updateCode = w.functions.updateCode.bind(w.functions);
    const publishVersion = w.functions.publishVersion.bind(w.functions);
    w.functions.updateCode = async (name, source) => {
      updates.push(source);
      const updated = await updateCode(name, source);
      revisions.push(updated.revisionId);
      return updated;
    };
    w.functions.publishVersion = async (name, options) => {
      publishes.push(options);
      return publishVersion(name, options);
    };
    await deploy(w.state, w.deps);
    expect(updates).toEqual([
      { bucket: PROD_BUCKET, key: w.state.artifact.key, versionId: w.state.artifact.versionId },
    ]);
    // Pinned to the revision the code update made: a concurrent update makes the publish fail.
    expect(publishes).toEqual([
      {
        codeSha256: w.sha256,
        revisionId: revisions[0],
        description: `gantry hello-service ${w.state.request.version} (${w.state.execution.name})`,
      },
    ]);
  });

  it("refuses a missing alias with TargetNotFound before changing any code", async () => {
    const w = world();
    w.functions.fns.get("hello-prod")?.aliases.delete("live");
    await expect(deploy(w.state, w.deps)).rejects.toThrow(TargetNotFound);
    await expect(deploy(w.state, w.deps)).rejects.toThrow(
      "alias hello-prod:live does not exist; create the function and alias before the first deployment",
    );
    expect(w.functions.faults.calls).not.toContain("functions.updateCode");
  });

  /** Points hello-prod:live at `version` behind Lambda's back (the memory world checks nothing). */
  function pointAliasAt(w: ReturnType<typeof world>, version: string): void {
    const live = w.functions.fns.get("hello-prod")?.aliases.get("live");
    if (!live) throw new Error("no alias");
    w.functions.fns.get("hello-prod")?.aliases.set("live", { ...live, version });
  }

  // Only a numbered version ("1", "12", ...) can be rolled back to; the odd ones guard the
  // pattern's anchors.
  it.each(["$LATEST", "0", "01", "v2", "2.0"])(
    "refuses an alias on %s with InvalidTarget before changing any code",
    async (version) => {
      const w = world();
      pointAliasAt(w, version);
      await expect(deploy(w.state, w.deps)).rejects.toThrow(
        new InvalidTarget(
          `alias hello-prod:live points at ${version}, not a numbered version: ` +
            "publish a version and point the alias at it before the first deployment",
        ),
      );
      expect(w.functions.faults.calls).not.toContain("functions.updateCode");
      expect(w.functions.faults.calls).not.toContain("functions.publishVersion");
    },
  );

  it("deploys over an alias on a multi-digit version", async () => {
    const w = world();
    const fn = w.functions.fns.get("hello-prod");
    const v1 = fn?.versions.get("1");
    if (!fn || !v1) throw new Error("no version 1");
    for (let v = 2; v <= 12; v++) fn.versions.set(String(v), v1);
    pointAliasAt(w, "12");
    expect(await deploy(w.state, w.deps)).toMatchObject({
      newVersion: "13",
      previousVersion: "12",
      phase: "steps",
    });
  });

  it("refuses a missing function with TargetNotFound", async () => {
    const w = world();
    w.functions.fns.delete("hello-prod");
    await expect(deploy(w.state, w.deps)).rejects.toThrow(TargetNotFound);
  });

  it("throws ArtifactChecksumMismatch when the updated code is not the requested bytes", async () => {
    const w = world(V2, { requestedSha256: "f".repeat(64) });
    await expect(deploy(w.state, w.deps)).rejects.toThrow(
      new ArtifactChecksumMismatch(
        `Lambda reports CodeSha256 ${w.sha256} for the function's code; the artifact's SHA-256 is ${"f".repeat(64)}`,
      ),
    );
    expect(w.functions.faults.calls).not.toContain("functions.publishVersion");
    expect(w.functions.alias("hello-prod", "live")).toMatchObject({ version: "1", weights: {} });
  });

  it("throws ArtifactChecksumMismatch when the published version is not the requested bytes", async () => {
    const w = world();
    const publishVersion = w.functions.publishVersion.bind(w.functions);
    w.functions.publishVersion = async (name, options) => ({
      ...(await publishVersion(name, options)),
      codeSha256: "e".repeat(64),
    });
    await expect(deploy(w.state, w.deps)).rejects.toThrow(
      `Lambda reports CodeSha256 ${"e".repeat(64)} for version 2; the artifact's SHA-256 is ${w.sha256}`,
    );
    expect(w.functions.alias("hello-prod", "live")).toMatchObject({ version: "1", weights: {} });
  });

  it("moves no traffic and goes straight to promote when the stage has no traffic steps", async () => {
    const base = testPlan();
    const w = world(V2, { plan: { ...base, rollout: { ...base.rollout, steps: [] } } });
    const rollout = await deploy(w.state, w.deps);
    expect(rollout).toEqual({
      newVersion: "2",
      previousVersion: "1",
      codeSha256: w.sha256,
      phase: "promote",
      stepIndex: -1,
      weight: 0,
      checks: 0,
      startedAt: iso(T0),
      // The one already-over hold before Promote starts now.
      holdStartedAt: iso(T0),
      holdEndsAt: iso(T0),
      nextCheckAt: iso(T0),
      holdTimeoutSeconds: 61,
    });
    expect(w.functions.alias("hello-prod", "live")).toMatchObject({ version: "1", weights: {} });
  });

  it("moves no traffic and goes to promote when the alias already serves these bytes", async () => {
    const w = world(V1);
    const rollout = await deploy(w.state, w.deps);
    expect(rollout).toMatchObject({
      newVersion: "1",
      previousVersion: "1",
      codeSha256: w.sha256,
      phase: "promote",
      weight: 0,
    });
    expect(w.functions.aliasHistory).toEqual([]);
  });

  it("needs the artifact CopyArtifact wrote", async () => {
    const w = world();
    const { artifact: _omitted, ...state } = w.state;
    await expect(deploy(state, w.deps)).rejects.toThrow(
      new TypeError("deploy needs $.artifact (CopyArtifact runs first)"),
    );
  });
});
