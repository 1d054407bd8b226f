import type { IncomingMessage, ServerResponse } from "node:http";
import { clientGone } from "../http-body.ts";
import type { LocalBuckets } from "../world/buckets.ts";
import { logInternalError } from "./errors.ts";
import { LOCAL_ACCOUNT, type S3Context, servedBucket } from "./s3/context.ts";
import { errorXml, requestIds, S3Error, toS3Error } from "./s3/errors.ts";
import {
  getBucketLocation,
  headBucket,
  listBuckets,
  listObjectsV1,
  listObjectsV2,
} from "./s3/listing.ts";
import { copyObject, deleteObject, deleteObjects, getObject, putObject } from "./s3/objects.ts";
import { header, parseTarget, type S3Target } from "./s3/request.ts";
import { deleteObjectTagging, getObjectTagging, putObjectTagging } from "./s3/tagging.ts";
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
  uploadPartCopy,
} from "./s3/uploads.ts";

/**
 * The S3 REST API on the artifact buckets, path-style (`http://127.0.0.1:8083/<bucket>/<key>`),
 * as the AWS CLI (`s3` and `s3api`), boto3/s3transfer and the JS SDK (with lib-storage) use it:
 *
 *   service   ListBuckets
 *   bucket    HeadBucket, GetBucketLocation, ListObjectsV2, ListObjects, ListMultipartUploads,
 *             DeleteObjects
 *   object    GetObject, HeadObject, PutObject, CopyObject, DeleteObject,
 *             CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload,
 *             AbortMultipartUpload, ListParts, GetObjectTagging, PutObjectTagging,
 *             DeleteObjectTagging
 *
 * Anything else S3 has (a sub-resource such as ?acl, ?versioning, ?retention, ?select or
 * ?restore, a storage class, SSE-KMS, object lock, ...) is answered `501 NotImplemented`,
 * never with a success that did not do what was asked. Errors are S3's XML with S3's codes;
 * every response carries `x-amz-request-id` and `x-amz-id-2`. Signatures are not verified.
 *
 * Only the artifact buckets are served: Gantry's state buckets hold locks, approvals and task
 * tokens, which in AWS only Gantry's own functions can read (AccessDenied here).
 */

/** S3's sub-resources: query parameters that select an operation other than the plain one. */
const SUBRESOURCES = new Set([
  "abac",
  "accelerate",
  "acl",
  "analytics",
  "attributes",
  "cors",
  "delete",
  "encryption",
  "intelligent-tiering",
  "inventory",
  "journalTable",
  "legal-hold",
  "lifecycle",
  "location",
  "logging",
  "metadataConfiguration",
  "metadataInventoryTable",
  "metadataJournalTable",
  "metadataTable",
  "metrics",
  "notification",
  "object-lock",
  "ownershipControls",
  "partNumber",
  "policy",
  "policyStatus",
  "publicAccessBlock",
  "renameObject",
  "replication",
  "requestPayment",
  "restore",
  "retention",
  "select",
  "select-type",
  "session",
  "tagging",
  "torrent",
  "uploadId",
  "uploads",
  "versionId",
  "versioning",
  "versions",
  "website",
]);

type Handler = (ctx: S3Context) => Promise<void> | void;

interface Route {
  /** The sub-resources the operation takes (all others present make it NotImplemented). */
  readonly with: readonly string[];
  /** The one sub-resource that selects it (none: the plain operation). */
  readonly selector?: string;
  readonly handler: Handler;
}

const BUCKET_ROUTES: Record<string, Route[]> = {
  GET: [
    { with: ["location"], selector: "location", handler: getBucketLocation },
    { with: ["uploads"], selector: "uploads", handler: listMultipartUploads },
    {
      with: [],
      handler: (ctx) =>
        ctx.target.query.has("list-type") ? listObjectsV2(ctx) : listObjectsV1(ctx),
    },
  ],
  HEAD: [{ with: [], handler: headBucket }],
  POST: [{ with: ["delete"], selector: "delete", handler: deleteObjects }],
  PUT: [
    {
      with: [],
      handler: (ctx) => {
        servedBucket(ctx);
        throw new S3Error(
          "BucketAlreadyOwnedByYou",
          "Your previous request to create the named bucket succeeded and you already own it.",
          { BucketName: ctx.target.bucket },
        );
      },
    },
  ],
  DELETE: [
    {
      with: [],
      handler: (ctx) => {
        servedBucket(ctx);
        throw new S3Error(
          "NotImplemented",
          "The artifact buckets are the registry's: they cannot be deleted through the local endpoint",
        );
      },
    },
  ],
};

const OBJECT_ROUTES: Record<string, Route[]> = {
  GET: [
    { with: ["uploadId"], selector: "uploadId", handler: listParts },
    { with: ["tagging", "versionId"], selector: "tagging", handler: getObjectTagging },
    { with: ["versionId", "partNumber"], handler: (ctx) => getObject(ctx, false) },
  ],
  HEAD: [{ with: ["versionId", "partNumber"], handler: (ctx) => getObject(ctx, true) }],
  PUT: [
    { with: ["tagging", "versionId"], selector: "tagging", handler: putObjectTagging },
    {
      with: ["uploadId", "partNumber"],
      selector: "uploadId",
      handler: (ctx) =>
        ctx.req.headers["x-amz-copy-source"] !== undefined ? uploadPartCopy(ctx) : uploadPart(ctx),
    },
    {
      with: [],
      handler: (ctx) =>
        ctx.req.headers["x-amz-copy-source"] !== undefined ? copyObject(ctx) : putObject(ctx),
    },
  ],
  POST: [
    { with: ["uploads"], selector: "uploads", handler: createMultipartUpload },
    { with: ["uploadId"], selector: "uploadId", handler: completeMultipartUpload },
  ],
  DELETE: [
    { with: ["uploadId"], selector: "uploadId", handler: abortMultipartUpload },
    { with: ["tagging", "versionId"], selector: "tagging", handler: deleteObjectTagging },
    { with: ["versionId"], handler: deleteObject },
  ],
};

/** The operation a request asks for, or the S3 error that says why there is none. */
function route(method: string, target: S3Target): Handler {
  const table = target.key === "" ? BUCKET_ROUTES : OBJECT_ROUTES;
  const routes = Object.hasOwn(table, method) ? table[method] : undefined;
  if (!routes)
    throw new S3Error(
      "MethodNotAllowed",
      "The specified method is not allowed against this resource.",
      { Method: method, ResourceType: target.key === "" ? "BUCKET" : "OBJECT" },
    );
  const asked = [...new Set(target.query.keys())].filter((name) => SUBRESOURCES.has(name));
  for (const candidate of routes) {
    const selected = candidate.selector
      ? asked.includes(candidate.selector)
      : !asked.some((name) => routes.some((r) => r.selector === name));
    if (!selected) continue;
    const extra = asked.filter((name) => !candidate.with.includes(name));
    if (extra.length > 0) break;
    return candidate.handler;
  }
  const what = asked.length > 0 ? asked.map((name) => `?${name}`).join(" ") : "this request";
  return () => {
    throw new S3Error(
      "NotImplemented",
      `${method} ${what} on ${target.key === "" ? "a bucket" : "an object"} is not part of the local S3 subset`,
    );
  };
}

/**
 * Answers one request if it is an S3 request; returns false if it is not one (a Step Functions
 * call, the health check).
 */
export async function handleS3Request(
  buckets: LocalBuckets,
  exposed: ReadonlySet<string>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  if (req.headers["x-amz-target"]) return false;
  const method = req.method ?? "GET";
  const rawUrl = req.url ?? "/";
  const path = rawUrl.split("?")[0] ?? "/";
  // The service root takes ListBuckets; a POST there without X-Amz-Target is nobody's.
  if ((path === "/" || path === "") && method === "POST") return false;
  if (path === "/health" && method === "GET" && !exposed.has("health")) return false;

  const ids = requestIds();
  res.setHeader("x-amz-request-id", ids.requestId);
  res.setHeader("x-amz-id-2", ids.hostId);
  let resource = path;
  try {
    const target = parseTarget(rawUrl);
    resource = target.resource;
    const owner = header(req, "x-amz-expected-bucket-owner");
    if (owner !== undefined && owner !== LOCAL_ACCOUNT)
      throw new S3Error("AccessDenied", "Access Denied");
    const ctx: S3Context = { buckets, exposed, req, res, target };
    if (target.bucket === "") {
      if (method !== "GET" && method !== "HEAD")
        throw new S3Error("MethodNotAllowed", undefined, {
          Method: method,
          ResourceType: "SERVICE",
        });
      listBuckets(ctx);
      return true;
    }
    await route(method, target)(ctx);
  } catch (error) {
    if (clientGone(error, res)) return true;
    const failure = toS3Error(error);
    if (failure.code === "InternalError" && !(error instanceof S3Error))
      logInternalError(`S3 ${method} ${resource}`, error);
    sendError(res, failure, resource, ids, method === "HEAD");
  }
  return true;
}

/** Sends an unexpected failure as S3's InternalError XML (500). */
export function sendS3InternalError(res: ServerResponse, resource: string): void {
  const ids = requestIds();
  if (!res.headersSent) {
    res.setHeader("x-amz-request-id", ids.requestId);
    res.setHeader("x-amz-id-2", ids.hostId);
  }
  sendError(res, new S3Error("InternalError"), resource, ids, false);
}

function sendError(
  res: ServerResponse,
  error: S3Error,
  resource: string,
  ids: { requestId: string; hostId: string },
  headOnly: boolean,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorXml(error, resource, ids);
  res.writeHead(error.status, {
    "content-type": "application/xml",
    ...(headOnly ? {} : { "content-length": Buffer.byteLength(body) }),
  });
  res.end(headOnly ? undefined : body);
}
