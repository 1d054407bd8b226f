import { ConfigurationError, signingKeysFrom } from "@gantry/core";
import { describe, expect, it } from "vitest";
import { envSigningKeys } from "./secrets.ts";

const CURRENT = "current-secret-0123456789abcdefghijkl";
const PREVIOUS = "previous-secret-0123456789abcdefghijk";
const OTHER = "other-secret-0123456789abcdefghijklmno";

const linked = (value: unknown) => JSON.stringify({ value });

describe("envSigningKeys", () => {
  it("reads the current key from the linked SST secret", async () => {
    const keys = await envSigningKeys({
      SST_RESOURCE_ApprovalSigningKey: linked(CURRENT),
    }).signingKeys();
    expect(keys.current).toEqual(signingKeysFrom(CURRENT).current);
    expect(keys.current.secret).toBe(CURRENT);
    expect(keys.previous).toEqual([]);
  });

  it("reads the previous key from the linked SST secret", async () => {
    const keys = await envSigningKeys({
      SST_RESOURCE_ApprovalSigningKey: linked(CURRENT),
      SST_RESOURCE_ApprovalSigningKeyPrevious: linked(PREVIOUS),
    }).signingKeys();
    expect(keys.current.secret).toBe(CURRENT);
    expect(keys.previous.map((k) => k.secret)).toEqual([PREVIOUS]);
    expect(keys.previous[0]?.id).not.toBe(keys.current.id);
  });

  it("falls back to GANTRY_SIGNING_KEY and GANTRY_SIGNING_KEY_PREVIOUS", async () => {
    const keys = await envSigningKeys({
      GANTRY_SIGNING_KEY: CURRENT,
      GANTRY_SIGNING_KEY_PREVIOUS: PREVIOUS,
    }).signingKeys();
    expect(keys.current.secret).toBe(CURRENT);
    expect(keys.previous.map((k) => k.secret)).toEqual([PREVIOUS]);
  });

  it("prefers the linked secret over GANTRY_SIGNING_KEY", async () => {
    const keys = await envSigningKeys({
      SST_RESOURCE_ApprovalSigningKey: linked(CURRENT),
      GANTRY_SIGNING_KEY: OTHER,
    }).signingKeys();
    expect(keys.current.secret).toBe(CURRENT);
  });

  it.each([
    ["not JSON", "not json"],
    ["JSON without a value", JSON.stringify({ other: CURRENT })],
    ["an empty value", linked("")],
    ["a non-string value", linked(42)],
  ])("falls back to GANTRY_SIGNING_KEY when the linked secret is %s", async (_label, raw) => {
    const keys = await envSigningKeys({
      SST_RESOURCE_ApprovalSigningKey: raw,
      GANTRY_SIGNING_KEY: OTHER,
    }).signingKeys();
    expect(keys.current.secret).toBe(OTHER);
  });

  it("mixes a linked current key with a GANTRY_SIGNING_KEY_PREVIOUS fallback", async () => {
    const keys = await envSigningKeys({
      SST_RESOURCE_ApprovalSigningKey: linked(CURRENT),
      GANTRY_SIGNING_KEY_PREVIOUS: PREVIOUS,
    }).signingKeys();
    expect(keys.previous.map((k) => k.secret)).toEqual([PREVIOUS]);
  });

  it.each([
    ["no key is configured", {}],
    ["the key is too short", { GANTRY_SIGNING_KEY: "short" }],
  ])("fails with a ConfigurationError naming GANTRY_SIGNING_KEY when %s", async (_label, env) => {
    const failure = envSigningKeys(env).signingKeys();
    await expect(failure).rejects.toThrow(ConfigurationError);
    await expect(failure).rejects.toThrow(
      /^GANTRY_SIGNING_KEY .*signing key must be at least 32 characters$/,
    );
  });

  it("reads the environment once and keeps the keys", async () => {
    const env: NodeJS.ProcessEnv = { GANTRY_SIGNING_KEY: CURRENT };
    const source = envSigningKeys(env);
    const first = await source.signingKeys();
    env.GANTRY_SIGNING_KEY = OTHER;
    const second = await source.signingKeys();
    expect(second).toBe(first);
    expect(second.current.secret).toBe(CURRENT);
  });
});
