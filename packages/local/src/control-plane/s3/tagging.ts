import { ObjectDigests } from "../../world/checksums.ts";
import { type S3Context, sendEmpty, sendXml, servedBucket } from "./context.ts";
import { S3Error } from "./errors.ts";
import { readSmallBody } from "./objects.ts";
import { checksumClaims, plainRecord, verifyBody } from "./request.ts";
import { childrenNamed, childText, element, parseXml, S3_NAMESPACE, XmlError } from "./xml.ts";

/**
 * Object tagging: GetObjectTagging, PutObjectTagging (Content-MD5 or a checksum required, as
 * S3 requires) and DeleteObjectTagging. The AWS CLI reads a source's tags to copy them with a
 * multipart copy (`aws s3 cp s3://a/k s3://b/k` above 8 MB).
 */
function versionOf(ctx: S3Context): { versionId?: string } {
  const versionId = ctx.target.query.get("versionId");
  return versionId ? { versionId } : {};
}

export async function getObjectTagging(ctx: S3Context): Promise<void> {
  const bucket = servedBucket(ctx);
  const ref = { bucket, key: ctx.target.key, ...versionOf(ctx) };
  const meta = await ctx.buckets.meta(ref);
  if (!meta) throw new S3Error("NoSuchKey", undefined, { Key: ctx.target.key });
  if (ref.versionId && ref.versionId !== meta.versionId)
    throw new S3Error("NoSuchVersion", undefined, {
      Key: ctx.target.key,
      VersionId: ref.versionId,
    });
  const tags = Object.entries(meta.tags)
    .map(([key, value]) => `<Tag>${element("Key", key)}${element("Value", value)}</Tag>`)
    .join("");
  sendXml(ctx.res, 200, `<Tagging xmlns="${S3_NAMESPACE}"><TagSet>${tags}</TagSet></Tagging>`, {
    "x-amz-version-id": meta.versionId,
  });
}

/** The tags of a `<Tagging><TagSet><Tag><Key/><Value/></Tag>...` document, validated as S3 does. */
export function parseTagging(text: string): Record<string, string> {
  let pairs: [string, string][];
  try {
    const root = parseXml(text);
    if (root.name !== "Tagging") throw new XmlError("not a Tagging document");
    const set = childrenNamed(root, "TagSet");
    if (set.length !== 1) throw new XmlError("one TagSet");
    pairs = childrenNamed(set[0] as never, "Tag").map((tag) => [
      childText(tag, "Key") ?? "",
      childText(tag, "Value") ?? "",
    ]);
  } catch (error) {
    if (error instanceof XmlError) throw new S3Error("MalformedXML");
    throw error;
  }
  const tags = plainRecord();
  for (const [key, value] of pairs) {
    if (key.length === 0 || key.length > 128 || value.length > 256)
      throw new S3Error("InvalidTag", `The TagKey you have provided is invalid`);
    if (key in tags)
      throw new S3Error("InvalidTag", "Cannot provide multiple Tags with the same key");
    tags[key] = value;
  }
  if (Object.keys(tags).length > 10)
    throw new S3Error("BadRequest", "Object tags cannot be greater than 10");
  return tags;
}

export async function putObjectTagging(ctx: S3Context): Promise<void> {
  const bucket = servedBucket(ctx);
  const claims = checksumClaims(ctx.req);
  if (claims.contentMd5 === undefined && !claims.algorithm)
    throw new S3Error("InvalidRequest", "Missing required header for this request: Content-MD5");
  const raw = await readSmallBody(ctx.req, 64 * 1024);
  const digests = new ObjectDigests(claims.algorithm ? [claims.algorithm] : []);
  digests.update(raw);
  verifyBody({ trailers: {} }, claims, await digests.finish());
  const tags = parseTagging(raw.toString("utf8"));
  const meta = await ctx.buckets.setTags({ bucket, key: ctx.target.key, ...versionOf(ctx) }, tags);
  sendEmpty(ctx.res, 200, { "x-amz-version-id": meta.versionId });
}

export async function deleteObjectTagging(ctx: S3Context): Promise<void> {
  const bucket = servedBucket(ctx);
  const meta = await ctx.buckets.setTags({ bucket, key: ctx.target.key, ...versionOf(ctx) }, {});
  sendEmpty(ctx.res, 204, { "x-amz-version-id": meta.versionId });
}
