import { describe, expect, it } from "vitest";
import { ArtifactChecksumMismatch, ArtifactConflict, ArtifactNotFound } from "../errors.ts";
import type { ApprovalDecision } from "../state.ts";
import {
  fixedClock,
  PREPROD_BUCKET,
  PROD_BUCKET,
  T0,
  testExecution,
  testPlan,
  testRequest,
} from "../testing/fixtures.ts";
import { MemoryArtifacts } from "../testing/memory-world.ts";
import { copyArtifact } from "./copy-artifact.ts";

const KEY = "hello-service/3f2a9c1e0b7d.zip";
const BYTES = "the artifact's bytes";
const approval: ApprovalDecision = {
  approved: true,
  how: "approver",
  by: "alice@example.com",
  at: new Date(T0).toISOString(),
  verified: true,
};

function world(options: { publish?: boolean; requestedSha256?: string } = {}) {
  const artifacts = new MemoryArtifacts();
  const sha256 =
    options.publish === false
      ? "c".repeat(64)
      : artifacts.put({ bucket: PREPROD_BUCKET, key: KEY }, BYTES);
  const request = testRequest({ key: KEY, sha256: options.requestedSha256 ?? sha256 });
  const state = { plan: testPlan("prod", request), request, execution: testExecution(), approval };
  return { artifacts, sha256, state, deps: { artifacts, clock: fixedClock(T0) } };
}

describe("copyArtifact", () => {
  it("copies the requested bytes into the stage bucket with provenance in metadata and tags", async () => {
    const w = world();
    const promoted = await copyArtifact(w.state, w.deps);
    const copy = w.artifacts.object({ bucket: PROD_BUCKET, key: KEY });
    expect(copy?.bytes.toString()).toBe(BYTES);
    expect(copy?.metadata).toEqual({
      "gantry-service": "hello-service",
      "gantry-version": w.state.request.version,
      "gantry-sha256": w.sha256,
      "gantry-execution": w.state.execution.name,
      "gantry-approved-by": "alice@example.com",
      "gantry-promoted-at": new Date(T0).toISOString(),
    });
    expect(copy?.tags).toEqual({
      "gantry-service": "hello-service",
      "gantry-version": w.state.request.version,
    });
    expect(promoted).toEqual({
      bucket: PROD_BUCKET,
      key: KEY,
      versionId: copy?.versionId,
      sha256: w.sha256,
      size: Buffer.byteLength(BYTES),
      copied: true,
    });
  });

  it('records "none" as the approver when there was no approval', async () => {
    const w = world();
    const { approval: _omitted, ...state } = w.state;
    await copyArtifact(state, w.deps);
    expect(
      w.artifacts.object({ bucket: PROD_BUCKET, key: KEY })?.metadata["gantry-approved-by"],
    ).toBe("none");
  });

  it("throws ArtifactNotFound when the source object is missing", async () => {
    const w = world({ publish: false });
    await expect(copyArtifact(w.state, w.deps)).rejects.toThrow(
      new ArtifactNotFound(`no artifact at s3://${PREPROD_BUCKET}/${KEY}`),
    );
  });

  it("throws ArtifactChecksumMismatch when the source holds other bytes, copying nothing", async () => {
    const w = world({ requestedSha256: "f".repeat(64) });
    await expect(copyArtifact(w.state, w.deps)).rejects.toThrow(
      new ArtifactChecksumMismatch(
        `s3://${PREPROD_BUCKET}/${KEY} has SHA-256 ${w.sha256}, expected ${"f".repeat(64)}`,
      ),
    );
    expect(w.artifacts.object({ bucket: PROD_BUCKET, key: KEY })).toBeUndefined();
  });

  it("throws ArtifactChecksumMismatch when the source has no full-object SHA-256", async () => {
    const w = world();
    const head = w.artifacts.head.bind(w.artifacts);
    w.artifacts.head = async (ref) => {
      const info = await head(ref);
      if (!info) return info;
      const { sha256: _composite, ...rest } = info;
      return rest;
    };
    await expect(copyArtifact(w.state, w.deps)).rejects.toThrow(
      `s3://${PREPROD_BUCKET}/${KEY} has SHA-256 (none recorded), expected ${w.sha256}`,
    );
  });

  it("reuses the source as it is when it already is the destination", async () => {
    const w = world();
    const state = { ...w.state, plan: { ...w.state.plan, destination: w.state.plan.source } };
    const promoted = await copyArtifact(state, w.deps);
    expect(promoted).toMatchObject({
      bucket: PREPROD_BUCKET,
      key: KEY,
      sha256: w.sha256,
      copied: false,
    });
    // The verified source is the destination: no second look at it, no copy.
    expect(w.artifacts.faults.calls).toEqual(["artifacts.head"]);
  });

  it("copies to another key in the same bucket", async () => {
    const w = world();
    const to = { bucket: PREPROD_BUCKET, key: `promoted/${KEY}` };
    const state = { ...w.state, plan: { ...w.state.plan, destination: to } };
    expect(await copyArtifact(state, w.deps)).toMatchObject({ ...to, copied: true });
    expect(w.artifacts.bytes(to)?.toString()).toBe(BYTES);
  });

  it("reuses a destination object that already holds the same bytes", async () => {
    const w = world();
    w.artifacts.put({ bucket: PROD_BUCKET, key: KEY }, BYTES);
    const existingVersion = w.artifacts.object({ bucket: PROD_BUCKET, key: KEY })?.versionId;
    const promoted = await copyArtifact(w.state, w.deps);
    expect(promoted).toEqual({
      bucket: PROD_BUCKET,
      key: KEY,
      versionId: existingVersion,
      sha256: w.sha256,
      size: Buffer.byteLength(BYTES),
      copied: false,
    });
    expect(w.artifacts.faults.calls).not.toContain("artifacts.copy");
  });

  it("refuses to overwrite a destination that holds other bytes (ArtifactConflict)", async () => {
    const w = world();
    const other = w.artifacts.put({ bucket: PROD_BUCKET, key: KEY }, "other bytes");
    await expect(copyArtifact(w.state, w.deps)).rejects.toThrow(
      new ArtifactConflict(
        `s3://${PROD_BUCKET}/${KEY} already holds other bytes (SHA-256 ${other}); promoted artifacts are never overwritten`,
      ),
    );
    expect(w.artifacts.bytes({ bucket: PROD_BUCKET, key: KEY })?.toString()).toBe("other bytes");
  });

  it("says the SHA-256 is unknown when the destination or the copy records none", async () => {
    const w = world();
    const withoutSha = <T extends { sha256?: string }>({ sha256: _omitted, ...rest }: T) => rest;
    w.artifacts.put({ bucket: PROD_BUCKET, key: KEY }, "other bytes");
    const head = w.artifacts.head.bind(w.artifacts);
    w.artifacts.head = async (ref) => {
      const info = await head(ref);
      return info && ref.bucket === PROD_BUCKET ? withoutSha(info) : info;
    };
    await expect(copyArtifact(w.state, w.deps)).rejects.toThrow(
      new ArtifactConflict(
        `s3://${PROD_BUCKET}/${KEY} already holds other bytes (SHA-256 unknown); promoted artifacts are never overwritten`,
      ),
    );

    w.artifacts.objects.delete(`${PROD_BUCKET}/${KEY}`);
    const copy = w.artifacts.copy.bind(w.artifacts);
    w.artifacts.copy = async (from, to, options) => withoutSha(await copy(from, to, options));
    await expect(copyArtifact(w.state, w.deps)).rejects.toThrow(
      new ArtifactChecksumMismatch(
        `the copy at s3://${PROD_BUCKET}/${KEY} has SHA-256 unknown, expected ${w.sha256}`,
      ),
    );
  });

  it("throws ArtifactChecksumMismatch when the copy does not have the requested SHA-256", async () => {
    const w = world();
    const copy = w.artifacts.copy.bind(w.artifacts);
    w.artifacts.copy = async (from, to, options) => ({
      ...(await copy(from, to, options)),
      sha256: "d".repeat(64),
    });
    await expect(copyArtifact(w.state, w.deps)).rejects.toThrow(
      `the copy at s3://${PROD_BUCKET}/${KEY} has SHA-256 ${"d".repeat(64)}, expected ${w.sha256}`,
    );
  });

  it("asks the store to check the requested SHA-256 on the copy", async () => {
    const w = world();
    const asked: string[] = [];
    const copy = w.artifacts.copy.bind(w.artifacts);
    w.artifacts.copy = async (from, to, options) => {
      asked.push(options.sha256);
      return copy(from, to, options);
    };
    await copyArtifact(w.state, w.deps);
    expect(asked).toEqual([w.sha256]);
  });

  it("refuses to copy a source replaced between its check and the copy, and copies nothing", async () => {
    const w = world();
    const head = w.artifacts.head.bind(w.artifacts);
    w.artifacts.head = async (ref) => {
      const seen = await head(ref);
      // Someone overwrites the preprod object right after it was verified.
      if (ref.bucket === PREPROD_BUCKET) w.artifacts.put(ref, "swapped bytes");
      return seen;
    };
    await expect(copyArtifact(w.state, w.deps)).rejects.toThrow(ArtifactChecksumMismatch);
    expect(w.artifacts.object({ bucket: PROD_BUCKET, key: KEY })).toBeUndefined();
  });
});
