/**
 * Starts the conformance suite's targets once for all its files: the local control plane (as
 * `npm start` runs it, on free ports, with no synthetic traffic) and moto_server (the reference),
 * with the same two buckets and two state machines of the same names.
 */
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateStateMachineCommand, SFNClient } from "@aws-sdk/client-sfn";
import type { TestProject } from "vitest/node";
import {
  type LocalProcess,
  PREPROD_BUCKET,
  PROD_BUCKET,
  startLocalProcess,
} from "../support/local-process.ts";
import { awsConfig, MOTO_ACCOUNT, type Moto, s3Config, startMoto } from "../support/moto.ts";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let local: LocalProcess | undefined;
  let moto: Moto | undefined;
  try {
    local = await startLocalProcess({
      trafficRps: 0,
      env: { GANTRY_CANARY_INTERVAL: "0", GANTRY_LOG_LEVEL: "SILENT" },
    });
    moto = await startMoto();
    const s3 = new S3Client(s3Config(moto.endpoint));
    for (const bucket of [PREPROD_BUCKET, PROD_BUCKET])
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    s3.destroy();
    // The same two state machines' names on moto, for the Step Functions checks.
    const sfn = new SFNClient(awsConfig(moto.endpoint));
    for (const name of ["gantry-preprod", "gantry-prod"])
      await sfn.send(
        new CreateStateMachineCommand({
          name,
          roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/gantry-conformance`,
          definition: JSON.stringify({ StartAt: "Done", States: { Done: { Type: "Succeed" } } }),
        }),
      );
    sfn.destroy();
  } catch (error) {
    await local?.kill();
    await moto?.stop();
    throw error;
  }
  project.provide("conformanceTargets", {
    local: {
      name: "local",
      endpoint: local.sfnEndpoint,
      bucket: PREPROD_BUCKET,
      other: PROD_BUCKET,
    },
    moto: { name: "moto", endpoint: moto.endpoint, bucket: PREPROD_BUCKET, other: PROD_BUCKET },
  });
  return async () => {
    await local?.kill();
    await moto?.stop();
  };
}
