import { CreateEmailIdentityCommand, SESv2Client } from "@aws-sdk/client-sesv2";
import { SesMailer } from "@gantry/aws";
import type { EmailMessage } from "@gantry/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsConfig, type Moto, startMoto } from "../support/moto.ts";

let moto: Moto;
let ses: SESv2Client;

const message = (from: string): EmailMessage => ({
  from,
  to: ["alice@example.com"],
  subject: "Approve hello-service 1.4.0 for prod",
  text: "Approve or reject: https://gantry.example.com/approvals/abc",
  html: '<p><a href="https://gantry.example.com/approvals/abc">Approve or reject</a></p>',
});

beforeAll(async () => {
  moto = await startMoto();
  ses = new SESv2Client(awsConfig(moto.endpoint));
  await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: "gantry@example.com" }));
});

afterAll(async () => {
  ses?.destroy();
  await moto?.stop();
});

describe("SesMailer on moto", () => {
  it("sends from a verified sender identity", async () => {
    await expect(new SesMailer(ses).send(message("gantry@example.com"))).resolves.toBeUndefined();
  });

  it("surfaces SES's rejection of an unverified sender", async () => {
    await expect(new SesMailer(ses).send(message("stranger@example.org"))).rejects.toMatchObject({
      name: "MessageRejected",
      message: expect.stringContaining("not verified"),
    });
  });
});
