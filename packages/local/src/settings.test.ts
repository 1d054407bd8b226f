import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defineLocalConfig, LocalConfigError } from "./local-config.ts";
import { placeholderCode } from "./placeholder.ts";
import { localSettings, SettingError } from "./settings.ts";
import { LocalFunctions } from "./world/functions.ts";

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gantry-settings-"));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A registry module with two services, as plain data (no imports: it lives in a temp dir). */
function writeRegistry(): string {
  const target = (name: string) => ({
    functionName: name,
    alias: "live",
    alarms: [],
    rollout: { steps: [50], stepWaitSeconds: 60, pollSeconds: 20, bakeSeconds: 120 },
    verifyPreprod: false,
  });
  const service = (name: string) => ({
    canary: { checks: [{ name: "ping", event: { rawPath: "/" }, expect: { statusCode: 200 } }] },
    stages: { preprod: target(`${name}-preprod`), prod: target(`${name}-prod`) },
  });
  const registry = {
    stages: {
      preprod: { sourceBucket: "a-preprod", artifactBucket: "a-preprod" },
      prod: { sourceBucket: "a-preprod", artifactBucket: "a-prod" },
    },
    services: { configured: service("configured"), theirs: service("theirs") },
  };
  const file = join(dir, "registry.mjs");
  writeFileSync(file, `export default ${JSON.stringify(registry)};\n`);
  return file;
}

function writeModule(name: string, source: string): string {
  const file = join(dir, name);
  writeFileSync(file, source);
  return file;
}

describe("localSettings: the services' code and traffic come from the app's local configuration", () => {
  it("gives a configured service its code and traffic, and any other one the placeholder", async () => {
    const config = writeModule(
      "local.mjs",
      `export default {
        services: {
          configured: {
            initialCode: (stage) => new TextEncoder().encode("zip for " + stage),
            traffic: { prod: [{ rawPath: "/real" }] },
          },
        },
        hints: ["npm run something   does something"],
      };\n`,
    );
    const settings = await localSettings({
      GANTRY_HOME: join(dir, "home"),
      GANTRY_REGISTRY: writeRegistry(),
      GANTRY_LOCAL_CONFIG: config,
    });
    expect(settings.localConfigFile).toBe(config);
    expect(settings.localConfig.hints).toEqual(["npm run something   does something"]);
    expect(new TextDecoder().decode(settings.initialCode?.("configured", "prod"))).toBe(
      "zip for prod",
    );
    expect(settings.initialCode?.("theirs", "prod")).toEqual(placeholderCode());
    expect(settings.trafficEvents?.("configured", "prod")).toEqual([{ rawPath: "/real" }]);
    // No traffic given: the local world falls back to the canary's events.
    expect(settings.trafficEvents?.("configured", "preprod")).toBeUndefined();
    expect(settings.trafficEvents?.("theirs", "prod")).toBeUndefined();
  });

  it("refuses a GANTRY_LOCAL_CONFIG that does not exist, or does not hold a configuration", async () => {
    const env = { GANTRY_HOME: join(dir, "home"), GANTRY_REGISTRY: writeRegistry() };
    await expect(
      localSettings({ ...env, GANTRY_LOCAL_CONFIG: join(dir, "missing.ts") }),
    ).rejects.toThrow(SettingError);
    const bad = writeModule(
      "bad.mjs",
      `export default { services: { x: { traffic: { qa: [] } } } };\n`,
    );
    await expect(localSettings({ ...env, GANTRY_LOCAL_CONFIG: bad })).rejects.toThrow(
      /services\.x\.traffic\.qa: not a stage/,
    );
    const none = writeModule("none.mjs", "export const services = {};\n");
    await expect(localSettings({ ...env, GANTRY_LOCAL_CONFIG: none })).rejects.toThrow(
      /no default export/,
    );
  });
});

describe("defineLocalConfig", () => {
  it("returns a valid configuration as it is, and names every problem of an invalid one", () => {
    const config = { services: { a: { initialCode: () => new Uint8Array() } } };
    expect(defineLocalConfig(config)).toBe(config);
    const invalid = () =>
      defineLocalConfig({
        services: {
          a: { initialCode: "zip" as never, traffic: { prod: [] } },
        },
        hints: [1 as never],
      });
    expect(invalid).toThrow(LocalConfigError);
    expect(invalid).toThrow(/hints: must be an array of strings/);
    expect(invalid).toThrow(/services\.a\.initialCode: must be a function/);
    expect(invalid).toThrow(/services\.a\.traffic\.prod: must be a non-empty array/);
  });
});

describe("the placeholder artifact", () => {
  it("answers 200 to every event, naming its function", async () => {
    const functions = new LocalFunctions({
      dir: join(dir, "functions"),
      readObject: async () => undefined,
    });
    try {
      await functions.createFunction("theirs-prod", "live", placeholderCode());
      for (const event of [
        {},
        { rawPath: "/anything", requestContext: { http: { method: "POST" } } },
      ]) {
        const result = await functions.invoke("theirs-prod", "live", event);
        expect(result.functionError).toBeUndefined();
        expect(result.payload).toMatchObject({
          statusCode: 200,
          body: expect.stringContaining("placeholder for theirs-prod"),
        });
      }
    } finally {
      await functions.close();
    }
  });
});

describe("localSettings: execution retention", () => {
  it("keeps finished executions 90 days and 1,000 per state machine unless told otherwise", async () => {
    const registry = writeRegistry();
    const base = { GANTRY_REGISTRY: registry, GANTRY_LOCAL_CONFIG: "", GANTRY_HOME: dir };
    expect((await localSettings(base)).retention).toEqual({ maxAgeDays: 90, maxCount: 1000 });
    expect(
      (await localSettings({ ...base, GANTRY_RETENTION_DAYS: "7", GANTRY_RETENTION_COUNT: "50" }))
        .retention,
    ).toEqual({ maxAgeDays: 7, maxCount: 50 });
    await expect(localSettings({ ...base, GANTRY_RETENTION_COUNT: "0" })).rejects.toThrow(
      SettingError,
    );
    await expect(localSettings({ ...base, GANTRY_RETENTION_DAYS: "-1" })).rejects.toThrow(
      SettingError,
    );
  });
});
