import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  CHECKSUM_ALGORITHMS,
  checksumAlgorithmOf,
  checksumOf,
  compositeChecksum,
  decodeChecksum,
  multipartEtag,
  ObjectDigests,
  supportsChecksumType,
} from "./checksums.ts";

const CHECK = Buffer.from("123456789");

/** The "check" values of each CRC's catalogue entry (the CRC of "123456789"), and SHA digests. */
const VECTORS = {
  CRC32: "cbf43926", // CRC-32/ISO-HDLC
  CRC32C: "e3069283", // CRC-32/ISCSI
  CRC64NVME: "ae8b14860a799888", // CRC-64/NVME
  SHA1: "f7c3bc1d808e04732adf679965ccc34ca7ae3441",
  SHA256: "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225",
} as const;

describe("checksums", () => {
  it.each(CHECKSUM_ALGORITHMS)(
    "%s of the check string is the catalogue's value",
    async (algorithm) => {
      const base64 = await checksumOf(algorithm, CHECK);
      expect(Buffer.from(base64, "base64").toString("hex")).toBe(VECTORS[algorithm]);
    },
  );

  it("computes the values the AWS SDK sends for 'hello world'", async () => {
    // From the requests the SDKs sent in probes (x-amz-checksum-crc32 / -crc64nvme headers).
    expect(await checksumOf("CRC32", Buffer.from("hello world"))).toBe("DUoRhQ==");
    expect(await checksumOf("CRC64NVME", Buffer.from("hello world"))).toBe("jSnVw/bqjr4=");
  });

  it("gives the same digest however the bytes are split", async () => {
    const bytes = Buffer.alloc(100_003, 7);
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      const whole = new ObjectDigests([algorithm]);
      whole.update(bytes);
      const split = new ObjectDigests([algorithm]);
      for (let i = 0; i < bytes.length; i += 4096) split.update(bytes.subarray(i, i + 4096));
      expect((await split.finish()).checksums[algorithm]).toBe(
        (await whole.finish()).checksums[algorithm],
      );
    }
  });

  it("hashes MD5 and SHA-256 always, and the size", async () => {
    const digests = new ObjectDigests(["CRC32"]);
    digests.update(Buffer.from("hello "));
    digests.update(Buffer.from("world"));
    const done = await digests.finish();
    expect(done.size).toBe(11);
    expect(done.md5Hex).toBe(createHash("md5").update("hello world").digest("hex"));
    expect(done.sha256Hex).toBe(createHash("sha256").update("hello world").digest("hex"));
    expect(Object.keys(done.checksums).sort()).toEqual(["CRC32", "SHA256"]);
  });

  it("accepts only canonical base64 of the digest's length", () => {
    expect(decodeChecksum("CRC32", "DUoRhQ==")?.length).toBe(4);
    expect(decodeChecksum("CRC32", "DUoRhQ")).toBeUndefined();
    expect(decodeChecksum("CRC32", "DUoRhQ==-2")).toBeUndefined();
    expect(decodeChecksum("CRC32", "jSnVw/bqjr4=")).toBeUndefined();
    expect(decodeChecksum("SHA256", "not base64 at all, not at all, not at all!!")).toBeUndefined();
  });

  it("names algorithms the way headers and SDKs spell them", () => {
    expect(checksumAlgorithmOf("crc64nvme")).toBe("CRC64NVME");
    expect(checksumAlgorithmOf("x-amz-checksum-sha1")).toBe("SHA1");
    expect(checksumAlgorithmOf("MD5")).toBeUndefined();
  });

  it("knows which checksum types S3 allows for each algorithm", () => {
    expect(supportsChecksumType("CRC64NVME", "COMPOSITE")).toBe(false);
    expect(supportsChecksumType("SHA256", "FULL_OBJECT")).toBe(false);
    expect(supportsChecksumType("CRC32", "FULL_OBJECT")).toBe(true);
    expect(supportsChecksumType("CRC32C", "COMPOSITE")).toBe(true);
  });
});

describe("multipart math", () => {
  const parts = [Buffer.from("part one"), Buffer.from("part two"), Buffer.from("3")];

  it("makes the ETag the MD5 of the parts' binary MD5s, with the part count", () => {
    const md5s = parts.map((p) => createHash("md5").update(p).digest());
    const expected = createHash("md5").update(Buffer.concat(md5s)).digest("hex");
    expect(multipartEtag(md5s.map((m) => m.toString("hex")))).toBe(`"${expected}-3"`);
  });

  it("makes a composite checksum the checksum of the parts' binary checksums, with the count", async () => {
    for (const algorithm of ["CRC32", "CRC32C", "SHA1", "SHA256"] as const) {
      const partSums = await Promise.all(parts.map((p) => checksumOf(algorithm, p)));
      const binary = Buffer.concat(partSums.map((s) => Buffer.from(s, "base64")));
      expect(await compositeChecksum(algorithm, partSums)).toBe(
        `${await checksumOf(algorithm, binary)}-3`,
      );
    }
  });

  it("matches a composite SHA-256 computed independently", async () => {
    const partSums = parts.map((p) => createHash("sha256").update(p).digest());
    const expected = createHash("sha256").update(Buffer.concat(partSums)).digest("base64");
    expect(
      await compositeChecksum(
        "SHA256",
        partSums.map((s) => s.toString("base64")),
      ),
    ).toBe(`${expected}-3`);
  });
});
