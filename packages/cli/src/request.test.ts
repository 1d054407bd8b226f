import { defineRegistry, type Registry } from "@gantry/core";
import { testRegistry } from "@gantry/core/testing";
import { describe, expect, it } from "vitest";
import { CliError } from "./errors.ts";
import { requestInput, validateRequest } from "./request.ts";

/** A registry with hello-service alone (artifact prefix hello-service/). */
const fixture = testRegistry();
const registry = defineRegistry({
  ...fixture,
  services: { "hello-service": fixture.services["hello-service"] as Registry["services"][string] },
});

const good = {
  service: "hello-service",
  version: "3f2a9c1",
  artifactKey: "hello-service/3f2a9c1/build.zip",
  sha256: "a".repeat(64),
  actor: "octocat",
};

function refused(
  values: Parameters<typeof validateRequest>[0],
  reg: Registry = registry,
): CliError {
  try {
    validateRequest(values, reg, "prod");
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error("expected the request to be refused");
}

describe("validateRequest", () => {
  it("returns the request StartExecution will get", () => {
    expect(
      validateRequest({ ...good, ciRunUrl: "https://ci.example/1" }, registry, "prod"),
    ).toEqual({
      service: "hello-service",
      version: "3f2a9c1",
      artifact: { key: "hello-service/3f2a9c1/build.zip", sha256: "a".repeat(64) },
      trigger: { actor: "octocat", ciRunUrl: "https://ci.example/1" },
    });
    expect(requestInput({ service: "s" })).toEqual({ service: "s", artifact: {}, trigger: {} });
  });

  it("names every problem by its flag, with exit 2", () => {
    const error = refused({ ...good, version: "HEAD", sha256: undefined, actor: "bad actor!" });
    expect(error.exitCode).toBe(2);
    expect(error.details?.issues).toEqual([
      { field: "--version", reason: "must be a git commit SHA: 7 to 40 lowercase hex characters" },
      { field: "--sha256", reason: "is required" },
      {
        field: "--actor",
        reason: "must be 1 to 100 characters: letters, digits and . _ @ + [ ] -",
      },
    ]);
  });

  it("lists the known services for an unknown one, even alongside other problems", () => {
    expect(
      refused({ ...good, service: "billing", artifactKey: "billing/x.zip" }).details?.issues,
    ).toEqual([
      { field: "--service", reason: "is not a registered service (known: hello-service)" },
    ]);
    expect(refused({ ...good, service: "billing", version: "x" }).details?.issues).toContainEqual({
      field: "--service",
      reason: "is not a registered service (known: hello-service)",
    });
  });

  it.each(["constructor", "__proto__", "toString"])(
    "refuses %s as a service: the registry is looked up by its own names only",
    (service) => {
      expect(
        refused({ ...good, service, version: "x", artifactKey: `${service}/x.zip` }).details
          ?.issues,
      ).toContainEqual({
        field: "--service",
        reason: "is not a registered service (known: hello-service)",
      });
    },
  );

  it("applies the registry's artifact prefix", () => {
    expect(refused({ ...good, artifactKey: "other/build.zip" }).message).toContain(
      "--artifact-key: must start with hello-service/",
    );
  });
});

describe("--fix-for in the request", () => {
  /** The fixture registry with the version analysis on in prod, which a fix needs. */
  const prod = registry.services["hello-service"]?.stages.prod;
  const analysed = defineRegistry({
    ...registry,
    services: {
      "hello-service": {
        ...(registry.services["hello-service"] as Registry["services"][string]),
        stages: {
          ...(registry.services["hello-service"]?.stages as Registry["services"][string]["stages"]),
          prod: { ...(prod as NonNullable<typeof prod>), analysis: {} },
        },
      },
    },
  });

  it("goes into the request's fixFor, in order", () => {
    const request = validateRequest(
      { ...good, fixFor: ["hello-prod-latency", "hello-prod-errors"] },
      analysed,
      "prod",
    );
    expect(request.fixFor).toEqual(["hello-prod-latency", "hello-prod-errors"]);
  });

  it("leaves fixFor out of an ordinary deployment's input altogether", () => {
    expect(requestInput({ ...good, fixFor: [] })).not.toHaveProperty("fixFor");
    expect(requestInput(good)).not.toHaveProperty("fixFor");
    expect(validateRequest({ ...good, fixFor: [] }, analysed, "prod")).not.toHaveProperty("fixFor");
  });

  it("names an alarm the stage does not watch by the flag", () => {
    const error = refused({ ...good, fixFor: ["someone-elses-alarm"] }, analysed);
    expect(error.exitCode).toBe(2);
    expect(error.details?.issues).toEqual([
      {
        field: "--fix-for",
        reason:
          "names alarms hello-service.prod does not watch: someone-elses-alarm (it watches: hello-prod-errors, hello-prod-latency)",
      },
    ]);
    expect(error.hints).toContain(
      "--fix-for names one of the stage's registry alarms, once per alarm",
    );
  });

  it("refuses a fix where the stage has no version analysis to judge it", () => {
    expect(refused({ ...good, fixFor: ["hello-prod-errors"] }).message).toContain(
      "--fix-for: hello-service.prod has no version analysis",
    );
  });

  it("names a bad value by its position, and a repeated alarm", () => {
    const error = refused({ ...good, fixFor: ["hello-prod-errors", "bad\u0007name"] }, analysed);
    expect(error.details?.issues).toEqual([
      { field: "--fix-for (2nd)", reason: "must be an alarm name: 1 to 255 printable characters" },
    ]);
    const repeated = refused(
      { ...good, fixFor: ["hello-prod-errors", "hello-prod-errors"] },
      analysed,
    );
    expect(repeated.details?.issues).toEqual([
      { field: "--fix-for", reason: "must not repeat an alarm" },
    ]);
  });
});
