import {
  MessageRejected,
  SESv2Client,
  SESv2ServiceException,
  SendEmailCommand,
} from "@aws-sdk/client-sesv2";
import { TransientError } from "@gantry/core";
import { type AwsClientStub, mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { SesMailer } from "./ses-mailer.ts";

const MESSAGE = {
  from: "gantry@acme.dev",
  to: ["alice@acme.dev", "bob@acme.dev"],
  subject: "Approve hello-service 1.4.0 for prod",
  text: "Approve: https://gantry.acme.dev/approve?...",
  html: "<p>Approve</p>",
};

let ses: SESv2Client;
let mock: AwsClientStub<SESv2Client>;

beforeEach(() => {
  ses = new SESv2Client({
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  mock = mockClient(ses);
});

describe("SesMailer.send", () => {
  it("sends a simple UTF-8 email with text and HTML bodies to every recipient", async () => {
    mock.on(SendEmailCommand).resolves({ MessageId: "m-1" });
    await expect(new SesMailer(ses).send(MESSAGE)).resolves.toBeUndefined();
    expect(mock.commandCalls(SendEmailCommand)[0]?.args[0].input).toEqual({
      FromEmailAddress: "gantry@acme.dev",
      Destination: { ToAddresses: ["alice@acme.dev", "bob@acme.dev"] },
      Content: {
        Simple: {
          Subject: { Data: MESSAGE.subject, Charset: "UTF-8" },
          Body: {
            Text: { Data: MESSAGE.text, Charset: "UTF-8" },
            Html: { Data: MESSAGE.html, Charset: "UTF-8" },
          },
        },
      },
    });
  });

  it("passes a rejected message through (unverified sender)", async () => {
    const original = new MessageRejected({
      $metadata: { httpStatusCode: 400 },
      message: "Email address not verified",
    });
    mock.on(SendEmailCommand).rejects(original);
    await expect(new SesMailer(ses).send(MESSAGE)).rejects.toBe(original);
  });

  it("turns throttling into TransientError with the original as cause", async () => {
    const original = new SESv2ServiceException({
      name: "TooManyRequestsException",
      message: "Too many requests",
      $fault: "client",
      $metadata: { httpStatusCode: 429 },
    });
    mock.on(SendEmailCommand).rejects(original);
    const error = await new SesMailer(ses).send(MESSAGE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).cause).toBe(original);
  });
});
