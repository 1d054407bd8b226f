/**
 * A state machine's tags file is checked when the Step Functions opens, not when someone first
 * asks for the tags: a damaged one is quarantined and reported at start (the fault suite found
 * a truncated `gantry-prod.tags.json` reported by nothing).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StateMachineDefinition } from "aws-local-stepfunctions";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TaskTokenRegistry } from "../engine/task-tokens.ts";
import { Quarantine } from "../storage/durable-file.ts";
import { LocalStepFunctions } from "./local-step-functions.ts";

const MACHINE = "tagged";
const MACHINE_ARN = `arn:aws:states:us-east-1:000000000000:stateMachine:${MACHINE}`;
const definition = { StartAt: "Done", States: { Done: { Type: "Succeed" } } };

let dir: string;
let opened: LocalStepFunctions[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gantry-tags-"));
  opened = [];
});

afterEach(async () => {
  for (const cp of opened) await cp.shutdown().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

async function open(quarantine?: Quarantine): Promise<LocalStepFunctions> {
  const cp = await LocalStepFunctions.open({
    dir,
    tokens: new TaskTokenRegistry(),
    stateMachines: [
      {
        name: MACHINE,
        definition: definition as StateMachineDefinition,
        definitionText: JSON.stringify(definition),
        handlers: {},
      },
    ],
    log: () => undefined,
    ...(quarantine ? { quarantine } : {}),
  });
  opened.push(cp);
  return cp;
}

describe("a state machine's tags file", () => {
  for (const [how, damage] of [
    ["truncated", (text: string) => text.slice(0, Math.floor(text.length / 2))],
    ["garbled", (text: string) => `${text.slice(0, 10)}\u0000\u0007~~${text.slice(14)}`],
  ] as const) {
    it(`(${how}) is quarantined and reported when the Step Functions opens, before anyone asks for the tags`, async () => {
      const first = await open();
      first.tagResource({ resourceArn: MACHINE_ARN, tags: [{ key: "team", value: "platform" }] });
      await first.shutdown();
      const file = join(dir, "state-machines", `${MACHINE}.tags.json`);
      writeFileSync(file, damage(readFileSync(file, "utf8")));

      const lines: string[] = [];
      const quarantine = new Quarantine(dir, (line) => lines.push(line));
      const cp = await open(quarantine);
      expect(quarantine.files.map((f) => f.file)).toEqual([
        join("state-machines", `${MACHINE}.tags.json`),
      ]);
      expect(existsSync(file)).toBe(false);
      expect(lines.join("\n")).toContain(`${MACHINE}.tags.json`);
      // The machine has no tags now, and can be tagged again.
      expect(cp.listTagsForResource({ resourceArn: MACHINE_ARN })).toEqual([]);
      cp.tagResource({ resourceArn: MACHINE_ARN, tags: [{ key: "team", value: "platform" }] });
      expect(cp.listTagsForResource({ resourceArn: MACHINE_ARN })).toEqual([
        { key: "team", value: "platform" },
      ]);
      expect(quarantine.files).toHaveLength(1);
    });
  }

  it("an intact tags file is read at open and reported by nothing", async () => {
    const first = await open();
    first.tagResource({ resourceArn: MACHINE_ARN, tags: [{ key: "team", value: "platform" }] });
    await first.shutdown();
    const quarantine = new Quarantine(dir, () => undefined);
    const cp = await open(quarantine);
    expect(quarantine.files).toEqual([]);
    expect(cp.listTagsForResource({ resourceArn: MACHINE_ARN })).toEqual([
      { key: "team", value: "platform" },
    ]);
  });
});
