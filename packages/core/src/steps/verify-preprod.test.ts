import { describe, expect, it } from "vitest";
import { ArtifactChecksumMismatch, ArtifactNotFound, PreprodNotValidated } from "../errors.ts";
import { validationKey } from "../state.ts";
import { PREPROD_BUCKET, testPlan, testRequest } from "../testing/fixtures.ts";
import { MemoryAlarms, MemoryArtifacts, MemoryFunctions } from "../testing/memory-world.ts";
import { rejectionOf } from "../testing/rejection.ts";
import { type ValidationRecord, verifyPreprod } from "./verify-preprod.ts";

const KEY = "hello-service/3f2a9c1e0b7d.zip";
const CODE = JSON.stringify({ statusCode: 200, body: "hello v2" });

/**
 * What a passed preprod leaves behind: the artifact in the preprod bucket, its validation
 * record, hello-preprod:live serving it as version 2, and the preprod alarm OK.
 */
async function world(
  options: { publish?: boolean; validate?: boolean; record?: Partial<ValidationRecord> } = {},
) {
  const artifacts = new MemoryArtifacts();
  const functions = new MemoryFunctions(artifacts);
  const alarms = new MemoryAlarms();
  const source = { bucket: PREPROD_BUCKET, key: KEY };
  const sha256 = artifacts.put(source, CODE);
  functions.create("hello-preprod", "live", { statusCode: 200, body: "hello v1" });
  const updated = await functions.updateCode("hello-preprod", source);
  const published = await functions.publishVersion("hello-preprod", {
    codeSha256: sha256,
    ...(updated.revisionId ? { revisionId: updated.revisionId } : {}),
  });
  await functions.updateAlias("hello-preprod", "live", { version: published.version, weights: {} });
  alarms.set("hello-preprod-errors", "OK", "fine");
  const request = testRequest({ key: KEY, sha256 });
  const record: ValidationRecord = {
    service: "hello-service",
    version: request.version,
    sha256,
    validatedAt: "2026-11-01T11:00:00.000Z",
    validatedBy: "ci-bot",
    ciRunUrl: "https://ci.example.com/runs/41",
    ...options.record,
  };
  if (options.validate !== false) {
    artifacts.put(
      { bucket: PREPROD_BUCKET, key: validationKey("hello-service", request.version) },
      JSON.stringify(record),
    );
  }
  if (options.publish === false) artifacts.objects.delete(`${PREPROD_BUCKET}/${KEY}`);
  const state = { plan: testPlan("prod", request), request };
  return { artifacts, functions, alarms, sha256, state, deps: { artifacts, functions, alarms } };
}

describe("verifyPreprod", () => {
  it("returns required: false, looking at nothing, when the stage does not verify preprod", async () => {
    const w = await world();
    const calls = [...w.artifacts.faults.calls, ...w.functions.faults.calls];
    const state = { ...w.state, plan: testPlan("preprod", w.state.request) };
    expect(await verifyPreprod(state, w.deps)).toEqual({ required: false });
    expect([...w.artifacts.faults.calls, ...w.functions.faults.calls]).toEqual(calls);
  });

  it("returns the evidence when preprod ran and passed these exact bytes", async () => {
    const w = await world();
    expect(await verifyPreprod(w.state, w.deps)).toEqual({
      required: true,
      validatedAt: "2026-11-01T11:00:00.000Z",
      validatedBy: "ci-bot",
      ciRunUrl: "https://ci.example.com/runs/41",
      preprodVersion: "2",
      alarms: [w.alarms.states.get("hello-preprod-errors")],
    });
  });

  it("leaves the CI run out of the evidence when the validation record has none", async () => {
    const w = await world();
    const key = validationKey("hello-service", w.state.request.version);
    const { ciRunUrl: _omitted, ...record } = (await w.artifacts.readJson<ValidationRecord>({
      bucket: PREPROD_BUCKET,
      key,
    })) as ValidationRecord;
    w.artifacts.put({ bucket: PREPROD_BUCKET, key }, JSON.stringify(record));
    expect(await verifyPreprod(w.state, w.deps)).not.toHaveProperty("ciRunUrl");
  });

  it("throws ArtifactNotFound when the object is missing", async () => {
    const w = await world({ publish: false });
    await expect(verifyPreprod(w.state, w.deps)).rejects.toThrow(
      new ArtifactNotFound(`no artifact at s3://${PREPROD_BUCKET}/${KEY}`),
    );
  });

  it("throws ArtifactChecksumMismatch when the object holds other bytes", async () => {
    const w = await world();
    const request = { ...w.state.request, artifact: { key: KEY, sha256: "f".repeat(64) } };
    await expect(verifyPreprod({ ...w.state, request }, w.deps)).rejects.toThrow(
      new ArtifactChecksumMismatch(
        `s3://${PREPROD_BUCKET}/${KEY} has SHA-256 ${w.sha256}, the request says ${"f".repeat(64)}`,
      ),
    );
  });

  it("throws PreprodNotValidated when there is no validation record for the version", async () => {
    const w = await world({ validate: false });
    await expect(verifyPreprod(w.state, w.deps)).rejects.toThrow(PreprodNotValidated);
    await expect(verifyPreprod(w.state, w.deps)).rejects.toThrow(
      `no preprod validation record for hello-service ${w.state.request.version}`,
    );
  });

  it("throws PreprodNotValidated when the record validated other bytes", async () => {
    const w = await world({ record: { sha256: "e".repeat(64) } });
    await expect(verifyPreprod(w.state, w.deps)).rejects.toThrow(
      new PreprodNotValidated(
        `preprod validated hello-service ${w.state.request.version} with SHA-256 ${"e".repeat(64)}, not ${w.sha256}`,
      ),
    );
  });

  it("throws PreprodNotValidated when the preprod alias does not exist", async () => {
    const w = await world();
    w.functions.fns.get("hello-preprod")?.aliases.delete("live");
    await expect(verifyPreprod(w.state, w.deps)).rejects.toThrow(
      new PreprodNotValidated("preprod alias hello-preprod:live does not exist"),
    );
  });

  it("throws PreprodNotValidated when preprod is in the middle of a rollout", async () => {
    const w = await world();
    await w.functions.updateAlias("hello-preprod", "live", { version: "1", weights: { "2": 0.5 } });
    await expect(verifyPreprod(w.state, w.deps)).rejects.toThrow(
      new PreprodNotValidated("preprod hello-preprod:live is in the middle of a rollout"),
    );
  });

  it("throws PreprodNotValidated when preprod runs other code", async () => {
    const w = await world();
    await w.functions.updateAlias("hello-preprod", "live", { version: "1", weights: {} });
    const v1 = (await w.functions.getVersion("hello-preprod", "1"))?.codeSha256;
    await expect(verifyPreprod(w.state, w.deps)).rejects.toThrow(
      new PreprodNotValidated(
        `preprod hello-preprod:live runs version 1 with code ${v1}, not ${w.sha256}`,
      ),
    );
  });

  it("throws PreprodNotValidated when a preprod alarm does not exist", async () => {
    const w = await world();
    w.alarms.states.delete("hello-preprod-errors");
    await expect(verifyPreprod(w.state, w.deps)).rejects.toThrow(
      new PreprodNotValidated("preprod alarms not found: hello-preprod-errors"),
    );
  });

  it("throws PreprodNotValidated when a preprod alarm is in ALARM", async () => {
    const w = await world();
    w.alarms.set("hello-preprod-errors", "ALARM");
    await expect(verifyPreprod(w.state, w.deps)).rejects.toThrow(
      new PreprodNotValidated("preprod alarm in ALARM: hello-preprod-errors"),
    );
  });

  describe("reads the validation record as untrusted input", () => {
    async function withStored(value: unknown) {
      const w = await world({ validate: false });
      w.artifacts.put(
        { bucket: PREPROD_BUCKET, key: validationKey("hello-service", w.state.request.version) },
        typeof value === "string" ? value : JSON.stringify(value),
      );
      return w;
    }
    const good = (w: Awaited<ReturnType<typeof world>>) => ({
      service: "hello-service",
      version: w.state.request.version,
      sha256: w.sha256,
      validatedAt: "2026-11-01T11:00:00.000Z",
      validatedBy: "ci-bot",
    });

    it.each([
      [
        "a CI run URL with a forged line",
        { ciRunUrl: "https://ci.example.com/1\r\nApprove: https://evil.example" },
        "ciRunUrl",
      ],
      ["a validator with a bidi override", { validatedBy: "ci\u202ebot" }, "validatedBy"],
      ["an object where text belongs", { validatedBy: { toString: "x" } }, "validatedBy"],
      ["a time that is not one", { validatedAt: "yesterday" }, "validatedAt"],
      ["an extra field", { approve: "https://evil.example" }, "approve"],
    ])("refuses %s as PreprodNotValidated, naming the field", async (_name, change, field) => {
      const probe = await world();
      const w = await withStored({ ...good(probe), ...change });
      const error = await rejectionOf(verifyPreprod(w.state, w.deps));
      expect(error).toBeInstanceOf(PreprodNotValidated);
      expect(error.message).toContain("malformed");
      expect(error.message).toContain(field);
    });

    it("refuses an oversized record without reading it further", async () => {
      const probe = await world();
      const w = await withStored({ ...good(probe), padding: "x".repeat(300_000) });
      await expect(verifyPreprod(w.state, w.deps)).rejects.toThrow(/300\d{3} bytes; at most 2048/);
    });

    it("refuses a record that is not JSON, or is JSON null", async () => {
      const w = await withStored("{not json");
      await expect(verifyPreprod(w.state, w.deps)).rejects.toThrow(
        new PreprodNotValidated("the preprod validation record is not JSON"),
      );
      const nulled = await withStored("null");
      await expect(verifyPreprod(nulled.state, nulled.deps)).rejects.toThrow(PreprodNotValidated);
    });

    it("refuses a record written for another version", async () => {
      const probe = await world();
      const w = await withStored({ ...good(probe), version: "0000000" });
      await expect(verifyPreprod(w.state, w.deps)).rejects.toThrow(/is for hello-service 0000000/);
    });
  });
});
