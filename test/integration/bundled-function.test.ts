/**
 * A function exactly as it ships (bundled with stacks/bundling.ts, code splitting and all) run in
 * its own Node process against S3 on moto: the split SDK chunks load on first use, credentials
 * come from the environment as in Lambda, and the handler does its work.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { resolvePlan } from "@gantry/core";
import { testExecution, testRequest } from "@gantry/core/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import registry from "../../gantry.registry.ts";
import { bundleFunction } from "../support/function-bundles.ts";
import { type Moto, s3Config, startMoto } from "../support/moto.ts";

const STATE_BUCKET = "gantry-bundle-state";

let moto: Moto;
let s3: S3Client;
let dir: string;

beforeAll(async () => {
  moto = await startMoto();
  s3 = new S3Client(s3Config(moto.endpoint));
  await s3.send(new CreateBucketCommand({ Bucket: STATE_BUCKET }));
  dir = mkdtempSync(join(tmpdir(), "gantry-bundled-"));
});

afterAll(async () => {
  s3?.destroy();
  await moto?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("the bundled acquire-lock takes the service's lock in the state bucket", async () => {
  const bundle = await bundleFunction("acquire-lock", dir);
  const request = testRequest();
  const execution = testExecution();
  const state = {
    request,
    execution,
    plan: resolvePlan(registry, "prod", request, { timeScale: 1 }),
  };
  const runner = join(dir, "invoke.mjs");
  writeFileSync(
    runner,
    "const { handler } = await import(process.argv[2]);\n" +
      "const result = await handler(JSON.parse(process.argv[3]), { awsRequestId: 'bundle-test' });\n" +
      "console.log(JSON.stringify(result));\n",
  );

  const out = execFileSync(process.execPath, [runner, bundle.entry, JSON.stringify(state)], {
    encoding: "utf8",
    env: {
      PATH: process.env.PATH ?? "",
      AWS_REGION: "us-east-1",
      // As in Lambda: credentials in the environment, read by the SDK's default chain.
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_ENDPOINT_URL: moto.endpoint,
      GANTRY_STATE_BUCKET: STATE_BUCKET,
      POWERTOOLS_LOG_LEVEL: "SILENT",
    },
  });

  const grant = JSON.parse(out) as { key: string; owner: string };
  expect(grant).toMatchObject({ key: "locks/hello-service.json", owner: execution.id });
  const stored = await s3.send(new GetObjectCommand({ Bucket: STATE_BUCKET, Key: grant.key }));
  expect(JSON.parse((await stored.Body?.transformToString()) ?? "{}")).toMatchObject({
    owner: execution.id,
  });
});
