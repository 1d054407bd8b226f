/**
 * `npm start` with a registry of the user's own: a service the app's local configuration
 * (gantry.local.ts) does not mention still gets its functions, on the placeholder artifact, which
 * takes the local traffic without errors, and a first deployment replaces it.
 */
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { StartExecutionCommand } from "@aws-sdk/client-sfn";
import { executionName, hexToBase64, sha256Hex } from "@gantry/core";
import { createZip } from "@gantry/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type LocalProcess,
  PREPROD_BUCKET,
  ROOT,
  STATE_MACHINE,
  startLocalProcess,
  waitFor,
  waitForStatus,
} from "../support/local-process.ts";

interface World {
  services: Record<string, Record<string, { version?: string; weights?: Record<string, number> }>>;
  invocations: { functionName: string; version: string; invocations: number; errors: number }[];
}

let local: LocalProcess;

beforeAll(async () => {
  local = await startLocalProcess({
    env: { GANTRY_REGISTRY: join(ROOT, "test/support/registries/with-orders.ts") },
  });
});

afterAll(async () => {
  await local?.kill("SIGTERM");
});

async function world(): Promise<World> {
  return (await (await fetch(`${local.webEndpoint}/api/world`)).json()) as World;
}

describe("a registry service without local configuration", () => {
  it("gets both stages' functions on the placeholder, which answers the traffic with 200s", async () => {
    // The banner is printed just after endpoints.json is written: wait for it.
    await waitFor(
      () => (/orders +\(initial code: the placeholder/.test(local.output()) ? true : undefined),
      10_000,
      () => `the banner does not say orders runs the placeholder:\n${local.output()}`,
    );
    const view = await world();
    expect(view.services.orders?.preprod?.version).toBe("1");
    expect(view.services.orders?.prod?.version).toBe("1");
    const served = await waitFor(
      async () =>
        (await world()).invocations.find(
          (i) => i.functionName === "orders-prod" && i.invocations >= 5,
        ),
      15_000,
      () => "the placeholder got no traffic",
    );
    expect(served.errors).toBe(0);
  });

  it("is replaced by the service's first deployment", async () => {
    const zip = createZip({
      "index.mjs": 'export const handler = async () => ({ statusCode: 200, body: "orders v1" });\n',
    });
    const sha256 = sha256Hex(zip);
    const version = sha256Hex(`orders-${sha256}`).slice(0, 40);
    const key = `orders/${version}/${sha256.slice(0, 16)}.zip`;
    await local.s3.send(
      new PutObjectCommand({
        Bucket: PREPROD_BUCKET,
        Key: key,
        Body: zip,
        ChecksumSHA256: hexToBase64(sha256),
      }),
    );
    const request = {
      service: "orders",
      version,
      artifact: { key, sha256 },
      trigger: { actor: "octocat" },
    };
    const started = await local.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: STATE_MACHINE.preprod,
        name: executionName(request),
        input: JSON.stringify(request),
      }),
    );
    const done = await waitForStatus(local, started.executionArn as string);
    expect(done.status).toBe("SUCCEEDED");
    const alias = (await world()).services.orders?.preprod;
    expect(alias).toMatchObject({ version: "2", weights: {} });
  });
});
