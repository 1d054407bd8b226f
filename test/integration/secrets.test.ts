/**
 * The key sets as the functions read them in AWS: Secrets Manager through Powertools Parameters
 * (the real SDK client), against moto_server's Secrets Manager.
 */
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { secretsManagerKeys } from "@gantry/aws";
import { ConfigurationError, signingKeysFrom } from "@gantry/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsConfig, type Moto, startMoto } from "../support/moto.ts";

let moto: Moto;
let client: SecretsManagerClient;

beforeAll(async () => {
  moto = await startMoto();
  client = new SecretsManagerClient(awsConfig(moto.endpoint));
});

afterAll(() => moto?.stop());

const CURRENT = "current-decision-key-0123456789abcdef";
const PREVIOUS = "previous-decision-key-0123456789abcde";

describe("secretsManagerKeys against moto_server", () => {
  it("reads the key set by the secret's ARN, as the stack hands it over", async () => {
    const created = await client.send(
      new CreateSecretCommand({
        Name: "gantry-prod-decision-keys",
        SecretString: JSON.stringify({ current: CURRENT, previous: PREVIOUS }),
      }),
    );
    const keys = await secretsManagerKeys("decisions", {
      client,
      env: { GANTRY_DECISION_KEYS_SECRET: created.ARN },
    }).signingKeys();
    expect(keys.current).toEqual(signingKeysFrom(CURRENT).current);
    expect(keys.previous.map((k) => k.secret)).toEqual([PREVIOUS]);
  });

  it("keeps what it read for a while: a rotation reaches a warm function within the cache time", async () => {
    const created = await client.send(
      new CreateSecretCommand({
        Name: "gantry-prod-link-keys",
        SecretString: JSON.stringify({ current: CURRENT, previous: "" }),
      }),
    );
    const source = secretsManagerKeys("links", {
      client,
      env: { GANTRY_LINK_KEYS_SECRET: created.ARN },
    });
    expect((await source.signingKeys()).current.secret).toBe(CURRENT);
    await client.send(
      new PutSecretValueCommand({
        SecretId: created.ARN,
        SecretString: JSON.stringify({ current: PREVIOUS, previous: CURRENT }),
      }),
    );
    expect((await source.signingKeys()).current.secret).toBe(CURRENT);
    const fresh = secretsManagerKeys("links", {
      client,
      env: { GANTRY_LINK_KEYS_SECRET: created.ARN },
    });
    expect((await fresh.signingKeys()).current.secret).toBe(PREVIOUS);
  });

  it("names the setting when the secret does not exist", async () => {
    const error = await secretsManagerKeys("decisions", {
      client,
      env: { GANTRY_DECISION_KEYS_SECRET: "gantry-prod-no-such-secret" },
    })
      .signingKeys()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toContain("GANTRY_DECISION_KEYS_SECRET");
    expect((error as Error).message).toContain("ResourceNotFoundException");
  });
});
