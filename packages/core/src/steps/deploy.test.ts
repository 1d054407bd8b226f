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
      phase: "steps",
      stepIndex: -1,
      weight: 0,
      checks: 0,
      holdEndsAt: iso(T0),
      nextCheckAt: iso(T0),
    });
    expect(w.functions.alias("hello-prod", "live")).toMatchObject({ version: "1", weights: {} });
    expect(w.functions.aliasHistory).toEqual([]);
    expect((await w.functions.getVersion("hello-prod", "2"))?.codeSha256).toBe(w.sha256);
  });

  it("deploys the exact object version from the stage bucket and describes the version", async () => {
    const w = world();
    const updates: unknown[] = [];
    const descriptions: string[] = [];
    const updateCode = w.functions.updateCode.bind(w.functions);
    const publishVersion = w.functions.publishVersion.bind(w.functions);
    w.functions.updateCode = async (name, source) => {
      updates.push(source);
      return updateCode(name, source);
    };
    w.functions.publishVersion = async (name, options) => {
      descriptions.push((options as unknown as { description: string }).description);
      return publishVersion(name, options);
    };
    await deploy(w.state, w.deps);
    expect(updates).toEqual([
      { bucket: PROD_BUCKET, key: w.state.artifact.key, versionId: w.state.artifact.versionId },
    ]);
    expect(descriptions).toEqual([
      `gantry hello-service ${w.state.request.version} (${w.state.execution.name})`,
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

  it("refuses an alias on $LATEST with InvalidTarget before changing any code", async () => {
    const w = world();
    const live = w.functions.fns.get("hello-prod")?.aliases.get("live");
    if (!live) throw new Error("no alias");
    w.functions.fns.get("hello-prod")?.aliases.set("live", { ...live, version: "$LATEST" });
    await expect(deploy(w.state, w.deps)).rejects.toThrow(InvalidTarget);
    await expect(deploy(w.state, w.deps)).rejects.toThrow(
      "alias hello-prod:live points at $LATEST, not a numbered version",
    );
    expect(w.functions.faults.calls).not.toContain("functions.updateCode");
    expect(w.functions.faults.calls).not.toContain("functions.publishVersion");
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
      phase: "promote",
      stepIndex: -1,
      weight: 0,
      checks: 0,
      holdEndsAt: iso(T0),
      nextCheckAt: iso(T0),
    });
    expect(w.functions.alias("hello-prod", "live")).toMatchObject({ version: "1", weights: {} });
  });

  it("moves no traffic and goes to promote when the alias already serves these bytes", async () => {
    const w = world(V1);
    const rollout = await deploy(w.state, w.deps);
    expect(rollout).toMatchObject({
      newVersion: "1",
      previousVersion: "1",
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
