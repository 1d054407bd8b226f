import { ConfigurationError } from "@gantry/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { lazy, requiredEnv, stageFromEnv } from "./config.ts";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("requiredEnv", () => {
  it("returns the variable's value", () => {
    vi.stubEnv("GANTRY_STATE_BUCKET", "acme-gantry-state-prod");
    expect(requiredEnv("GANTRY_STATE_BUCKET")).toBe("acme-gantry-state-prod");
  });

  it("throws ConfigurationError naming a missing variable", () => {
    vi.stubEnv("GANTRY_STATE_BUCKET", undefined);
    expect(() => requiredEnv("GANTRY_STATE_BUCKET")).toThrow(
      new ConfigurationError("GANTRY_STATE_BUCKET is not set"),
    );
    expect(() => requiredEnv("GANTRY_STATE_BUCKET")).toThrow(ConfigurationError);
  });

  it("treats an empty variable as missing", () => {
    vi.stubEnv("GANTRY_STATE_BUCKET", "");
    expect(() => requiredEnv("GANTRY_STATE_BUCKET")).toThrow(/GANTRY_STATE_BUCKET is not set/);
  });
});

describe("stageFromEnv", () => {
  it.each(["preprod", "prod"])("accepts %s", (stage) => {
    vi.stubEnv("GANTRY_STAGE", stage);
    expect(stageFromEnv()).toBe(stage);
  });

  it("refuses an unknown stage with ConfigurationError listing the stages", () => {
    vi.stubEnv("GANTRY_STAGE", "staging");
    expect(() => stageFromEnv()).toThrow(
      new ConfigurationError("GANTRY_STAGE must be one of preprod, prod, got staging"),
    );
  });

  it("throws ConfigurationError when GANTRY_STAGE is missing", () => {
    vi.stubEnv("GANTRY_STAGE", undefined);
    expect(() => stageFromEnv()).toThrow(ConfigurationError);
  });
});

describe("lazy", () => {
  it("builds nothing until a property is read", () => {
    const factory = vi.fn(() => ({ client: "s3" }));
    lazy({ records: factory });
    expect(factory).not.toHaveBeenCalled();
  });

  it("builds a property on its first read and returns the same value after", () => {
    const factory = vi.fn(() => ({ client: "s3" }));
    const deps = lazy({ records: factory });
    const first = deps.records;
    const second = deps.records;
    expect(first).toEqual({ client: "s3" });
    expect(second).toBe(first);
    expect(factory).toHaveBeenCalledTimes(1);
  });

  it("builds each property independently", () => {
    const records = vi.fn(() => "records");
    const mailer = vi.fn(() => "mailer");
    const deps = lazy({ records, mailer });
    expect(deps.mailer).toBe("mailer");
    expect(mailer).toHaveBeenCalledTimes(1);
    expect(records).not.toHaveBeenCalled();
  });

  it("does not read settings at construction, so a missing one fails only on use", () => {
    vi.stubEnv("GANTRY_STATE_BUCKET", undefined);
    const deps = lazy({ bucket: () => requiredEnv("GANTRY_STATE_BUCKET") });
    expect(() => deps.bucket).toThrow(ConfigurationError);
  });

  it("lists its properties as enumerable keys", () => {
    const deps = lazy({ a: () => 1, b: () => 2 });
    expect(Object.keys(deps)).toEqual(["a", "b"]);
  });
});
