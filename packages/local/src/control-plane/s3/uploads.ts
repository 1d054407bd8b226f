import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  type ChecksumType,
  checksumAlgorithmOf,
  checksumHeader,
  decodeChecksum,
  supportsChecksumType,
} from "../../world/checksums.ts";
import {
  type CompletedPart,
  checkPartNumber,
  MAX_PART_BYTES,
  type PartRecord,
  type UploadRecord,
} from "../../world/multipart.ts";
import {
  checksumElementName,
  isoSeconds,
  OWNER_ID,
  OWNER_XML,
  type S3Context,
  sendEmpty,
  sendXml,
  servedBucket,
  storedChecksum,
} from "./context.ts";
import { S3Error } from "./errors.ts";
import { openCopySource, readSmallBody, refuseUnsupported, writeConditions } from "./objects.ts";
import {
  checksumClaims,
  contentHeaders,
  header,
  requestBody,
  tagging,
  userMetadata,
  verifyBody,
} from "./request.ts";
import { childrenNamed, childText, element, parseXml, S3_NAMESPACE, XmlError } from "./xml.ts";

/**
 * Multipart uploads over HTTP: CreateMultipartUpload, UploadPart, UploadPartCopy,
 * CompleteMultipartUpload, AbortMultipartUpload, ListParts and ListMultipartUploads, on the
 * store in world/multipart.ts (parts streamed to disk; the object appears on completion).
 */

export async function createMultipartUpload(ctx: S3Context): Promise<void> {
  const bucket = servedBucket(ctx);
  const { req, res, target } = ctx;
  refuseUnsupported(req);
  const algorithmHeader = header(req, "x-amz-checksum-algorithm");
  const typeHeader = header(req, "x-amz-checksum-type");
  let checksum: { algorithm: ChecksumAlgorithm; type: ChecksumType } | undefined;
  if (algorithmHeader !== undefined) {
    const algorithm = checksumAlgorithmOf(algorithmHeader);
    if (!algorithm)
      throw new S3Error("InvalidRequest", "Checksum algorithm provided is unsupported.");
    const type = (typeHeader?.toUpperCase() ??
      (algorithm === "CRC64NVME" ? "FULL_OBJECT" : "COMPOSITE")) as ChecksumType;
    if ((type !== "FULL_OBJECT" && type !== "COMPOSITE") || !supportsChecksumType(algorithm, type))
      throw new S3Error(
        "InvalidRequest",
        `The ${algorithm} checksum algorithm does not support the ${typeHeader} checksum type.`,
      );
    checksum = { algorithm, type };
  } else if (typeHeader !== undefined) {
    throw new S3Error(
      "InvalidRequest",
      "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.",
    );
  }
  writeConditions(req);
  const upload = await ctx.buckets.uploads.create(
    { bucket, key: target.key },
    {
      metadata: userMetadata(req),
      tags: tagging(header(req, "x-amz-tagging")),
      content: contentHeaders(req),
      ...(checksum ? { checksum } : {}),
    },
  );
  sendXml(
    res,
    200,
    `<InitiateMultipartUploadResult xmlns="${S3_NAMESPACE}">${element("Bucket", bucket)}${element("Key", target.key)}${element("UploadId", upload.uploadId)}</InitiateMultipartUploadResult>`,
    {
      "x-amz-server-side-encryption": "AES256",
      ...(checksum
        ? {
            "x-amz-checksum-algorithm": checksum.algorithm,
            "x-amz-checksum-type": checksum.type,
          }
        : {}),
    },
  );
}

function partNumberOf(ctx: S3Context): number {
  const raw = ctx.target.query.get("partNumber") ?? "";
  const partNumber = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  checkPartNumber(partNumber);
  return partNumber;
}

function uploadIdOf(ctx: S3Context): string {
  return ctx.target.query.get("uploadId") ?? "";
}

function partChecksumHeaders(upload: UploadRecord, part: PartRecord): Record<string, string> {
  return upload.checksum && part.checksum
    ? { [checksumHeader(upload.checksum.algorithm)]: part.checksum }
    : {};
}

export async function uploadPart(ctx: S3Context): Promise<void> {
  const bucket = servedBucket(ctx);
  const { req, res, target } = ctx;
  const ref = { bucket, key: target.key };
  const partNumber = partNumberOf(ctx);
  const uploadId = uploadIdOf(ctx);
  const claims = checksumClaims(req);
  const upload = await ctx.buckets.uploads.get(ref, uploadId);
  if (upload.checksum && claims.algorithm && claims.algorithm !== upload.checksum.algorithm) {
    throw new S3Error(
      "InvalidRequest",
      `Checksum Type mismatch occurred, expected checksum Type: ${upload.checksum.algorithm.toLowerCase()}, actual checksum Type: ${claims.algorithm.toLowerCase()}`,
    );
  }
  const body = requestBody(req, MAX_PART_BYTES, { requireLength: true });
  const part = await ctx.buckets.uploads.uploadPart(ref, uploadId, partNumber, body.source, {
    maxBytes: MAX_PART_BYTES,
    ...(claims.algorithm ? { algorithms: [claims.algorithm] } : {}),
    verify: (digests) => verifyBody(body, claims, digests),
  });
  sendEmpty(res, 200, {
    etag: part.etag,
    "x-amz-server-side-encryption": "AES256",
    ...partChecksumHeaders(upload, part),
  });
}

/** `x-amz-copy-source-range: bytes=<first>-<last>`, which must lie inside the source. */
function copyRange(value: string | undefined, size: number): { start: number; end: number } {
  if (value === undefined) return { start: 0, end: size - 1 };
  const match = /^bytes=(\d+)-(\d+)$/.exec(value.trim());
  const start = Number(match?.[1]);
  const end = Number(match?.[2]);
  if (!match || end < start || end >= size) {
    throw new S3Error(
      "InvalidArgument",
      `Range specified is not valid for source object of size: ${size}`,
      { ArgumentName: "x-amz-copy-source-range", ArgumentValue: value },
    );
  }
  return { start, end };
}

export async function uploadPartCopy(ctx: S3Context): Promise<void> {
  const bucket = servedBucket(ctx);
  const { req, res, target } = ctx;
  const ref = { bucket, key: target.key };
  const partNumber = partNumberOf(ctx);
  const uploadId = uploadIdOf(ctx);
  const upload = await ctx.buckets.uploads.get(ref, uploadId);
  const { opened } = await openCopySource(ctx);
  let streamed = false;
  try {
    const range = copyRange(header(req, "x-amz-copy-source-range"), opened.meta.size);
    if (range.end - range.start + 1 > MAX_PART_BYTES)
      throw new S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size");
    streamed = true;
    const bytes = opened.meta.size === 0 ? undefined : opened.stream(range);
    const part = await ctx.buckets.uploads
      .uploadPart(ref, uploadId, partNumber, bytes ?? [])
      .catch((error: unknown) => {
        bytes?.destroy(); // refused before reading it all: the source file is closed all the same
        throw error;
      });
    sendXml(
      res,
      200,
      `<CopyPartResult xmlns="${S3_NAMESPACE}">${element("LastModified", isoSeconds(part.lastModified))}${element("ETag", part.etag)}${upload.checksum && part.checksum ? element(checksumElementName(upload.checksum.algorithm), part.checksum) : ""}</CopyPartResult>`,
      {
        "x-amz-copy-source-version-id": opened.meta.versionId,
        "x-amz-server-side-encryption": "AES256",
      },
    );
  } finally {
    if (!streamed || opened.meta.size === 0) await opened.close();
  }
}

/** CompleteMultipartUpload's body: the parts, each with its ETag and any checksum. */
export function parseCompleteRequest(text: string): CompletedPart[] {
  try {
    const root = parseXml(text);
    if (root.name !== "CompleteMultipartUpload") throw new XmlError("not a completion");
    return childrenNamed(root, "Part").map((part) => {
      const number = childText(part, "PartNumber")?.trim() ?? "";
      const etag = childText(part, "ETag")?.trim();
      if (!/^\d+$/.test(number) || etag === undefined)
        throw new XmlError("a Part without a number or ETag");
      const checksums: Partial<Record<ChecksumAlgorithm, string>> = {};
      for (const algorithm of CHECKSUM_ALGORITHMS) {
        const value = childText(part, checksumElementName(algorithm));
        if (value !== undefined) checksums[algorithm] = value.trim();
      }
      return {
        partNumber: Number(number),
        etag,
        ...(Object.keys(checksums).length > 0 ? { checksums } : {}),
      };
    });
  } catch (error) {
    if (error instanceof XmlError) throw new S3Error("MalformedXML");
    throw error;
  }
}

export async function completeMultipartUpload(ctx: S3Context): Promise<void> {
  const bucket = servedBucket(ctx);
  const { req, res, target } = ctx;
  const ref = { bucket, key: target.key };
  const uploadId = uploadIdOf(ctx);
  const conditions = writeConditions(req);
  const upload = await ctx.buckets.uploads.get(ref, uploadId);
  const parts = parseCompleteRequest((await readSmallBody(req, 16 * 1024 * 1024)).toString("utf8"));
  // A composite checksum is made of the part checksums: S3 wants every one listed.
  if (upload.checksum?.type === "COMPOSITE") {
    const missing = parts.find((p) => !p.checksums?.[upload.checksum?.algorithm ?? "CRC32"]);
    if (missing)
      throw new S3Error(
        "InvalidRequest",
        `The upload was created using a ${upload.checksum.algorithm.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${missing.partNumber} in the request.`,
      );
  }
  const stated = CHECKSUM_ALGORITHMS.find((a) => req.headers[checksumHeader(a)] !== undefined);
  let checksum: { algorithm: ChecksumAlgorithm; value: string } | undefined;
  if (stated) {
    const value = header(req, checksumHeader(stated)) ?? "";
    if (!decodeChecksum(stated, value.replace(/-\d+$/, "")))
      throw new S3Error("InvalidRequest", `Value for ${checksumHeader(stated)} header is invalid.`);
    checksum = { algorithm: stated, value };
  }
  const typeHeader = header(req, "x-amz-checksum-type");
  const uploadType = upload.checksum?.type ?? "FULL_OBJECT";
  // S3: a checksum type other than the upload's is BadDigest.
  if (typeHeader !== undefined && typeHeader.toUpperCase() !== uploadType)
    throw new S3Error(
      "BadDigest",
      `The upload was created using the ${uploadType} checksum mode. The complete request must use the same checksum mode.`,
    );
  const expectedSize = header(req, "x-amz-mp-object-size");
  const meta = await ctx.buckets.uploads.complete(ref, uploadId, parts, {
    ...conditions,
    ...(checksum ? { checksum } : {}),
  });
  if (expectedSize !== undefined && Number(expectedSize) !== meta.size) {
    // Checked after the fact locally; S3 refuses before completing. Said plainly in the docs.
    throw new S3Error(
      "InvalidRequest",
      `The provided x-amz-mp-object-size ${expectedSize} does not match the object's size ${meta.size}`,
    );
  }
  const stored = storedChecksum(meta);
  sendXml(
    res,
    200,
    `<CompleteMultipartUploadResult xmlns="${S3_NAMESPACE}">${element("Location", `http://${header(req, "host") ?? "localhost"}/${bucket}/${encodeURIComponent(target.key).replace(/%2F/g, "/")}`)}${element("Bucket", bucket)}${element("Key", target.key)}${element("ETag", meta.etag)}${element(checksumElementName(stored.algorithm), stored.value)}${element("ChecksumType", stored.type)}</CompleteMultipartUploadResult>`,
    { "x-amz-version-id": meta.versionId, "x-amz-server-side-encryption": "AES256" },
  );
}

export async function abortMultipartUpload(ctx: S3Context): Promise<void> {
  const bucket = servedBucket(ctx);
  await ctx.buckets.uploads.abort({ bucket, key: ctx.target.key }, uploadIdOf(ctx));
  sendEmpty(ctx.res, 204);
}

function boundedInteger(value: string | null, name: string, fallback: number, max: number) {
  if (value === null) return fallback;
  if (!/^\d+$/.test(value))
    throw new S3Error(
      "InvalidArgument",
      `Provided ${name} not an integer or within integer range`,
      {
        ArgumentName: name,
        ArgumentValue: value,
      },
    );
  return Math.min(Number(value), max);
}

export async function listParts(ctx: S3Context): Promise<void> {
  const bucket = servedBucket(ctx);
  const { res, target } = ctx;
  const ref = { bucket, key: target.key };
  const uploadId = uploadIdOf(ctx);
  const upload = await ctx.buckets.uploads.get(ref, uploadId);
  const maxParts = boundedInteger(target.query.get("max-parts"), "max-parts", 1000, 1000);
  const marker = boundedInteger(
    target.query.get("part-number-marker"),
    "part-number-marker",
    0,
    Number.MAX_SAFE_INTEGER,
  );
  const all = (await ctx.buckets.uploads.listParts(ref, uploadId)).filter(
    (p) => p.partNumber > marker,
  );
  const page = all.slice(0, maxParts);
  const truncated = all.length > page.length;
  const parts = page
    .map(
      (p) =>
        `<Part>${element("PartNumber", p.partNumber)}${element("LastModified", isoSeconds(p.lastModified))}${element("ETag", p.etag)}${element("Size", p.size)}${upload.checksum && p.checksum ? element(checksumElementName(upload.checksum.algorithm), p.checksum) : ""}</Part>`,
    )
    .join("");
  sendXml(
    res,
    200,
    `<ListPartsResult xmlns="${S3_NAMESPACE}">${element("Bucket", bucket)}${element("Key", target.key)}${element("UploadId", uploadId)}${element("PartNumberMarker", marker)}${element("NextPartNumberMarker", page.at(-1)?.partNumber ?? marker)}${element("MaxParts", maxParts)}${element("IsTruncated", truncated)}${parts}<Initiator><ID>${OWNER_ID}</ID></Initiator>${OWNER_XML}${element("StorageClass", "STANDARD")}${upload.checksum ? element("ChecksumAlgorithm", upload.checksum.algorithm) + element("ChecksumType", upload.checksum.type) : ""}</ListPartsResult>`,
  );
}

export async function listMultipartUploads(ctx: S3Context): Promise<void> {
  const bucket = servedBucket(ctx);
  const { res, target } = ctx;
  if (target.query.get("delimiter"))
    throw new S3Error(
      "NotImplemented",
      "ListMultipartUploads with a delimiter is not served locally",
      { Parameter: "delimiter" },
    );
  const prefix = target.query.get("prefix") ?? "";
  const keyMarker = target.query.get("key-marker") ?? "";
  const uploadIdMarker = target.query.get("upload-id-marker") ?? "";
  const maxUploads = boundedInteger(target.query.get("max-uploads"), "max-uploads", 1000, 1000);
  const uploads = (await ctx.buckets.uploads.list(bucket)).filter(
    (u) =>
      u.key.startsWith(prefix) &&
      (u.key > keyMarker ||
        (u.key === keyMarker && uploadIdMarker !== "" && u.uploadId > uploadIdMarker)),
  );
  const page = uploads.slice(0, maxUploads);
  const truncated = uploads.length > page.length;
  const last = page.at(-1);
  const body = page
    .map(
      (u) =>
        `<Upload>${element("Key", u.key)}${element("UploadId", u.uploadId)}<Initiator><ID>${OWNER_ID}</ID></Initiator>${OWNER_XML}${element("StorageClass", "STANDARD")}${element("Initiated", isoSeconds(u.initiated))}${u.checksum ? element("ChecksumAlgorithm", u.checksum.algorithm) + element("ChecksumType", u.checksum.type) : ""}</Upload>`,
    )
    .join("");
  sendXml(
    res,
    200,
    `<ListMultipartUploadsResult xmlns="${S3_NAMESPACE}">${element("Bucket", bucket)}${element("KeyMarker", keyMarker)}${element("UploadIdMarker", uploadIdMarker)}${truncated && last ? element("NextKeyMarker", last.key) + element("NextUploadIdMarker", last.uploadId) : ""}${element("Prefix", prefix)}${element("MaxUploads", maxUploads)}${element("IsTruncated", truncated)}${body}</ListMultipartUploadsResult>`,
  );
}
