import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { ConfigurationError, signingKeysFrom } from "@gantry/core";
import { rejectionOf } from "@gantry/core/testing";
import { type AwsClientStub, mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { secretsManagerKeys } from "./secrets.ts";

const CURRENT = "current-secret-0123456789abcdefghijkl";
const PREVIOUS = "previous-secret-0123456789abcdefghijk";
const SECRET_ARN =
  "arn:aws:secretsmanager:us-east-1:123456789012:secret:gantry-prod-link-keys-AbCdEf";
const env = { GANTRY_LINK_KEYS_SECRET: SECRET_ARN, GANTRY_DECISION_KEYS_SECRET: "decisions" };

let client: SecretsManagerClient;
let mock: AwsClientStub<SecretsManagerClient>;

beforeEach(() => {
  client = new SecretsManagerClient({
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  mock = mockClient(client);
});

const stored = (value: unknown) => ({ SecretString: JSON.stringify(value) });

describe("secretsManagerKeys", () => {
  it("reads the key set from the secret the setting names, at run time", async () => {
    mock.on(GetSecretValueCommand).resolves(stored({ current: CURRENT, previous: PREVIOUS }));
    const keys = await secretsManagerKeys("links", { client, env }).signingKeys();
    expect(keys.current).toEqual(signingKeysFrom(CURRENT).current);
    expect(keys.previous.map((k) => k.secret)).toEqual([PREVIOUS]);
    expect(mock.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: SECRET_ARN,
    });
  });

  it("reads the decision keys from their own secret", async () => {
    mock.on(GetSecretValueCommand).resolves(stored({ current: CURRENT }));
    await secretsManagerKeys("decisions", { client, env }).signingKeys();
    expect(mock.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: "decisions",
    });
  });

  it("caches the keys: one read serves the next invocations", async () => {
    mock.on(GetSecretValueCommand).resolves(stored({ current: CURRENT }));
    const source = secretsManagerKeys("links", { client, env });
    await source.signingKeys();
    await source.signingKeys();
    expect(mock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it("treats an empty previous key as no rotation under way", async () => {
    mock.on(GetSecretValueCommand).resolves(stored({ current: CURRENT, previous: "" }));
    const keys = await secretsManagerKeys("links", { client, env }).signingKeys();
    expect(keys.previous).toEqual([]);
  });

  it("names the missing setting before any call", async () => {
    const error = await rejectionOf(
      secretsManagerKeys("decisions", { client, env: {} }).signingKeys(),
    );
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toBe("GANTRY_DECISION_KEYS_SECRET is not set");
    expect(mock.calls()).toHaveLength(0);
  });

  it("names the secret's setting when it cannot be read, and never echoes a value", async () => {
    mock
      .on(GetSecretValueCommand)
      .rejects(new ResourceNotFoundException({ message: "not found", $metadata: {} }));
    const error = await rejectionOf(secretsManagerKeys("links", { client, env }).signingKeys());
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toContain("GANTRY_LINK_KEYS_SECRET");
    expect(error.message).toContain("ResourceNotFoundException");
  });

  it("turns throttling into TransientError, which the state machine retries", async () => {
    mock.on(GetSecretValueCommand).rejects(
      Object.assign(new Error("Rate exceeded"), {
        name: "ThrottlingException",
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const error = await rejectionOf(secretsManagerKeys("links", { client, env }).signingKeys());
    expect(error.name).toBe("TransientError");
    expect(error.message).toContain("ThrottlingException");
  });

  it("refuses a short key without echoing it", async () => {
    mock.on(GetSecretValueCommand).resolves(stored({ current: "too-short-secret" }));
    const error = await rejectionOf(secretsManagerKeys("links", { client, env }).signingKeys());
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toContain("at least 32 characters");
    expect(error.message).not.toContain("too-short-secret");
  });

  it("reads the secret again after refusing it, so a fixed secret needs no restart", async () => {
    mock
      .on(GetSecretValueCommand)
      .resolvesOnce(stored({ current: "too-short-secret" }))
      .resolves(stored({ current: CURRENT }));
    const source = secretsManagerKeys("links", { client, env });
    await expect(source.signingKeys()).rejects.toBeInstanceOf(ConfigurationError);
    expect((await source.signingKeys()).current.secret).toBe(CURRENT);
  });

  it("refuses a secret that is not the JSON key set", async () => {
    mock.on(GetSecretValueCommand).resolves({ SecretString: CURRENT });
    const error = await rejectionOf(secretsManagerKeys("links", { client, env }).signingKeys());
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).not.toContain(CURRENT);
  });
});
