import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CliError } from "../errors.ts";
import { parseDotenv, stageSettings } from "./settings.ts";
import { REGISTRY } from "./testing.ts";

describe("parseDotenv", () => {
  it("reads KEY=value lines, quotes, export and comments", () => {
    expect(
      parseDotenv(
        [
          "# a comment",
          "GANTRY_SENDER=gantry@acme.dev # the sender",
          'export GANTRY_NOTIFY_EMAILS="a@acme.dev, b@acme.dev" # quoted',
          "GANTRY_LOG_LEVEL = 'DEBUG'",
          "not a line",
          "EMPTY=",
        ].join("\n"),
      ),
    ).toEqual({
      GANTRY_SENDER: "gantry@acme.dev",
      GANTRY_NOTIFY_EMAILS: "a@acme.dev, b@acme.dev",
      GANTRY_LOG_LEVEL: "DEBUG",
      EMPTY: "",
    });
  });
});

describe("stageSettings", () => {
  const root = () => {
    const dir = mkdtempSync(join(tmpdir(), "gantry-settings-"));
    writeFileSync(join(dir, ".env"), "GANTRY_SENDER=base@acme.dev\nGANTRY_LOG_LEVEL=WARN\n");
    writeFileSync(join(dir, ".env.prod"), "GANTRY_SENDER=prod@acme.dev\n");
    return dir;
  };

  it("takes options over the environment over .env.<stage> over .env", () => {
    const dir = root();
    const read = (env: Record<string, string>, options: Record<string, string> = {}) =>
      stageSettings({ stage: "prod", registry: REGISTRY, env, root: dir, options });
    expect(read({}).config).toMatchObject({ sender: "prod@acme.dev", logLevel: "WARN" });
    expect(read({}).files).toEqual([join(dir, ".env"), join(dir, ".env.prod")]);
    expect(read({ GANTRY_SENDER: "env@acme.dev" }).config.sender).toBe("env@acme.dev");
    expect(
      read({ GANTRY_SENDER: "env@acme.dev" }, { sender: "option@acme.dev" }).config.sender,
    ).toBe("option@acme.dev");
  });

  it("refuses what sst deploy refuses (exit 2), naming the option to pass", () => {
    const refused = (() => {
      try {
        stageSettings({
          stage: "prod",
          registry: REGISTRY,
          env: {},
          root: mkdtempSync(join(tmpdir(), "gantry-settings-")),
          options: { sender: "gantry@acme.dev", "sender-identity": "other.dev" },
        });
      } catch (error) {
        return error;
      }
      throw new Error("expected an error");
    })() as CliError;
    expect(refused).toBeInstanceOf(CliError);
    expect(refused.exitCode).toBe(2);
    expect(refused.message).toContain(
      "GANTRY_SENDER_IDENTITY must be the sender address or its domain",
    );
    expect(refused.hints[0]).toContain("pass --sender-identity");
  });
});
