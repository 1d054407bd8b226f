/**
 * Issue 19: the local world's durable files survive torn writes, and damage is reported, never
 * felt. Each test damages a file the way a crash or a bad disk would (truncated, garbled, or
 * valid JSON of the wrong shape) and checks that the file is moved to `<home>/quarantine/`,
 * named in the report, and that everything else keeps working.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readLock, recordKeys, rollback } from "@gantry/core";
import { fixedClock, testPlan, testRegistry } from "@gantry/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { handleS3Request } from "../control-plane/s3-http.ts";
import type { LocalControlPlane } from "../local-control-plane.ts";
import { Quarantine } from "../storage/durable-file.ts";
import { ensureOperatorSecret } from "../web/operator-secret.ts";
import { worldApiRoute } from "../web/world-api.ts";
import { LocalBuckets } from "./buckets.ts";
import { LocalFunctions } from "./functions.ts";
import { LocalWorld } from "./local-world.ts";
import { Outbox } from "./outbox.ts";
import { createZip } from "./zip.ts";

const HELLO = createZip({
  "index.mjs": 'export const handler = async () => ({ statusCode: 200, body: "hello" });\n',
});
const registry = testRegistry();
const PROD_FUNCTION = registry.services["hello-service"]?.stages.prod.functionName as string;

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function tempHome(): string {
  const home = mkdtempSync(join(tmpdir(), "gantry-damage-"));
  cleanup.push(() => rmSync(home, { recursive: true, force: true }));
  return home;
}

function quarantineOf(home: string) {
  const lines: string[] = [];
  return { quarantine: new Quarantine(home, (line) => lines.push(line)), lines };
}

async function openWorld(home: string, quarantine: Quarantine) {
  const world = await LocalWorld.open({
    home,
    registry,
    timeScale: 0.01,
    approvalBaseUrl: "http://127.0.0.1:1",
    trafficPerSecond: 0,
    quarantine,
  });
  cleanup.push(() => world.close());
  return world;
}

const TORN = '{"format":1,"name":"hello-prod","handler":"index.han';

describe("a damaged function.json", () => {
  it("is quarantined and named: operations fail with FunctionDamaged, never a bare SyntaxError", async () => {
    const home = tempHome();
    const { quarantine, lines } = quarantineOf(home);
    const functions = new LocalFunctions({
      dir: join(home, "functions"),
      readObject: async () => undefined,
      quarantine,
    });
    cleanup.push(() => functions.close());
    await functions.createFunction(PROD_FUNCTION, "live", HELLO);
    const file = join(home, "functions", PROD_FUNCTION, "function.json");
    writeFileSync(file, TORN);

    const damaged = {
      name: "FunctionDamaged",
      message: expect.stringMatching(
        /hello-prod.*functions\/hello-prod\/function\.json.*quarantine\/.*docs\/operations\.md/s,
      ),
    };
    await expect(functions.getAlias(PROD_FUNCTION, "live")).rejects.toMatchObject(damaged);
    // The file was moved aside once; later calls keep failing the same way (not "does not exist").
    await expect(
      functions.updateAlias(PROD_FUNCTION, "live", { version: "1", weights: {} }),
    ).rejects.toMatchObject(damaged);
    await expect(functions.invoke(PROD_FUNCTION, "live", {})).rejects.toMatchObject(damaged);
    expect(existsSync(file)).toBe(false);
    expect(quarantine.files).toHaveLength(1);
    expect(quarantine.files[0]).toMatchObject({ file: `functions/${PROD_FUNCTION}/function.json` });
    expect(readFileSync(join(home, quarantine.files[0]?.quarantinedAs ?? ""), "utf8")).toBe(TORN);
    expect(lines.join("\n")).toContain("function.json");
    // The console's list of functions leaves it out instead of failing.
    expect(await functions.listFunctions()).toEqual([]);
  });

  it("turns a rollback into RollbackFailed naming the damaged file, not a SyntaxError", async () => {
    const home = tempHome();
    const functions = new LocalFunctions({
      dir: join(home, "functions"),
      readObject: async () => undefined,
      quarantine: quarantineOf(home).quarantine,
    });
    cleanup.push(() => functions.close());
    await functions.createFunction(PROD_FUNCTION, "live", HELLO);
    writeFileSync(join(home, "functions", PROD_FUNCTION, "function.json"), TORN);
    const failure = await rollback({ plan: testPlan() }, { functions, clock: fixedClock() }).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(failure?.name).toBe("RollbackFailed");
    expect(failure?.message).toMatch(/FunctionDamaged: .*function\.json.*quarantine\//);
    expect(failure?.message).not.toContain("SyntaxError");
  });

  it("a function.json of the wrong shape is damage too", async () => {
    const home = tempHome();
    const { quarantine } = quarantineOf(home);
    const functions = new LocalFunctions({
      dir: join(home, "functions"),
      readObject: async () => undefined,
      quarantine,
    });
    cleanup.push(() => functions.close());
    await functions.createFunction(PROD_FUNCTION, "live", HELLO);
    writeFileSync(join(home, "functions", PROD_FUNCTION, "function.json"), '{"format":1}');
    await expect(functions.describe(PROD_FUNCTION)).rejects.toMatchObject({
      name: "FunctionDamaged",
    });
  });

  it("is written sealed, and one written before checksums is still read", async () => {
    const home = tempHome();
    const functions = new LocalFunctions({
      dir: join(home, "functions"),
      readObject: async () => undefined,
    });
    cleanup.push(() => functions.close());
    const created = await functions.createFunction(PROD_FUNCTION, "live", HELLO);
    const file = join(home, "functions", PROD_FUNCTION, "function.json");
    const sealed = JSON.parse(readFileSync(file, "utf8"));
    expect(sealed.sha256).toMatch(/^[0-9a-f]{64}$/);
    writeFileSync(file, JSON.stringify(sealed.value, null, 2));
    expect(await functions.describe(PROD_FUNCTION)).toEqual(created);
  });

  it("does not hang GET /api/world: the answer names the damaged file", async () => {
    const home = tempHome();
    const { quarantine } = quarantineOf(home);
    const world = await openWorld(home, quarantine);
    await world.functions.createFunction(PROD_FUNCTION, "live", HELLO);
    writeFileSync(join(home, "functions", PROD_FUNCTION, "function.json"), TORN);
    const endpoint = await serveRoute({ world, quarantine } as unknown as LocalControlPlane);

    const response = await fetch(`${endpoint}/api/world`, { signal: AbortSignal.timeout(3000) });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      services: Record<string, Record<string, { damaged?: string }>>;
      damaged: { file: string; quarantinedAs: string }[];
    };
    expect(body.services["hello-service"]?.prod?.damaged).toMatch(/function\.json/);
    expect(body.damaged).toEqual([
      expect.objectContaining({
        file: `functions/${PROD_FUNCTION}/function.json`,
        quarantinedAs: expect.stringMatching(/^quarantine\//),
      }),
    ]);
  });

  it("found at start is quarantined and reported before anything uses it", async () => {
    const home = tempHome();
    const first = await openWorld(home, quarantineOf(home).quarantine);
    await first.functions.createFunction(PROD_FUNCTION, "live", HELLO);
    await first.close();
    writeFileSync(join(home, "functions", PROD_FUNCTION, "function.json"), "");

    const { quarantine } = quarantineOf(home);
    const world = await openWorld(home, quarantine);
    expect(quarantine.files.map((f) => f.file)).toEqual([
      `functions/${PROD_FUNCTION}/function.json`,
    ]);
    // Gone, so the control plane's start recreates it from its initial code (local-control-plane.ts).
    expect(world.functions.hasFunction(PROD_FUNCTION)).toBe(false);
    await world.functions.createFunction(PROD_FUNCTION, "live", HELLO);
    expect(await world.functions.getAlias(PROD_FUNCTION, "live")).toMatchObject({ version: "1" });
  });
});

describe("a damaged object metadata file", () => {
  const BUCKET = "artifacts-preprod";

  async function bucketsWithDamage(damage: string) {
    const home = tempHome();
    const { quarantine } = quarantineOf(home);
    const buckets = new LocalBuckets(join(home, "buckets"), { quarantine });
    await buckets.createBucket(BUCKET);
    await buckets.put({ bucket: BUCKET, key: "a/good.zip" }, Buffer.from("good"));
    await buckets.put({ bucket: BUCKET, key: "a/bad.zip" }, Buffer.from("bad"));
    await buckets.put({ bucket: BUCKET, key: "b.zip" }, Buffer.from("also good"));
    writeFileSync(join(home, "buckets", BUCKET, "meta", "a", "bad.zip.json"), damage);
    return { home, buckets, quarantine };
  }

  for (const [what, damage] of [
    ["torn", '{"sha256":"ab'],
    ["of the wrong shape", "{}"],
  ] as const) {
    it(`(${what}) is quarantined with its bytes; the listing and the other objects keep working`, async () => {
      const { home, buckets, quarantine } = await bucketsWithDamage(damage);
      const endpoint = await serveS3(buckets, BUCKET);
      const list = await fetch(`${endpoint}/${BUCKET}?list-type=2`);
      expect(list.status).toBe(200);
      const keys = [...(await list.text()).matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]);
      expect(keys).toEqual(["a/good.zip", "b.zip"]);

      const get = await fetch(`${endpoint}/${BUCKET}/a/bad.zip`);
      expect(get.status).toBe(404);
      expect(await get.text()).toContain("<Code>NoSuchKey</Code>");
      expect((await buckets.get({ bucket: BUCKET, key: "a/good.zip" }))?.bytes.toString()).toBe(
        "good",
      );
      await new Promise((resolve) => setTimeout(resolve, 20)); // the bytes follow on the bucket's queue
      expect(quarantine.files.map((f) => f.file).sort()).toEqual([
        `buckets/${BUCKET}/meta/a/bad.zip.json`,
        `buckets/${BUCKET}/objects/a/bad.zip`,
      ]);
      for (const f of quarantine.files) expect(existsSync(join(home, f.quarantinedAs))).toBe(true);
      // The key can be written again.
      await buckets.put({ bucket: BUCKET, key: "a/bad.zip" }, Buffer.from("again"));
      expect((await buckets.get({ bucket: BUCKET, key: "a/bad.zip" }))?.bytes.toString()).toBe(
        "again",
      );
    });
  }

  it("is written sealed, and one written before checksums is still read", async () => {
    const home = tempHome();
    const buckets = new LocalBuckets(join(home, "buckets"));
    await buckets.createBucket(BUCKET);
    const meta = await buckets.put({ bucket: BUCKET, key: "k" }, Buffer.from("x"));
    const file = join(home, "buckets", BUCKET, "meta", "k.json");
    const sealed = JSON.parse(readFileSync(file, "utf8"));
    expect(sealed).toEqual({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/), value: meta });
    writeFileSync(file, JSON.stringify(meta));
    expect(await buckets.meta({ bucket: BUCKET, key: "k" })).toEqual(meta);
  });

  it("a damaged multipart upload record is quarantined; the upload is NoSuchUpload", async () => {
    const home = tempHome();
    const { quarantine } = quarantineOf(home);
    const buckets = new LocalBuckets(join(home, "buckets"), { quarantine });
    await buckets.createBucket(BUCKET);
    const ref = { bucket: BUCKET, key: "big.zip" };
    const upload = await buckets.uploads.create(ref);
    const record = join(home, "buckets", BUCKET, "uploads", upload.uploadId, "upload.json");
    expect(JSON.parse(readFileSync(record, "utf8")).sha256).toMatch(/^[0-9a-f]{64}$/);
    writeFileSync(record, "{");
    await expect(buckets.uploads.get(ref, upload.uploadId)).rejects.toMatchObject({
      name: "NoSuchUpload",
    });
    expect(quarantine.files.map((f) => f.file)).toEqual([
      `buckets/${BUCKET}/uploads/${upload.uploadId}`,
    ]);
    expect(await buckets.uploads.list(BUCKET)).toEqual([]);
  });
});

describe("a damaged signing key", () => {
  for (const name of ["signing-key.json", "decision-key.json"]) {
    it(`(${name}) is quarantined and replaced by a new key at start`, async () => {
      const home = tempHome();
      const first = await openWorld(home, quarantineOf(home).quarantine);
      const keys = name === "signing-key.json" ? first.linkKeys : first.decisionKeys;
      const before = await keys.signingKeys();
      await first.close();
      writeFileSync(join(home, name), '{"current":"abc');

      const { quarantine, lines } = quarantineOf(home);
      const world = await openWorld(home, quarantine);
      const after = await (name === "signing-key.json"
        ? world.linkKeys
        : world.decisionKeys
      ).signingKeys();
      expect(after.current.id).not.toBe(before.current.id);
      // Links and decisions sealed with the old key fail closed: it is not kept as "previous".
      expect(after.previous).toEqual([]);
      expect(quarantine.files.map((f) => f.file)).toEqual([name]);
      expect(lines.join("\n")).toContain(name);
    });
  }

  it("a key file written before checksums is still read", async () => {
    const home = tempHome();
    const secret = "s".repeat(43);
    writeFileSync(join(home, "signing-key.json"), JSON.stringify({ current: secret }));
    const world = await openWorld(home, quarantineOf(home).quarantine);
    expect((await world.linkKeys.signingKeys()).current.secret).toBe(secret);
  });
});

describe("other durable files", () => {
  it("a damaged operator secret is quarantined and replaced", () => {
    const home = tempHome();
    const first = ensureOperatorSecret(home);
    writeFileSync(join(home, "operator-secret"), "");
    const { quarantine } = quarantineOf(home);
    const second = ensureOperatorSecret(home, quarantine);
    expect(second).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(second).not.toBe(first);
    expect(quarantine.files.map((f) => f.file)).toEqual(["operator-secret"]);
    expect(ensureOperatorSecret(home, quarantine)).toBe(second);
  });

  it("a damaged outbox message is quarantined; the others are listed", async () => {
    const home = tempHome();
    const { quarantine } = quarantineOf(home);
    const outbox = new Outbox(join(home, "outbox"), undefined, quarantine);
    const message = { from: "a@x", to: ["b@x"], subject: "s", text: "t", html: "<p>t</p>" };
    await outbox.send(message);
    await outbox.send({ ...message, subject: "second" });
    const [newest, oldest] = outbox.list();
    writeFileSync(join(home, "outbox", `${oldest?.id}.json`), "{");
    expect(outbox.list().map((m) => m.subject)).toEqual([newest?.subject]);
    expect(quarantine.files.map((f) => f.file)).toEqual([`outbox/${oldest?.id}.json`]);
  });
});

describe("damage found at start", () => {
  it("object metadata and outbox messages are checked when the world opens, and reported", async () => {
    const home = tempHome();
    const first = await openWorld(home, quarantineOf(home).quarantine);
    await first.buckets.put({ bucket: "gantry-state-prod", key: "a b/c.json" }, Buffer.from("{}"));
    await first.outbox.send({ from: "a@x", to: ["b@x"], subject: "s", text: "t", html: "t" });
    const [message] = first.outbox.list();
    await first.close();
    writeFileSync(join(home, "buckets/gantry-state-prod/meta/a%20b/c.json.json"), "{");
    writeFileSync(join(home, "outbox", `${message?.id}.json`), "");

    const { quarantine, lines } = quarantineOf(home);
    await openWorld(home, quarantine);
    expect(quarantine.files.map((f) => f.file).sort()).toEqual([
      "buckets/gantry-state-prod/meta/a%20b/c.json.json",
      "buckets/gantry-state-prod/objects/a%20b/c.json",
      `outbox/${message?.id}.json`,
    ]);
    expect(lines.join("\n")).toContain("s3://gantry-state-prod/a b/c.json");
  });
});

describe("damaged bytes of a state-bucket record", () => {
  /** The faults suite's damage: the first half only, or 16 bytes garbled a third of the way in. */
  function damage(file: string, how: "truncated" | "garbled"): void {
    const bytes = readFileSync(file);
    if (how === "truncated") {
      writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
      return;
    }
    const out = Buffer.from(bytes);
    const from = Math.floor(out.length / 3);
    for (let i = from; i < Math.min(out.length, from + 16); i++) out[i] = (i * 131 + 7) & 0xff;
    writeFileSync(file, out);
  }

  const record = (fields: Record<string, unknown>) =>
    Buffer.from(JSON.stringify({ service: "hello-service", ...fields, padding: "x".repeat(80) }));
  const APPROVAL = "J9qN1B70AfsHc5-FzpwQBC94";
  const RECORDS = [
    {
      what: "a deployment record",
      bucket: "gantry-state-preprod",
      key: recordKeys.deployment("hello-service", "2026-11-30T17:00:00.000Z", "hello-v2-1"),
    },
    { what: "an approval record", bucket: "gantry-state-prod", key: recordKeys.approval(APPROVAL) },
    {
      what: "a task-token record",
      bucket: "gantry-state-prod",
      key: `approval-tokens/${APPROVAL}.json`,
    },
  ] as const;
  const LOCK = recordKeys.lock("hello-service");
  const LOCK_VALUE = {
    owner: "arn:aws:states:us-east-1:000000000000:execution:gantry-prod:hello-v2-1",
    service: "hello-service",
    version: "v2",
    acquiredAt: "2026-11-30T17:00:00.000Z",
  };
  const objectFile = (home: string, bucket: string, key: string) =>
    join(home, "buckets", bucket, "objects", ...key.split("/"));

  for (const how of ["truncated", "garbled"] as const) {
    for (const { what, bucket, key } of RECORDS) {
      it(`(${what}, ${how}) found at start is quarantined with its metadata, reported, and reads as NoSuchKey`, async () => {
        const home = tempHome();
        const first = await openWorld(home, quarantineOf(home).quarantine);
        await first.buckets.put({ bucket, key }, record({ kind: what }));
        await first.buckets.put({ bucket, key: "other/good.json" }, record({ kind: "good" }));
        await first.close();
        damage(objectFile(home, bucket, key), how);

        const { quarantine, lines } = quarantineOf(home);
        const world = await openWorld(home, quarantine);
        expect(quarantine.files.map((f) => f.file).sort()).toEqual([
          `buckets/${bucket}/meta/${key}.json`,
          `buckets/${bucket}/objects/${key}`,
        ]);
        for (const f of quarantine.files)
          expect(existsSync(join(home, f.quarantinedAs))).toBe(true);
        expect(lines.join("\n")).toContain(`s3://${bucket}/${key}`);
        expect(quarantine.files.map((f) => f.reason).join("\n")).toMatch(/SHA-256/);
        expect(await world.buckets.get({ bucket, key })).toBeUndefined();
        expect(await world.buckets.records(bucket).get(key)).toBeUndefined();
        const endpoint = await serveS3(world.buckets, bucket);
        const get = await fetch(`${endpoint}/${bucket}/${key}`);
        expect(get.status).toBe(404);
        expect(await get.text()).toContain("<Code>NoSuchKey</Code>");
        // Every other record still reads.
        expect(
          (await world.buckets.records(bucket).get<{ kind: string }>("other/good.json"))?.value,
        ).toMatchObject({ kind: "good" });
      });
    }

    it(`(a lock, ${how}) found at start is reported in place, never removed, and names gantry unlock`, async () => {
      const home = tempHome();
      const first = await openWorld(home, quarantineOf(home).quarantine);
      await first.buckets.put(
        { bucket: "gantry-state-prod", key: LOCK },
        Buffer.from(JSON.stringify(LOCK_VALUE)),
      );
      await first.close();
      const file = objectFile(home, "gantry-state-prod", LOCK);
      damage(file, how);
      const damaged = readFileSync(file);

      const { quarantine, lines } = quarantineOf(home);
      const world = await openWorld(home, quarantine);
      expect(quarantine.files).toEqual([
        expect.objectContaining({
          file: `buckets/gantry-state-prod/objects/${LOCK}`,
          quarantinedAs: expect.stringMatching(/^\(left in place/),
          reason: expect.stringContaining(
            "gantry unlock hello-service --stage prod --force-damaged --reason",
          ),
        }),
      ]);
      expect(quarantine.files[0]?.reason).toMatch(/LockDamaged.*docs\/operations\.md/s);
      expect(lines.join("\n")).toContain(`s3://gantry-state-prod/${LOCK}`);
      // Still there, byte for byte, with its metadata: a lock never silently disappears.
      expect(readFileSync(file)).toEqual(damaged);
      expect(existsSync(join(home, "buckets/gantry-state-prod/meta", `${LOCK}.json`))).toBe(true);
      expect((await world.buckets.get({ bucket: "gantry-state-prod", key: LOCK }))?.bytes).toEqual(
        damaged,
      );
      // The next deployment fails LockDamaged, as AcquireLock names it.
      await expect(
        readLock(world.buckets.records("gantry-state-prod"), LOCK, {
          service: "hello-service",
          stage: "prod",
        }),
      ).rejects.toMatchObject({ name: "LockDamaged" });
      // Reported once, not at every read.
      expect(quarantine.files).toHaveLength(1);
    });
  }

  it("found while running: a record is quarantined when read (NoSuchKey), a lock is reported once and kept", async () => {
    const home = tempHome();
    const { quarantine } = quarantineOf(home);
    const world = await openWorld(home, quarantine);
    const bucket = "gantry-state-prod";
    const key = recordKeys.approval(APPROVAL);
    await world.buckets.put({ bucket, key }, record({ kind: "approval" }));
    await world.buckets.put({ bucket, key: LOCK }, Buffer.from(JSON.stringify(LOCK_VALUE)));
    damage(objectFile(home, bucket, key), "garbled");
    damage(objectFile(home, bucket, LOCK), "truncated");

    expect(await world.buckets.records(bucket).get(key)).toBeUndefined();
    expect(quarantine.files.map((f) => f.file).sort()).toEqual([
      `buckets/${bucket}/meta/${key}.json`,
      `buckets/${bucket}/objects/${key}`,
    ]);
    const target = { service: "hello-service", stage: "prod" };
    await expect(readLock(world.buckets.records(bucket), LOCK, target)).rejects.toMatchObject({
      name: "LockDamaged",
    });
    await expect(readLock(world.buckets.records(bucket), LOCK, target)).rejects.toMatchObject({
      name: "LockDamaged",
    });
    expect(quarantine.files.filter((f) => f.file.endsWith(LOCK))).toEqual([
      expect.objectContaining({ quarantinedAs: expect.stringMatching(/^\(left in place/) }),
    ]);
    expect(existsSync(objectFile(home, bucket, LOCK))).toBe(true);
  });

  it("a lock whose garbled bytes still parse as a lock is still LockDamaged, never taken for a lock", async () => {
    const home = tempHome();
    const { quarantine } = quarantineOf(home);
    const world = await openWorld(home, quarantine);
    const bucket = "gantry-state-prod";
    await world.buckets.put({ bucket, key: LOCK }, Buffer.from(JSON.stringify(LOCK_VALUE)));
    // Same length, still JSON of the right shape: only the checksum tells.
    const file = objectFile(home, bucket, LOCK);
    writeFileSync(file, readFileSync(file, "utf8").replace("hello-v2-1", "hello-v2-9"));
    await expect(
      readLock(world.buckets.records(bucket), LOCK, { service: "hello-service", stage: "prod" }),
    ).rejects.toMatchObject({ name: "LockDamaged" });
    expect(quarantine.files).toHaveLength(1);
  });

  it("an object whose metadata records no SHA-256 (written by an older version) is not checked", async () => {
    const home = tempHome();
    const first = await openWorld(home, quarantineOf(home).quarantine);
    const bucket = "gantry-state-prod";
    const key = recordKeys.approval(APPROVAL);
    const meta = await first.buckets.put({ bucket, key }, record({ kind: "approval" }));
    await first.close();
    writeFileSync(
      join(home, "buckets", bucket, "meta", `${key}.json`),
      JSON.stringify({ ...meta, sha256: "" }),
    );
    damage(objectFile(home, bucket, key), "garbled");
    const { quarantine } = quarantineOf(home);
    const world = await openWorld(home, quarantine);
    expect(quarantine.files).toEqual([]);
    expect(await world.buckets.get({ bucket, key })).toBeDefined();
  });

  it("the artifact buckets' objects are not hashed at start (large; checked by their readers)", async () => {
    const home = tempHome();
    const first = await openWorld(home, quarantineOf(home).quarantine);
    const bucket = registry.stages.preprod.artifactBucket;
    await first.buckets.put({ bucket, key: "hello/v2.zip" }, HELLO);
    await first.close();
    damage(objectFile(home, bucket, "hello/v2.zip"), "garbled");
    const { quarantine } = quarantineOf(home);
    await openWorld(home, quarantine);
    expect(quarantine.files).toEqual([]);
  });
});

describe("temporary files of torn writes", () => {
  it("are swept when the world opens; real objects named like them are not", async () => {
    const home = tempHome();
    const first = await openWorld(home, quarantineOf(home).quarantine);
    await first.functions.createFunction(PROD_FUNCTION, "live", HELLO);
    await first.buckets.put(
      { bucket: "gantry-state-preprod", key: "x.deadbeef00.tmp" },
      Buffer.from("a real object"),
    );
    await first.close();
    const leftovers = [
      "buckets/gantry-state-preprod/tmp/0123456789abcdef01234567.part",
      "buckets/gantry-state-preprod/meta/k.json.0123456789ab.tmp",
      "buckets/gantry-state-preprod/objects/k.deadbeef.tmp",
      `functions/${PROD_FUNCTION}/function.json.1b4e28ba-2fa1-11d2-883f-0016d3cca427.tmp`,
      `functions/${PROD_FUNCTION}/code/.staging-1b4e28ba-2fa1-11d2-883f-0016d3cca427/index.mjs`,
      "signing-key.json.tmp",
      "decision-key.json.0123456789ab.tmp",
      "outbox/20261130000000000-deadbeef.json.0123456789ab.tmp",
    ];
    for (const path of leftovers) {
      mkdirSync(join(home, path, ".."), { recursive: true });
      writeFileSync(join(home, path), "torn");
    }

    const world = await openWorld(home, quarantineOf(home).quarantine);
    for (const path of leftovers) expect(existsSync(join(home, path)), path).toBe(false);
    expect(readdirSync(join(home, "functions", PROD_FUNCTION, "code")).sort()).toHaveLength(2);
    expect(
      (
        await world.buckets.get({ bucket: "gantry-state-preprod", key: "x.deadbeef00.tmp" })
      )?.bytes.toString(),
    ).toBe("a real object");
  });
});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function serveRoute(local: LocalControlPlane): Promise<string> {
  return listen(
    createServer((req, res) => {
      void worldApiRoute(req, res, local).then((handled) => {
        if (!handled) res.writeHead(404).end();
      });
    }),
  );
}

function serveS3(buckets: LocalBuckets, bucket: string): Promise<string> {
  return listen(
    createServer((req, res) => {
      void handleS3Request(buckets, new Set([bucket]), req, res).then((handled) => {
        if (!handled) res.writeHead(404).end();
      });
    }),
  );
}
