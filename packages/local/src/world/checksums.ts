import { createHash, type Hash } from "node:crypto";
import { crc32 } from "node:zlib";
import { Crc32c, Crc64Nvme } from "@aws-sdk/checksums/crc";

/**
 * The checksums S3 keeps with an object, computed the way S3 computes them:
 *
 * - the five algorithms of S3's flexible checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256),
 *   as base64 of the big-endian digest;
 * - the multipart forms: a composite checksum is the algorithm over the concatenated binary
 *   part checksums, then `-<number of parts>`; a multipart ETag is the MD5 of the concatenated
 *   binary part MD5s, as hex, then `-<number of parts>`.
 *
 * CRC32 is Node's own (zlib); CRC32C and CRC64NVME are the AWS SDK's implementations
 * (`@aws-sdk/checksums`, what the SDK computes them with on the client side); SHA-1, SHA-256 and
 * MD5 are node:crypto.
 */
export const CHECKSUM_ALGORITHMS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** How an object's checksum covers it (S3's `x-amz-checksum-type`). */
export type ChecksumType = "FULL_OBJECT" | "COMPOSITE";

/** The checksum S3 keeps with an object: its algorithm, base64 value (with `-n` if composite). */
export interface StoredChecksum {
  readonly algorithm: ChecksumAlgorithm;
  readonly value: string;
  readonly type: ChecksumType;
}

const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = {
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
};

/** The algorithm named by `crc32`, `CRC32`, `x-amz-checksum-crc32`..., or undefined. */
export function checksumAlgorithmOf(name: string): ChecksumAlgorithm | undefined {
  const upper = name
    .trim()
    .toUpperCase()
    .replace(/^X-AMZ-CHECKSUM-/, "");
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(upper)
    ? (upper as ChecksumAlgorithm)
    : undefined;
}

/** The header (and trailer) that carries an algorithm's checksum. */
export function checksumHeader(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`;
}

/** The digest a base64 checksum of this algorithm stands for, or undefined if it is not one. */
export function decodeChecksum(algorithm: ChecksumAlgorithm, base64: string): Buffer | undefined {
  const bytes = DIGEST_BYTES[algorithm];
  // Canonical base64 of exactly the digest's length (S3 refuses anything else).
  const length = Math.ceil(bytes / 3) * 4;
  if (base64.length !== length || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const decoded = Buffer.from(base64, "base64");
  if (decoded.length !== bytes || decoded.toString("base64") !== base64) return undefined;
  return decoded;
}

/** An incremental digest: update with the bytes as they stream, then read it once. */
export interface Digest {
  update(data: Uint8Array): void;
  /** The digest's bytes (big-endian for the CRCs). */
  digest(): Promise<Buffer>;
}

class Crc32Digest implements Digest {
  #value = 0;
  update(data: Uint8Array): void {
    this.#value = crc32(data, this.#value);
  }
  async digest(): Promise<Buffer> {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(this.#value >>> 0);
    return out;
  }
}

class SdkDigest implements Digest {
  readonly #checksum: { update(data: Uint8Array): void; digest(): Promise<Uint8Array> };
  constructor(checksum: { update(data: Uint8Array): void; digest(): Promise<Uint8Array> }) {
    this.#checksum = checksum;
  }
  update(data: Uint8Array): void {
    this.#checksum.update(data);
  }
  async digest(): Promise<Buffer> {
    return Buffer.from(await this.#checksum.digest());
  }
}

class HashDigest implements Digest {
  readonly #hash: Hash;
  constructor(algorithm: "md5" | "sha1" | "sha256") {
    this.#hash = createHash(algorithm);
  }
  update(data: Uint8Array): void {
    this.#hash.update(data);
  }
  async digest(): Promise<Buffer> {
    return this.#hash.digest();
  }
}

export function createDigest(algorithm: ChecksumAlgorithm | "MD5"): Digest {
  switch (algorithm) {
    case "CRC32":
      return new Crc32Digest();
    case "CRC32C":
      return new SdkDigest(new Crc32c());
    case "CRC64NVME":
      return new SdkDigest(new Crc64Nvme());
    case "SHA1":
      return new HashDigest("sha1");
    case "SHA256":
      return new HashDigest("sha256");
    case "MD5":
      return new HashDigest("md5");
  }
}

/** One algorithm's checksum of some bytes, as base64. */
export async function checksumOf(algorithm: ChecksumAlgorithm, data: Uint8Array): Promise<string> {
  const digest = createDigest(algorithm);
  digest.update(data);
  return (await digest.digest()).toString("base64");
}

/**
 * S3's composite checksum of a multipart object: the algorithm over the concatenated binary
 * checksums of the parts, base64, then `-<parts>`.
 */
export async function compositeChecksum(
  algorithm: ChecksumAlgorithm,
  partChecksums: readonly string[],
): Promise<string> {
  const digest = createDigest(algorithm);
  for (const part of partChecksums) {
    const bytes = decodeChecksum(algorithm, part);
    if (!bytes) throw new TypeError(`${part} is not a ${algorithm} checksum`);
    digest.update(bytes);
  }
  return `${(await digest.digest()).toString("base64")}-${partChecksums.length}`;
}

/** S3's ETag of a multipart object: MD5 of the concatenated binary part MD5s, hex, `-<parts>`, quoted. */
export function multipartEtag(partMd5Hex: readonly string[]): string {
  const md5 = createHash("md5");
  for (const part of partMd5Hex) md5.update(Buffer.from(part, "hex"));
  return `"${md5.digest("hex")}-${partMd5Hex.length}"`;
}

/** Whether S3 accepts this checksum type for this algorithm in a multipart upload. */
export function supportsChecksumType(algorithm: ChecksumAlgorithm, type: ChecksumType): boolean {
  if (type === "COMPOSITE") return algorithm !== "CRC64NVME";
  return algorithm === "CRC32" || algorithm === "CRC32C" || algorithm === "CRC64NVME";
}

/**
 * The digests one pass over an object's bytes yields: MD5 (its ETag), SHA-256 (what Gantry
 * keeps for every object) and, when asked, one more algorithm (its S3 checksum).
 */
export class ObjectDigests {
  readonly #md5 = createDigest("MD5");
  readonly #sha256 = createDigest("SHA256");
  readonly #extra = new Map<ChecksumAlgorithm, Digest>();
  #size = 0;

  constructor(algorithms: Iterable<ChecksumAlgorithm> = []) {
    for (const algorithm of algorithms) {
      if (algorithm !== "SHA256") this.#extra.set(algorithm, createDigest(algorithm));
    }
  }

  get size(): number {
    return this.#size;
  }

  update(data: Uint8Array): void {
    this.#size += data.length;
    this.#md5.update(data);
    this.#sha256.update(data);
    for (const digest of this.#extra.values()) digest.update(data);
  }

  async finish(): Promise<FinishedDigests> {
    const md5 = await this.#md5.digest();
    const sha256 = await this.#sha256.digest();
    const checksums: Partial<Record<ChecksumAlgorithm, string>> = {
      SHA256: sha256.toString("base64"),
    };
    for (const [algorithm, digest] of this.#extra)
      checksums[algorithm] = (await digest.digest()).toString("base64");
    return {
      size: this.#size,
      md5Hex: md5.toString("hex"),
      md5Base64: md5.toString("base64"),
      sha256Hex: sha256.toString("hex"),
      checksums,
    };
  }
}

export interface FinishedDigests {
  readonly size: number;
  readonly md5Hex: string;
  readonly md5Base64: string;
  readonly sha256Hex: string;
  /** Base64 checksums by algorithm: SHA256 always, and each algorithm asked for. */
  readonly checksums: Partial<Record<ChecksumAlgorithm, string>>;
}
