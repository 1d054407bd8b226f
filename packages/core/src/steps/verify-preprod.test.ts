import { describe, expect, it } from "vitest";
import { ArtifactChecksumMismatch, ArtifactNotFound, PreprodNotValidated } from "../errors.ts";
import { validationKey } from "../state.ts";
import { PREPROD_BUCKET, testPlan, testRequest } from "../testing/fixtures.ts";
import { MemoryAlarms, MemoryArtifacts, MemoryFunctions } from "../testing/memory-world.ts";
import { rejectionOf } from "../testing/rejection.ts";
import {
  MAX_VALIDATION_RECORD_BYTES,
  parseValidationRecord,
  type ValidationRecord,
  verifyPreprod,
} from "./verify-preprod.ts";

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
      bucket: PREPROD_BUCKET,
      key: KEY,
      sha256: w.sha256,
      codeSha256: w.sha256,
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

  it("throws ArtifactChecksumMismatch when the store recorded no SHA-256 for the object", async () => {
    const w = await world();
    // S3 keeps no full-object SHA-256 for some multipart uploads: nothing to compare is no match.
    const head = w.artifacts.head.bind(w.artifacts);
    w.artifacts.head = async (ref) => {
      const found = await head(ref);
      if (!found) return found;
      const { sha256: _none, ...rest } = found;
      return rest;
    };
    await expect(verifyPreprod(w.state, w.deps)).rejects.toThrow(
      new ArtifactChecksumMismatch(
        `s3://${PREPROD_BUCKET}/${KEY} has SHA-256 (none recorded), the request says ${w.sha256}`,
      ),
    );
  });

  it("passes on a failure to read the validation record rather than calling it invalid", async () => {
    const w = await world();
    const denied = Object.assign(new Error("Access Denied"), { name: "AccessDenied" });
    w.artifacts.readJson = () => Promise.reject(denied);
    expect(await rejectionOf(verifyPreprod(w.state, w.deps))).toBe(denied);
  });

  it("throws PreprodNotValidated when there is no validation record for the version", async () => {
    const w = await world({ validate: false });
    await expect(verifyPreprod(w.state, w.deps)).rejects.toThrow(PreprodNotValidated);
    await expect(verifyPreprod(w.state, w.deps)).rejects.toThrow(
      new PreprodNotValidated(
        `no preprod validation record for hello-service ${w.state.request.version}: run the ` +
          "preprod tests, then `gantry artifact validate`",
      ),
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

  it("throws PreprodNotValidated when the version preprod serves cannot be read", async () => {
    const w = await world();
    w.functions.getVersion = async () => undefined;
    await expect(verifyPreprod(w.state, w.deps)).rejects.toThrow(
      new PreprodNotValidated(
        `preprod hello-preprod:live runs version 2 with code (unknown), not ${w.sha256}`,
      ),
    );
  });

  describe("with two preprod alarms", () => {
    const ALARMS = ["hello-preprod-errors", "hello-preprod-latency"];
    async function twoAlarms() {
      const w = await world();
      const preprod = w.state.plan.preprod;
      if (!preprod) throw new Error("prod verifies preprod");
      const plan = { ...w.state.plan, preprod: { ...preprod, alarms: ALARMS } };
      return { ...w, state: { ...w.state, plan } };
    }

    it.each<[string, string[], string]>([
      ["some", ["hello-preprod-errors"], "hello-preprod-latency"],
      ["all", [], "hello-preprod-errors, hello-preprod-latency"],
    ])("names the missing ones when %s are missing", async (_which, present, named) => {
      const w = await twoAlarms();
      w.alarms.states.clear();
      for (const name of present) w.alarms.set(name, "OK");
      await expect(verifyPreprod(w.state, w.deps)).rejects.toThrow(
        new PreprodNotValidated(`preprod alarms not found: ${named}`),
      );
    });

    it.each<[string, string[], string]>([
      ["one", ["hello-preprod-latency"], "hello-preprod-latency"],
      ["both", ALARMS, "hello-preprod-errors, hello-preprod-latency"],
    ])("names the alarms in ALARM when %s fire", async (_which, firing, named) => {
      const w = await twoAlarms();
      for (const name of ALARMS) w.alarms.set(name, firing.includes(name) ? "ALARM" : "OK");
      await expect(verifyPreprod(w.state, w.deps)).rejects.toThrow(
        new PreprodNotValidated(`preprod alarm in ALARM: ${named}`),
      );
    });

    it("passes when both exist and neither fires", async () => {
      const w = await twoAlarms();
      w.alarms.set("hello-preprod-latency", "OK");
      expect(await verifyPreprod(w.state, w.deps)).toMatchObject({
        alarms: ALARMS.map((name) => expect.objectContaining({ name, state: "OK" })),
      });
    });
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

    it.each([
      ["another version", { version: "0000000" }, "hello-service 0000000"],
      ["another service", { service: "billing" }, `billing ${testRequest().version}`],
    ])("refuses a record written for %s", async (_name, change, written) => {
      const probe = await world();
      const w = await withStored({ ...good(probe), ...change });
      const key = validationKey("hello-service", w.state.request.version);
      await expect(verifyPreprod(w.state, w.deps)).rejects.toThrow(
        new PreprodNotValidated(`the preprod validation record at ${key} is for ${written}`),
      );
    });

    it.each<[string, (g: Record<string, unknown>) => unknown, string]>([
      ["JSON null", () => null, "(record): must be object"],
      [
        "a number where text belongs",
        (g) => ({ ...g, validatedAt: 5 }),
        "validatedAt: must be string",
      ],
      [
        "two extra fields",
        (g) => ({ ...g, approve: "https://evil.example", reject: "x" }),
        "approve, reject: not a known field",
      ],
      [
        "two bad fields",
        (g) => ({ ...g, service: "Hello", version: "HEAD" }),
        "service: must be a service name; version: must be a git commit SHA",
      ],
    ])("says exactly what is wrong with %s", async (_name, make, problems) => {
      const probe = await world();
      const w = await withStored(make(good(probe)));
      await expect(verifyPreprod(w.state, w.deps)).rejects.toThrow(
        new PreprodNotValidated(`the preprod validation record is malformed (${problems})`),
      );
    });

    it.each([
      [MAX_VALIDATION_RECORD_BYTES, "malformed (padding: not a known field)"],
      [MAX_VALIDATION_RECORD_BYTES + 1, `${MAX_VALIDATION_RECORD_BYTES + 1} bytes; at most 2048`],
    ])("reads a record of %i bytes only when within the limit", async (bytes, problem) => {
      const probe = await world();
      const base = JSON.stringify({ ...good(probe), padding: "" }).length;
      const w = await withStored({ ...good(probe), padding: "x".repeat(bytes - base) });
      const error = await rejectionOf(verifyPreprod(w.state, w.deps));
      expect(error).toBeInstanceOf(PreprodNotValidated);
      expect(error.message).toContain(problem);
    });

    describe("holds each field to its exact shape", () => {
      const record: ValidationRecord = {
        service: "hello-service",
        version: testRequest().version,
        sha256: "a".repeat(64),
        validatedAt: "2026-11-01T11:00:00.000Z",
        validatedBy: "ci-bot",
      };
      const SERVICE = "service: must be a service name";
      const VERSION = "version: must be a git commit SHA";
      const SHA = "sha256: must be a SHA-256 digest";
      const ISO = "validatedAt: must be an ISO 8601 time";
      const BOTH = `${ISO}; validatedAt: must be a real time`;

      it.each<[keyof ValidationRecord, string]>([
        ["service", "a"],
        ["service", `a${"0-".repeat(19)}9`],
        ["version", "0123456"],
        ["version", "f".repeat(40)],
        ["sha256", "0123456789abcdef".repeat(4)],
        ["validatedAt", "2026-11-01T11:00:00Z"],
        ["validatedAt", "2026-11-01T11:00:00.5+02:00"],
        ["validatedAt", "2026-11-01T11:00:00.123456789-05:30"],
      ])("accepts %s %j", (field, value) => {
        expect(parseValidationRecord({ ...record, [field]: value })).toEqual({
          ...record,
          [field]: value,
        });
      });

      it.each<[keyof ValidationRecord, string, string]>([
        ["service", "", SERVICE],
        ["service", "a".repeat(41), SERVICE],
        ["service", "9lives", SERVICE],
        ["service", "Hello", SERVICE],
        ["service", "hello-service!", SERVICE],
        ["version", "012345", VERSION],
        ["version", "f".repeat(41), VERSION],
        ["version", "g0123456", VERSION],
        ["version", "0123456g", VERSION],
        ["version", "ABCDEF0", VERSION],
        ["sha256", "a".repeat(63), SHA],
        ["sha256", "a".repeat(65), SHA],
        ["sha256", `g${"a".repeat(64)}`, SHA],
        ["sha256", `${"a".repeat(64)}g`, SHA],
        ["sha256", "A".repeat(64), SHA],
        // Times Date.parse would take, but not in the one format the record is written in.
        ["validatedAt", "2026-11-01T11:00:00", ISO],
        ["validatedAt", "2026-11-01 11:00:00Z", ISO],
        ["validatedAt", "2026-11-01T11:00:00+0200", ISO],
        ["validatedAt", "2026-11-01T11:00:00.1234567890Z", ISO],
        ["validatedAt", "x2026-11-01T11:00:00Z", BOTH],
        ["validatedAt", "2026-11-01T11:00:00Zx", BOTH],
        ["validatedAt", "26-11-01T11:00:00Z", BOTH],
        ["validatedAt", "02026-11-01T11:00:00Z", BOTH],
        ["validatedAt", "2026-1-01T11:00:00Z", BOTH],
        ["validatedAt", "2026-11-1T11:00:00Z", BOTH],
        ["validatedAt", "2026-11-01T1:00:00Z", BOTH],
        ["validatedAt", "2026-11-01T11:0:00Z", BOTH],
        ["validatedAt", "2026-11-01T11:00:0Z", BOTH],
        ["validatedAt", "2026-11-01T11:00:00.Z", BOTH],
        ["validatedAt", "2026-11-01T11:00:00+2:00", BOTH],
        ["validatedAt", "2026-11-01T11:00:00+02:0", BOTH],
        ["validatedAt", "2026-11-01T11:00:00*02:00", BOTH],
        ["validatedAt", "2026-11-01T11:00:00+02:00Z", BOTH],
        // The right shape, but no such day.
        ["validatedAt", "2026-13-01T11:00:00Z", "validatedAt: must be a real time"],
      ])("refuses %s %j", (field, value, problem) => {
        expect(() => parseValidationRecord({ ...record, [field]: value })).toThrow(
          new PreprodNotValidated(`the preprod validation record is malformed (${problem})`),
        );
      });
    });

    it("refuses a value it cannot measure as JSON (a cycle) as oversized", () => {
      const cyclic: Record<string, unknown> = { service: "hello-service" };
      cyclic.self = cyclic;
      expect(() => parseValidationRecord(cyclic)).toThrow(
        new PreprodNotValidated(
          "the preprod validation record is Infinity bytes; at most 2048 are read",
        ),
      );
    });
  });
});
