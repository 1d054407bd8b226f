/** doctor's bucket checks (buckets.ts) over a mocked S3. */
import { GetBucketVersioningCommand, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { checkBucket } from "./buckets.ts";
import { awsError, doctorClients, ENV } from "./testing.ts";

const s3 = mockClient(S3Client);

const clients = doctorClients();

beforeEach(() => {
  s3.reset();
});

describe("checkBucket", () => {
  const bucket = { name: "acme-artifacts-prod", what: "artifact" as const };

  it("passes a versioned bucket of this account", async () => {
    s3.on(GetBucketVersioningCommand).resolves({ Status: "Enabled" });
    expect(await checkBucket(clients.s3, bucket, ENV, "prod")).toEqual({
      check: "bucket",
      subject: "acme-artifacts-prod",
      status: "ok",
      message: "the artifact bucket: versioned",
    });
    expect(s3.commandCalls(GetBucketVersioningCommand)[0]?.args[0].input).toEqual({
      Bucket: "acme-artifacts-prod",
      ExpectedBucketOwner: "123456789012",
    });
  });

  it("fails suspended or never-enabled versioning, a missing bucket, another owner or region", async () => {
    const message = async () => (await checkBucket(clients.s3, bucket, ENV, "prod")).message;
    s3.on(GetBucketVersioningCommand).resolves({ Status: "Suspended" });
    expect(await message()).toContain("versioning is suspended");
    s3.on(GetBucketVersioningCommand).resolves({});
    expect(await message()).toContain("versioning is off");
    s3.on(GetBucketVersioningCommand).rejects(awsError("NoSuchBucket", 404));
    expect(await message()).toBe("the artifact bucket does not exist");
    s3.on(GetBucketVersioningCommand).rejects(awsError("AccessDenied", 403));
    expect(await message()).toContain("belongs to another account");
    s3.on(GetBucketVersioningCommand).rejects(awsError("PermanentRedirect", 301));
    expect(await message()).toContain("is not in us-east-1");

    s3.on(GetBucketVersioningCommand).rejects(awsError("NoSuchBucket", 404));
    const state = await checkBucket(clients.s3, { name: "s", what: "state" }, ENV, "prod");
    expect(state.fix).toContain("--state-bucket");
  });
});
