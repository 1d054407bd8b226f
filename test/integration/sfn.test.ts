import { CreateStateMachineCommand, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { SfnWorkflowCallbacks } from "@gantry/aws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsConfig, MOTO_ACCOUNT, type Moto, startMoto } from "../support/moto.ts";

let moto: Moto;
let sfn: SFNClient;
let stateMachineArn: string;

beforeAll(async () => {
  moto = await startMoto();
  sfn = new SFNClient(awsConfig(moto.endpoint));
  const created = await sfn.send(
    new CreateStateMachineCommand({
      name: "gantry-test-deploy",
      roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/gantry-test-sfn`,
      definition: JSON.stringify({
        StartAt: "Hello",
        States: { Hello: { Type: "Pass", End: true } },
      }),
    }),
  );
  stateMachineArn = created.stateMachineArn ?? "";
});

afterAll(async () => {
  sfn?.destroy();
  await moto?.stop();
});

describe("SfnWorkflowCallbacks.executionStatus on moto", () => {
  it("returns undefined for an execution that does not exist", async () => {
    const missing = `arn:aws:states:us-east-1:${MOTO_ACCOUNT}:execution:gantry-test-deploy:never-started`;
    await expect(new SfnWorkflowCallbacks(sfn).executionStatus(missing)).resolves.toBeUndefined();
  });

  it("returns the status of an execution that was started", async () => {
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, name: "run-1", input: "{}" }),
    );
    const status = await new SfnWorkflowCallbacks(sfn).executionStatus(started.executionArn ?? "");
    // moto reports a started execution as RUNNING (it does not run Pass states).
    expect(status).toBe("RUNNING");
  });
});
