import { describe, expect, it } from "vitest";
import { BucketError } from "../../world/bucket-errors.ts";
import { errorXml, requestIds, S3Error, toS3Error } from "./errors.ts";

describe("S3 errors", () => {
  it("carry S3's status for each code", () => {
    expect(new S3Error("NoSuchKey").status).toBe(404);
    expect(new S3Error("InvalidRange").status).toBe(416);
    expect(new S3Error("PreconditionFailed").status).toBe(412);
    expect(new S3Error("NotImplemented").status).toBe(501);
    expect(new S3Error("MethodNotAllowed").status).toBe(405);
    expect(new S3Error("AccessDenied").status).toBe(403);
    expect(toS3Error(new BucketError("NoSuchUpload", "gone", { UploadId: "u" }))).toMatchObject({
      status: 404,
      code: "NoSuchUpload",
      details: { UploadId: "u" },
    });
    expect(toS3Error(new Error("boom"))).toMatchObject({ status: 500, code: "InternalError" });
  });

  it("render in S3's XML shape, with the resource and request ids", () => {
    const ids = requestIds();
    expect(ids.requestId).toMatch(/^[0-9A-F]{16}$/);
    const xml = errorXml(new S3Error("NoSuchKey", undefined, { Key: "a&b" }), "/bucket/a&b", ids);
    expect(xml).toBe(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a&amp;b</Key><Resource>/bucket/a&amp;b</Resource><RequestId>${ids.requestId}</RequestId><HostId>${ids.hostId}</HostId></Error>`,
    );
  });
});
