/**
 * LambdaFunctionControl against moto's Lambda management API. moto does not run functions
 * (Invoke needs Docker), so invoke is covered by the unit tests only.
 */
import { crc32 } from "node:zlib";
import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  GetAliasCommand,
  LambdaClient,
} from "@aws-sdk/client-lambda";
import {
  CreateBucketCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { LambdaFunctionControl } from "@gantry/aws";
import { sha256Hex, TargetNotFound } from "@gantry/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsConfig, MOTO_ACCOUNT, type Moto, s3Config, startMoto } from "../support/moto.ts";

const BUCKET = "gantry-test-artifacts";
const ROLE = `arn:aws:iam::${MOTO_ACCOUNT}:role/lambda-role`;

let moto: Moto;
let lambda: LambdaClient;
let s3: S3Client;
let functions: LambdaFunctionControl;
let counter = 0;

/** A valid zip (stored, uncompressed) holding one file. */
function zipOf(name: string, content: string): Buffer {
  const fileName = Buffer.from(name, "utf8");
  const data = Buffer.from(content, "utf8");
  const crc = crc32(data);
  const DOS_DATE_1980_01_01 = 0x21;
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4); // version needed
  local.writeUInt16LE(0, 6); // flags
  local.writeUInt16LE(0, 8); // stored
  local.writeUInt16LE(0, 10); // time
  local.writeUInt16LE(DOS_DATE_1980_01_01, 12);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(fileName.length, 26);
  local.writeUInt16LE(0, 28);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4); // version made by
  central.writeUInt16LE(20, 6); // version needed
  central.writeUInt16LE(0, 8);
  central.writeUInt16LE(0, 10);
  central.writeUInt16LE(0, 12);
  central.writeUInt16LE(DOS_DATE_1980_01_01, 14);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(fileName.length, 28);
  // extra, comment, disk, internal and external attributes: 0; local header offset: 0
  const centralOffset = local.length + fileName.length + data.length;
  const centralSize = central.length + fileName.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, fileName, data, central, fileName, end]);
}

const handlerZip = (answer: string) =>
  zipOf("index.mjs", `export const handler = async () => ${JSON.stringify(answer)};\n`);

/** A new function (unique name) whose $LATEST holds `zip`. */
async function createFunction(zip: Buffer): Promise<string> {
  const name = `hello-${++counter}`;
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: "nodejs22.x",
      Role: ROLE,
      Handler: "index.handler",
      Code: { ZipFile: zip },
    }),
  );
  return name;
}

/** Puts an artifact in the (versioned) bucket and returns where it is. */
async function publishArtifact(key: string, zip: Buffer) {
  const out = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: zip }));
  return { bucket: BUCKET, key, ...(out.VersionId ? { versionId: out.VersionId } : {}) };
}

beforeAll(async () => {
  moto = await startMoto();
  lambda = new LambdaClient(awsConfig(moto.endpoint));
  s3 = new S3Client(s3Config(moto.endpoint));
  functions = new LambdaFunctionControl(lambda, { updateTimeoutSeconds: 30 });
  const iam = new IAMClient(awsConfig(moto.endpoint));
  await iam.send(
    new CreateRoleCommand({
      RoleName: "lambda-role",
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "lambda.amazonaws.com" },
            Action: "sts:AssumeRole",
          },
        ],
      }),
    }),
  );
  iam.destroy();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(
    new PutBucketVersioningCommand({
      Bucket: BUCKET,
      VersioningConfiguration: { Status: "Enabled" },
    }),
  );
});

afterAll(async () => {
  lambda?.destroy();
  s3?.destroy();
  await moto?.stop();
});

describe("LambdaFunctionControl on moto", () => {
  it("updateCode points $LATEST at the artifact in S3 and reports its SHA-256 as hex", async () => {
    const fn = await createFunction(handlerZip("v1"));
    const v2 = handlerZip("v2");
    const artifact = await publishArtifact("hello/2.zip", v2);
    expect(artifact.versionId).toBeDefined();

    const latest = await functions.updateCode(fn, artifact);

    expect(latest).toMatchObject({ version: "$LATEST", codeSha256: sha256Hex(v2) });
    await expect(functions.getVersion(fn, "$LATEST")).resolves.toMatchObject({
      codeSha256: sha256Hex(v2),
    });
  });

  it("publishVersion publishes $LATEST; the returned codeSha256 equals the artifact's hex SHA-256", async () => {
    const zip = handlerZip("published");
    const fn = await createFunction(zip);

    const published = await functions.publishVersion(fn, {
      codeSha256: sha256Hex(zip),
      description: "hello-service 1.4.0",
    });

    expect(published).toMatchObject({ version: "1", codeSha256: sha256Hex(zip) });
  });

  it("getVersion reads a published version's digest as hex", async () => {
    const zip = handlerZip("read back");
    const fn = await createFunction(zip);
    const published = await functions.publishVersion(fn, {
      codeSha256: sha256Hex(zip),
      description: "1.0.0",
    });
    await expect(functions.getVersion(fn, published.version)).resolves.toMatchObject({
      version: published.version,
      codeSha256: sha256Hex(zip),
    });
  });

  it("getVersion returns undefined for a version that does not exist", async () => {
    const fn = await createFunction(handlerZip("no versions"));
    await expect(functions.getVersion(fn, "42")).resolves.toBeUndefined();
  });

  it("getAlias returns undefined for a missing alias", async () => {
    const fn = await createFunction(handlerZip("no alias"));
    await expect(functions.getAlias(fn, "live")).resolves.toBeUndefined();
  });

  it("updateAlias shifts weight to a new version, then moves the alias to it", async () => {
    const fn = await createFunction(handlerZip("old"));
    const v1 = await functions.publishVersion(fn, {
      codeSha256: sha256Hex(handlerZip("old")),
      description: "old",
    });
    await lambda.send(
      new CreateAliasCommand({ FunctionName: fn, Name: "live", FunctionVersion: "1" }),
    );
    const newZip = handlerZip("new");
    await functions.updateCode(fn, await publishArtifact("hello/new.zip", newZip));
    const v2 = await functions.publishVersion(fn, {
      codeSha256: sha256Hex(newZip),
      description: "new",
    });
    expect([v1.version, v2.version]).toEqual(["1", "2"]);

    const before = await functions.getAlias(fn, "live");
    const canary = await functions.updateAlias(fn, "live", {
      version: "1",
      weights: { "2": 0.1 },
      ...(before?.revisionId ? { revisionId: before.revisionId } : {}),
    });
    expect(canary).toMatchObject({ name: "live", version: "1", weights: { "2": 0.1 } });
    await expect(functions.getAlias(fn, "live")).resolves.toMatchObject({
      version: "1",
      weights: { "2": 0.1 },
    });

    const promoted = await functions.updateAlias(fn, "live", { version: "2", weights: {} });
    expect(promoted).toMatchObject({ name: "live", version: "2", weights: {} });
    await expect(functions.getAlias(fn, "live")).resolves.toMatchObject({
      version: "2",
      weights: {},
    });
    const raw = await lambda.send(new GetAliasCommand({ FunctionName: fn, Name: "live" }));
    expect(raw.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
  });

  it("updateAlias on a function that does not exist fails with TargetNotFound", async () => {
    await expect(
      functions.updateAlias("no-such-function", "live", { version: "1", weights: {} }),
    ).rejects.toBeInstanceOf(TargetNotFound);
  });

  it("updateCode on a function that does not exist fails with TargetNotFound", async () => {
    const artifact = await publishArtifact("hello/orphan.zip", handlerZip("orphan"));
    await expect(functions.updateCode("no-such-function", artifact)).rejects.toBeInstanceOf(
      TargetNotFound,
    );
  });

  it("publishVersion on a function that does not exist fails with TargetNotFound", async () => {
    const zip = handlerZip("nothing");
    await expect(
      functions.publishVersion("no-such-function", {
        codeSha256: sha256Hex(zip),
        description: "x",
      }),
    ).rejects.toBeInstanceOf(TargetNotFound);
  });
});
