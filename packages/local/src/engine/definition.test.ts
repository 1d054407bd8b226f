import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { loadWorkflowDefinition, localFunctionArn } from "./definition.ts";

const POLLING = fileURLToPath(
  new URL("../../../../test/bench/designs/polling.asl.json", import.meta.url),
);

/** How the ASL names a function: `${<Key>FunctionArn}`. */
const placeholder = (key: string) => `\${${key}FunctionArn}`;

describe("loadWorkflowDefinition", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("runs the deployed ASL with every function's ARN", () => {
    const { text } = loadWorkflowDefinition("prod");
    expect(text).not.toMatch(/\$\{[A-Za-z]+FunctionArn\}/);
    expect(text).toContain(localFunctionArn("prod", "Hold"));
  });

  it("runs another ASL (the bench's polling baseline) with only the ARNs it names", () => {
    const { text } = loadWorkflowDefinition("prod", POLLING);
    expect(text).not.toMatch(/\$\{[A-Za-z]+FunctionArn\}/);
    expect(text).toContain(localFunctionArn("prod", "CheckAlarms"));
    expect(text).not.toContain(localFunctionArn("prod", "Hold"));
  });

  it("still refuses a placeholder no function answers to in another ASL", () => {
    const dir = mkdtempSync(join(tmpdir(), "gantry-definition-"));
    dirs.push(dir);
    const path = join(dir, "other.asl.json");
    writeFileSync(
      path,
      readFileSync(POLLING, "utf8").replace(placeholder("CheckAlarms"), placeholder("NoSuch")),
    );
    expect(() => loadWorkflowDefinition("prod", path)).toThrow(
      `no ARN for placeholder ${placeholder("NoSuch")}`,
    );
  });
});
