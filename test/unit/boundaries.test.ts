/**
 * Package boundaries are real: code reaches another package by its name (`@gantry/core`,
 * `@gantry/functions/deploy`, `@gantry/core/testing`), through the entry points that package's
 * `exports` declares, never by a relative path into its files.
 *
 * The units (every file belongs to exactly one):
 * - `packages/<name>/`: the workspace package `@gantry/<name>` (core, aws, local, cli);
 * - `functions/`: `@gantry/functions`, the Lambda entry points;
 * - `stacks/`: `@gantry/stacks`, Gantry's infrastructure modules;
 * - the app, everything else at the root: `sst.config.ts`, `gantry.registry.ts`,
 *   `gantry.local.ts`, `examples/`, `test/` and the tools' configuration files.
 *
 * Every import, `import type`, `export ... from` and literal `import("...")` of every source file
 * is parsed (with oxc, through rolldown's parser) and checked:
 * 1. a relative specifier resolves inside the importing file's unit, unless ALLOWED says why not;
 * 2. a `@gantry/...` specifier names an entry point its package exports, and, from inside a
 *    workspace package, a package that package's package.json depends on;
 * 3. test helpers stay in tests: product code never imports `@gantry/core/testing` (nor, inside
 *    core, anything under `src/testing/`).
 * Dynamic imports of computed paths (the registry and local configuration, loaded at run time
 * by file name) are not module dependencies and are not checked.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseSync } from "rolldown/utils";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * The relative imports allowed to leave their unit, each with its reason. Keep it short: every
 * entry is a boundary that is not real.
 */
const ALLOWED: readonly { from: string; to: string; reason: string }[] = [
  {
    from: "functions",
    to: "gantry.registry.ts",
    reason:
      "The service registry is the app's configuration, not a package: SST bundles it into each " +
      "function (functions/<name>.handler, stacks/functions.ts), so the AWS entry points " +
      "(awsDeps() of validate-input, scheduled-canary, approval-operator) and the tests of those " +
      "real handlers import it. The factories (createHandler) take the registry as a port; the " +
      "local control plane passes its own.",
  },
];

/** The entry points only tests may import. */
const TEST_ONLY_ENTRY_POINTS = ["@gantry/core/testing"];

type Unit = string;

/** The unit a repository path (forward slashes) belongs to. */
function unitOf(path: string): Unit {
  const parts = path.split("/");
  if (parts[0] === "packages" && parts.length > 2) return `packages/${parts[1]}`;
  if (parts[0] === "functions" || parts[0] === "stacks") return parts[0];
  return "app";
}

/** Tests, benchmarks and test helpers: the files allowed to import test-only entry points. */
function isTestCode(path: string): boolean {
  return (
    unitOf(path) === "app" ||
    /\.(test|bench)\.[mc]?[jt]s$/.test(path) ||
    /(^|\/)testing(\/|\.ts$)/.test(path)
  );
}

interface ImportSite {
  readonly specifier: string;
  readonly line: number;
}

/** Every import/export-from/literal dynamic import of a module, with its line. */
function importsOf(file: string, code: string): ImportSite[] {
  const lang = /\.[mc]?ts$/.test(file) ? "ts" : "js";
  const parsed = parseSync(file, code, { lang, sourceType: "module" });
  if (parsed.errors.length > 0) {
    throw new Error(`${file}: ${parsed.errors.map((e) => e.message).join("; ")}`);
  }
  const lineOf = (offset: number) => code.slice(0, offset).split("\n").length;
  const sites: ImportSite[] = [];
  for (const statement of parsed.module.staticImports) {
    sites.push({
      specifier: statement.moduleRequest.value,
      line: lineOf(statement.moduleRequest.start),
    });
  }
  for (const statement of parsed.module.staticExports) {
    for (const entry of statement.entries) {
      if (entry.moduleRequest) {
        sites.push({
          specifier: entry.moduleRequest.value,
          line: lineOf(entry.moduleRequest.start),
        });
      }
    }
  }
  for (const dynamic of parsed.module.dynamicImports) {
    const text = code.slice(dynamic.moduleRequest.start, dynamic.moduleRequest.end).trim();
    const literal = /^(["'`])([^"'`$]*)\1$/.exec(text);
    if (literal?.[2] !== undefined) {
      sites.push({ specifier: literal[2], line: lineOf(dynamic.moduleRequest.start) });
    }
  }
  return sites.sort((a, b) => a.line - b.line);
}

/** The string literals and template texts of a module's code (comments are not code). */
function stringsOf(file: string, code: string): string[] {
  const lang = /\.[mc]?ts$/.test(file) ? "ts" : "js";
  const found: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const child of node) visit(child);
      return;
    }
    if (typeof node !== "object" || node === null) return;
    const n = node as { type?: unknown; value?: unknown };
    if (n.type === "Literal" && typeof n.value === "string") found.push(n.value);
    if (n.type === "TemplateElement") {
      const cooked = (n.value as { cooked?: unknown } | undefined)?.cooked;
      if (typeof cooked === "string") found.push(cooked);
    }
    for (const value of Object.values(node)) visit(value);
  };
  visit(parseSync(file, code, { lang, sourceType: "module" }).program);
  return found;
}

interface WorkspacePackage {
  readonly dir: string;
  readonly name: string;
  readonly exports: readonly string[];
  /** Each entry point's file, as a repository path. */
  readonly entryFiles: ReadonlyMap<string, string>;
  readonly dependsOn: ReadonlySet<string>;
}

/** The specifier to use for a file of a package: the entry point nearest to it. */
function entryPointFor(pkg: WorkspacePackage, file: string): string {
  let best: { key: string; depth: number } | undefined;
  for (const [key, entry] of pkg.entryFiles) {
    if (entry === file) return `${pkg.name}${key.slice(1)}`;
    const dir = entry.slice(0, entry.lastIndexOf("/") + 1);
    if (file.startsWith(dir) && (!best || dir.length > best.depth))
      best = { key, depth: dir.length };
  }
  return `${pkg.name}${best ? best.key.slice(1) : ""}`;
}

function workspacePackages(root: string): Map<string, WorkspacePackage> {
  const dirs = [
    ...readdirSync(join(root, "packages")).map((d) => `packages/${d}`),
    "functions",
    "stacks",
  ];
  const byName = new Map<string, WorkspacePackage>();
  for (const dir of dirs) {
    const file = join(root, dir, "package.json");
    if (!existsSync(file)) continue;
    const json = JSON.parse(readFileSync(file, "utf8")) as {
      name: string;
      exports?: string | Record<string, unknown>;
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    const map: Record<string, unknown> =
      typeof json.exports === "string" ? { ".": json.exports } : (json.exports ?? {});
    const entryFiles = new Map<string, string>();
    for (const [key, target] of Object.entries(map)) {
      if (typeof target === "string") entryFiles.set(key, `${dir}/${target.replace(/^\.\//, "")}`);
    }
    byName.set(json.name, {
      dir,
      name: json.name,
      exports: Object.keys(map),
      entryFiles,
      dependsOn: new Set([
        ...Object.keys(json.dependencies ?? {}),
        ...Object.keys(json.devDependencies ?? {}),
      ]),
    });
  }
  return byName;
}

const SKIP = new Set(["node_modules", "dist", ".sst", ".gantry", ".git"]);

/** Every source file to check, as repository paths with forward slashes. */
function sourceFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(join(root, dir))) {
      if (SKIP.has(name)) continue;
      const path = dir ? `${dir}/${name}` : name;
      if (statSync(join(root, path)).isDirectory()) {
        if (dir || ["packages", "functions", "stacks", "examples", "test"].includes(name))
          walk(path);
      } else if (/\.[mc]?[jt]s$/.test(name) && !name.endsWith(".d.ts")) {
        found.push(path);
      }
    }
  };
  walk("");
  return found.sort();
}

/** What breaks the rules, one line each ("file:line  specifier  why"). */
function boundaryViolations(
  root: string,
  files: readonly string[],
  read: (path: string) => string = (path) => readFileSync(join(root, path), "utf8"),
): { violations: string[]; allowancesUsed: Set<number> } {
  const packages = workspacePackages(root);
  const unitPackage = new Map([...packages.values()].map((p) => [p.dir, p]));
  const violations: string[] = [];
  const allowancesUsed = new Set<number>();
  for (const file of files) {
    const from = unitOf(file);
    for (const { specifier, line } of importsOf(file, read(file))) {
      const where = `${file}:${line}  ${specifier}`;
      if (specifier.startsWith("./") || specifier.startsWith("../")) {
        const target = relative(root, resolve(root, dirname(file), specifier))
          .split(sep)
          .join("/");
        const to = unitOf(target);
        if (target.startsWith("..")) {
          violations.push(`${where}  leaves the repository`);
          continue;
        }
        if (
          from === "packages/core" &&
          !isTestCode(file) &&
          target.startsWith("packages/core/src/testing/")
        ) {
          violations.push(`${where}  product code importing core's test helpers`);
        }
        if (from === to) continue;
        const allowance = ALLOWED.findIndex((a) => a.from === from && a.to === target);
        if (allowance >= 0) {
          allowancesUsed.add(allowance);
          continue;
        }
        const pkg = unitPackage.get(to);
        violations.push(
          `${where}  crosses from ${from} into ${to}: ${
            pkg
              ? `import it as ${entryPointFor(pkg, target)}`
              : "a package must not depend on the app (its examples, tests or configuration); have the caller pass it in"
          }`,
        );
        continue;
      }
      const scoped = /^(@gantry\/[^/]+)(\/.*)?$/.exec(specifier);
      if (!scoped) continue;
      const [, name = "", subpath = ""] = scoped;
      const target = packages.get(name);
      if (!target) {
        violations.push(`${where}  no workspace package is named ${name}`);
        continue;
      }
      if (!target.exports.includes(`.${subpath}`)) {
        violations.push(
          `${where}  ${name} does not export .${subpath} (${target.exports.join(", ")})`,
        );
      }
      const own = unitPackage.get(from);
      if (own && own.name !== name && !own.dependsOn.has(name)) {
        violations.push(`${where}  ${own.name} does not list ${name} in its package.json`);
      }
      if (TEST_ONLY_ENTRY_POINTS.includes(specifier) && !isTestCode(file)) {
        violations.push(`${where}  a test-only entry point imported by product code`);
      }
    }
  }
  return { violations, allowancesUsed };
}

describe("package boundaries", () => {
  const files = sourceFiles(ROOT);

  it("finds the sources of every unit", () => {
    const units = new Set(files.map(unitOf));
    expect([...units].sort()).toEqual([
      "app",
      "functions",
      "packages/aws",
      "packages/cli",
      "packages/core",
      "packages/local",
      "stacks",
    ]);
    expect(files).toContain("sst.config.ts");
    expect(files).toContain("examples/demo/main.ts");
  });

  it("no import crosses a package boundary by relative path; named imports use declared entry points", () => {
    const { violations } = boundaryViolations(ROOT, files);
    expect(violations).toEqual([]);
  });

  it("every allowance is still needed (remove the ones nothing uses)", () => {
    const { allowancesUsed } = boundaryViolations(ROOT, files);
    const unused = ALLOWED.filter((_, i) => !allowancesUsed.has(i)).map(
      (a) => `${a.from} → ${a.to}`,
    );
    expect(unused).toEqual([]);
  });

  it("the product names no example: no path into examples/, no example service, in its code", () => {
    const product = files.filter((f) => unitOf(f) !== "app" && !isTestCode(f));
    const naming = product.flatMap((file) =>
      stringsOf(file, readFileSync(join(ROOT, file), "utf8"))
        .filter((text) => /(^|[/"'\s])examples\/|hello-service/.test(text))
        .map((text) => `${file}: ${JSON.stringify(text.slice(0, 80))}`),
    );
    expect(naming).toEqual([]);
    expect(files.filter((f) => /^packages\/[^/]+\/src\/.*demo/.test(f))).toEqual([]);
  });

  it("catches each kind of crossing (the checker checks)", () => {
    const fake: Record<string, string> = {
      "packages/local/src/a.ts": [
        'import type { Plan } from "../../core/src/plan.ts";',
        'export * from "../../../functions/deploy.ts";',
        'const build = await import("../../../examples/hello-service/build.ts");',
        'import { ok } from "./b.ts";',
        'import { deep } from "@gantry/core/src/plan.ts";',
        'import { MemoryRecords } from "@gantry/core/testing";',
        'import { policy } from "@gantry/stacks/policy";',
      ].join("\n"),
      "test/x.test.ts": [
        'import { t } from "../packages/core/src/testing/fixtures.ts";',
        'import { MemoryRecords } from "@gantry/core/testing";',
        'import registry from "../gantry.registry.ts";',
      ].join("\n"),
      "functions/y.ts": 'import registry from "../gantry.registry.ts";',
      "packages/core/src/z.ts": 'import { T0 } from "./testing/fixtures.ts";',
    };
    const { violations, allowancesUsed } = boundaryViolations(
      ROOT,
      Object.keys(fake),
      (path) => fake[path] ?? "",
    );
    expect(violations.map((v) => v.replace(/ {2}.*? {2}/, " "))).toEqual([
      "packages/local/src/a.ts:1 crosses from packages/local into packages/core: import it as @gantry/core",
      "packages/local/src/a.ts:2 crosses from packages/local into functions: import it as @gantry/functions/deploy",
      expect.stringMatching(
        /^packages\/local\/src\/a\.ts:3 crosses from packages\/local into app: /,
      ),
      "packages/local/src/a.ts:5 @gantry/core does not export ./src/plan.ts (., ./testing)",
      "packages/local/src/a.ts:6 a test-only entry point imported by product code",
      "packages/local/src/a.ts:7 @gantry/local does not list @gantry/stacks in its package.json",
      "test/x.test.ts:1 crosses from app into packages/core: import it as @gantry/core/testing",
      "packages/core/src/z.ts:1 product code importing core's test helpers",
    ]);
    expect([...allowancesUsed]).toEqual([0]);
  });
});
