import { describe, expect, it } from "vitest";
import { integerOption, listOption, parseCommandLine, stageOption } from "./args.ts";
import { UsageError } from "./errors.ts";

function usageError(run: () => unknown): UsageError {
  try {
    run();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error("expected a UsageError");
}

describe("parseCommandLine", () => {
  it("parses a command with its options and positional", () => {
    const line = parseCommandLine(["status", "hello-1", "--stage", "prod", "--json"]);
    expect(line).toMatchObject({
      kind: "run",
      command: { name: "status" },
      options: { stage: "prod", json: true },
      positional: "hello-1",
    });
  });

  it("parses two-word commands and --opt=value", () => {
    const line = parseCommandLine(["artifact", "publish", "--file=build.zip", "--service", "s"]);
    expect(line).toMatchObject({
      kind: "run",
      command: { name: "artifact publish" },
      options: { file: "build.zip", service: "s" },
    });
  });

  it("accepts the target options on every command", () => {
    const line = parseCommandLine(["list", "--endpoint", "http://127.0.0.1:8083", "--aws"]);
    expect(line).toMatchObject({ options: { endpoint: "http://127.0.0.1:8083", aws: true } });
  });

  it("answers --help, -h, help <command> and --version", () => {
    expect(parseCommandLine(["--help"])).toEqual({ kind: "help" });
    expect(parseCommandLine(["deploy", "-h"])).toMatchObject({
      kind: "help",
      command: { name: "deploy" },
    });
    expect(parseCommandLine(["help", "artifact", "validate"])).toMatchObject({
      kind: "help",
      command: { name: "artifact validate" },
    });
    expect(parseCommandLine(["--version"])).toEqual({ kind: "version" });
  });

  it("refuses unknown commands and options, missing values and stray arguments", () => {
    expect(usageError(() => parseCommandLine([])).message).toBe("which command?");
    expect(usageError(() => parseCommandLine(["deploi"])).message).toBe("unknown command: deploi");
    expect(usageError(() => parseCommandLine(["deploi"])).hints).toEqual([
      "did you mean `gantry deploy`?",
    ]);
    expect(usageError(() => parseCommandLine(["artifact"])).message).toContain(
      "needs a subcommand",
    );
    const unknown = usageError(() => parseCommandLine(["deploy", "--nope"]));
    expect(unknown.message).toBe("unknown option --nope");
    expect(unknown.command).toBe("deploy");
    expect(usageError(() => parseCommandLine(["deploy", "--stage"])).message).toBe(
      "--stage needs a value",
    );
    expect(usageError(() => parseCommandLine(["deploy", "--wait=yes"])).message).toBe(
      "--wait takes no value",
    );
    expect(usageError(() => parseCommandLine(["deploy", "extra"])).message).toBe(
      "unexpected argument: extra",
    );
    expect(usageError(() => parseCommandLine(["status"])).message).toBe("missing <execution>");
    expect(usageError(() => parseCommandLine(["status", "a", "b"])).message).toBe(
      "unexpected argument: b",
    );
    expect(usageError(() => parseCommandLine(["deploy", "--stage", " "])).message).toBe(
      "--stage needs a value",
    );
  });
});

describe("option helpers", () => {
  it("checks --stage", () => {
    expect(stageOption("deploy", { stage: "prod" }, true)).toBe("prod");
    expect(stageOption("status", {}, false)).toBeUndefined();
    expect(usageError(() => stageOption("deploy", {}, true)).message).toContain(
      "--stage is required",
    );
    expect(usageError(() => stageOption("deploy", { stage: "qa" }, true)).message).toBe(
      "--stage must be preprod or prod, got qa",
    );
  });

  it("checks whole numbers", () => {
    expect(integerOption("deploy", { attempt: "3" }, "attempt", 1, 999)).toBe(3);
    expect(integerOption("deploy", {}, "attempt", 1, 999)).toBeUndefined();
    for (const bad of ["0", "1000", "1.5", "-1", "two"]) {
      expect(
        usageError(() => integerOption("deploy", { attempt: bad }, "attempt", 1, 999)).message,
      ).toBe("--attempt must be a whole number from 1 to 999");
    }
  });
});

describe("--fix-for, a repeatable option", () => {
  it("keeps every value, in order", () => {
    const line = parseCommandLine([
      "deploy",
      "--fix-for",
      "api-errors",
      "--stage",
      "prod",
      "--fix-for=api-latency",
    ]);
    expect(line).toMatchObject({
      kind: "run",
      options: { "fix-for": ["api-errors", "api-latency"] },
    });
    if (line.kind !== "run") throw new Error("expected a command to run");
    expect(listOption(line.options, "fix-for")).toEqual(["api-errors", "api-latency"]);
  });

  it("is a list of one when given once, and empty when not given", () => {
    const once = parseCommandLine(["deploy", "--fix-for", " api-errors "]);
    if (once.kind !== "run") throw new Error("expected a command to run");
    expect(listOption(once.options, "fix-for")).toEqual(["api-errors"]);
    const none = parseCommandLine(["deploy", "--stage", "prod"]);
    if (none.kind !== "run") throw new Error("expected a command to run");
    expect(listOption(none.options, "fix-for")).toEqual([]);
  });

  it("refuses an empty value, even among good ones, and a missing one", () => {
    for (const argv of [
      ["deploy", "--fix-for", ""],
      ["deploy", "--fix-for", "api-errors", "--fix-for", "  "],
      ["deploy", "--fix-for="],
      ["deploy", "--fix-for"],
    ]) {
      const error = usageError(() => parseCommandLine(argv));
      expect(error.message).toBe("--fix-for needs a value");
      expect(error.command).toBe("deploy");
    }
  });

  it("is deploy's alone", () => {
    expect(usageError(() => parseCommandLine(["status", "x", "--fix-for", "a"])).message).toBe(
      "unknown option --fix-for",
    );
  });

  it("reads a plain string value as a list of one (options built by hand)", () => {
    expect(listOption({ "fix-for": "api-errors" }, "fix-for")).toEqual(["api-errors"]);
    expect(listOption({ "fix-for": true }, "fix-for")).toEqual([]);
  });
});
