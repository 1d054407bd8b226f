import { describe, expect, it } from "vitest";
import * as errors from "./errors.ts";
import {
  boundedError,
  CanaryFailed,
  FAILURE_NAMES,
  GantryError,
  InvalidInput,
  isFailureName,
  isGantryError,
  MAX_ERROR_MESSAGE_LENGTH,
  MAX_ERROR_STACK_FRAMES,
} from "./errors.ts";

type ErrorClass = new (...args: never[]) => GantryError;

const classes = (Object.entries(errors) as [string, unknown][]).filter(
  (entry): entry is [string, ErrorClass] =>
    typeof entry[1] === "function" &&
    entry[1] !== GantryError &&
    entry[1].prototype instanceof GantryError,
);

function instance(name: string, Class: ErrorClass): GantryError {
  const Make = Class as unknown as new (arg: unknown) => GantryError;
  return name === "InvalidInput"
    ? new Make([{ field: "service", reason: "is required" }])
    : new Make("why");
}

describe("named errors", () => {
  it("exports one class per failure name plus TransientError and ConfigurationError", () => {
    expect(classes.map(([name]) => name).sort()).toEqual(
      [...FAILURE_NAMES, "TransientError", "ConfigurationError"].sort(),
    );
  });

  it.each(classes)("%s has a name equal to its class name", (exported, Class) => {
    const error = instance(exported, Class);
    expect(error.name).toBe(exported);
    expect(error.name).toBe(Class.name);
    expect(error).toBeInstanceOf(Error);
    expect(isGantryError(error)).toBe(true);
  });

  it.each(classes)(
    "%s is a failure name or one of the two retry/config names",
    (exported, Class) => {
      const name = instance(exported, Class).name;
      const special = name === "TransientError" || name === "ConfigurationError";
      expect(isFailureName(name)).toBe(!special);
    },
  );

  it("keeps the message given", () => {
    expect(new errors.CanaryFailed("GET /hello returned 500").message).toBe(
      "GET /hello returned 500",
    );
  });

  it("InvalidInput keeps its issues and lists them in the message", () => {
    const issues = [
      { field: "service", reason: "is required" },
      { field: "artifact.key", reason: "must name a .zip file" },
    ];
    const error = new InvalidInput(issues);
    expect(error.issues).toEqual(issues);
    expect(error.message).toBe("service: is required; artifact.key: must name a .zip file");
  });
});

describe("isFailureName", () => {
  it.each([...FAILURE_NAMES])("is true for %s", (name) => {
    expect(isFailureName(name)).toBe(true);
  });

  it.each([
    "TransientError",
    "ConfigurationError",
    "States.Timeout",
    "Lambda.Unknown",
    "Error",
    "invalidinput",
    "",
  ])("is false for %j", (name) => {
    expect(isFailureName(name)).toBe(false);
  });
});

describe("isGantryError", () => {
  it("is false for plain errors and non-errors", () => {
    expect(isGantryError(new Error("x"))).toBe(false);
    expect(isGantryError(Object.assign(new Error("x"), { name: "CanaryFailed" }))).toBe(false);
    expect(isGantryError({ name: "CanaryFailed", message: "x" })).toBe(false);
    expect(isGantryError(undefined)).toBe(false);
  });
});

describe("boundedError", () => {
  it("cuts a long message and a deep stack, keeping the name Retry and Catch match on", () => {
    const error = new CanaryFailed("x".repeat(10_000));
    error.stack = [
      `CanaryFailed: ${error.message}`,
      ...Array.from({ length: 50 }, (_, i) => `    at f${i} (file.js:1:1)`),
    ].join("\n");
    const bounded = boundedError(error);
    expect(bounded).toBe(error);
    expect(bounded.name).toBe("CanaryFailed");
    expect(bounded.message).toBe(`${"x".repeat(MAX_ERROR_MESSAGE_LENGTH)}…`);
    expect(bounded.stack?.split("\n")).toHaveLength(1 + MAX_ERROR_STACK_FRAMES);
    expect(bounded.stack?.split("\n")[1]).toBe("    at f0 (file.js:1:1)");
  });

  it("leaves a short error's message as it is", () => {
    expect(boundedError(new CanaryFailed("short")).message).toBe("short");
  });
});
