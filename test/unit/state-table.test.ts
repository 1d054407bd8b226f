/**
 * The state-to-code table of docs/architecture.md ("From state to test") is true: one row per
 * Task state of the workflow and per function of the catalogue that no Task calls; each state's
 * function is the one the ASL names for it; each core step is exported by the file named beside
 * it; each port is a port, and each adapter of the ports table is exported by its file; each
 * function's handler test and contract scenarios exist; and every file the tables name exists.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FUNCTION_CATALOG, WORKFLOW_FUNCTIONS, type WorkflowFunctionKey } from "@gantry/core";
import { describe, expect, it } from "vitest";
import { SCENARIOS } from "../contract/support/scenarios.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

interface Row {
  readonly state: string;
  readonly function: string;
  readonly step: string;
  readonly ports: string;
  readonly aws: string;
  readonly local: string;
  readonly tests: string;
}

/** The markdown tables that follow a heading, each as its rows of cells (header row first). */
function tablesAfter(markdown: string, heading: string): string[][][] {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`docs/architecture.md has no "${heading}" section`);
  const end = markdown.indexOf("\n## ", start + heading.length + 2);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  const tables: string[][][] = [];
  let current: string[][] | undefined;
  for (const line of section.split("\n")) {
    if (!line.startsWith("|")) {
      current = undefined;
      continue;
    }
    const cells = line
      .slice(1, -1)
      .split("|")
      .map((cell) => cell.trim());
    if (cells.every((cell) => /^-+$/.test(cell))) continue;
    if (!current) {
      current = [];
      tables.push(current);
    }
    current.push(cells);
  }
  return tables;
}

/** The `code` spans of a cell. */
const codes = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? "");
/** The spans that name a file: a path with a directory and an extension. */
const paths = (cell: string) => codes(cell).filter((c) => /^[\w.-]+(\/[\w.-]+)+\.\w+$/.test(c));
/** The spans that name a symbol. */
const names = (cell: string) => codes(cell).filter((c) => /^[A-Za-z_]\w*$/.test(c));

const markdown = read("docs/architecture.md");
const [stateTable, portTable] = tablesAfter(markdown, "## From state to test");
const rows: Row[] = (stateTable ?? []).slice(1).map((cells) => {
  const [state = "", fn = "", step = "", ports = "", aws = "", local = "", tests = ""] = cells;
  return { state, function: fn, step, ports, aws, local, tests };
});
const portRows = (portTable ?? []).slice(1);

const asl = JSON.parse(read("state-machines/workflow.asl.json")) as {
  States: Record<
    string,
    { Type: string; Resource?: string; Parameters?: { FunctionName?: string } }
  >;
};
/** Every Task state and the function key its `${<Key>FunctionArn}` placeholder names. */
const TASKS = Object.entries(asl.States)
  .filter(([, state]) => state.Type === "Task")
  .map(([name, state]) => {
    const target = state.Parameters?.FunctionName ?? state.Resource ?? "";
    const key = /^\$\{(\w+)FunctionArn\}$/.exec(target)?.[1] as WorkflowFunctionKey | undefined;
    if (!key) throw new Error(`${name} names no function placeholder`);
    return { name, file: WORKFLOW_FUNCTIONS[key] };
  });

const stateOf = (row: Row) => codes(row.state)[0];
const functionOf = (row: Row) => codes(row.function)[0];

describe("the state-to-code table of docs/architecture.md", () => {
  it("has a table of states and a table of ports", () => {
    expect(rows.length).toBeGreaterThan(0);
    expect(portRows.length).toBeGreaterThan(0);
    for (const row of [...(stateTable ?? []), ...(portTable ?? [])].slice(1))
      expect(row.length).toBeGreaterThan(2);
  });

  it("has one row per Task state, naming the function the ASL calls there", () => {
    const stated = rows.filter((row) => stateOf(row) !== undefined);
    expect(stated.map(stateOf).sort()).toEqual(TASKS.map((t) => t.name).sort());
    for (const task of TASKS) {
      const row = stated.find((r) => stateOf(r) === task.name);
      expect(row && functionOf(row), task.name).toBe(`functions/${task.file}.ts`);
    }
  });

  it("has a row for every function of the catalogue, and one for each that no Task calls", () => {
    const files = new Set(rows.map(functionOf));
    expect([...files].sort()).toEqual(FUNCTION_CATALOG.map((e) => `functions/${e.file}.ts`).sort());
    const stateless = rows.filter((row) => stateOf(row) === undefined).map(functionOf);
    expect(stateless.sort()).toEqual(
      FUNCTION_CATALOG.filter((e) => !("task" in e))
        .map((e) => `functions/${e.file}.ts`)
        .sort(),
    );
  });

  it("names core steps that their files export", () => {
    for (const row of rows) {
      const [step, file] = codes(row.step);
      expect(file, `${functionOf(row)}: the step's file`).toMatch(/^packages\/core\/src\//);
      expect(read(file ?? ""), `${step} in ${file}`).toMatch(
        new RegExp(`export (async )?function ${step}\\b`),
      );
    }
  });

  it("names ports that are ports, and adapters the ports table lists", () => {
    const ports = read("packages/core/src/ports.ts");
    const listed = new Set(portRows.map((cells) => codes(cells[0] ?? "")[0]));
    const adapters = new Set(
      portRows.flatMap((cells) => [cells[1], cells[2]].flatMap((c) => names(c ?? ""))),
    );
    for (const port of listed) expect(ports).toMatch(new RegExp(`export interface ${port}\\b`));
    for (const row of rows) {
      for (const port of names(row.ports))
        expect(listed, `${functionOf(row)}: ${port}`).toContain(port);
      for (const adapter of [...names(row.aws), ...names(row.local)]) {
        const exportedHere = paths(`${row.aws} ${row.local}`).some((file) =>
          new RegExp(`export (async )?(function|class|const) ${adapter}\\b`).test(read(file)),
        );
        expect(adapters.has(adapter) || exportedHere, `${functionOf(row)}: ${adapter}`).toBe(true);
      }
    }
  });

  it("lists each port's adapters as their files export them", () => {
    for (const cells of portRows) {
      for (const cell of [cells[1] ?? "", cells[2] ?? ""]) {
        const [adapter] = names(cell);
        const [file] = paths(cell);
        if (!adapter || !file) continue;
        expect(read(file), `${adapter} in ${file}`).toMatch(
          new RegExp(`export (async )?(function|class|const) ${adapter}\\b`),
        );
      }
    }
  });

  it("names each function's handler test and contract scenarios", () => {
    for (const row of rows) {
      const file = (functionOf(row) ?? "").replace(/^functions\/|\.ts$/g, "");
      expect(paths(row.tests), file).toContain(`functions/${file}.test.ts`);
      expect(row.tests, file).toContain(`contract (\`${file}\`)`);
      expect(SCENARIOS[file]?.length, `scenarios of ${file}`).toBeGreaterThan(0);
    }
  });

  it("names only files that exist", () => {
    const named = [...(stateTable ?? []), ...(portTable ?? [])].flat().flatMap(paths);
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((file) => !existsSync(join(ROOT, file)))).toEqual([]);
  });
});
