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
