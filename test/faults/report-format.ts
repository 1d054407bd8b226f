/**
 * Turns the fault suite's results (test/faults/results.json, written by `npm run reliability`)
 * into docs/reliability.md. Pure: the same results always give the same document, which
 * test/faults/reliability-doc.test.ts checks against the committed one.
 */
import { markdownCell, markdownTable } from "../support/markdown.ts";
import type { Violation } from "./support/invariants.ts";
import type { Category, ScenarioResult } from "./support/scenario.ts";

export interface CategoryResults {
  readonly category: Category;
  readonly full: boolean;
  readonly results: readonly ScenarioResult[];
  /** inputs: the seed and counts. */
  readonly seed?: number;
  readonly tried?: number;
  readonly refusedCleanly?: number;
  readonly byOutcome?: Record<string, number>;
  /** kills: the recovery's named crash points. */
  readonly recoveryPoints?: readonly string[];
}

export interface MemorySample {
  readonly deployments: number;
  readonly rssMiB: number;
  readonly homeMiB: number;
  readonly files: number;
}

export interface MemoryResults {
  readonly timeScale: number;
  readonly samples: readonly MemorySample[];
  readonly succeeded: number;
  readonly failed: number;
  readonly ms: number;
}

export interface ReliabilityResults {
  readonly generatedAt: string;
  readonly machine: string;
  readonly node: string;
  readonly suiteMs: number;
  readonly categories: Partial<Record<Category, CategoryResults>>;
  readonly memory?: MemoryResults;
}

const TITLES: Record<Category, string> = {
  tasks:
    "Task faults (every Task × throttle, permanent error, timeout, crash after its side effect)",
  kills: "kill -9 at every state, and a second kill during recovery",
  files: "Durable files truncated and garbled",
  inputs: "Generated bad inputs",
};

const ORDER: readonly Category[] = ["tasks", "kills", "files", "inputs"];

/** The five invariants; the other names are a scenario's own checks (crash, damage, ...). */
const INVARIANTS = new Set(["alias", "lock", "terminal", "record", "health"]);
const isInvariant = (v: Violation) => INVARIANTS.has(v.invariant);
const count = (results: readonly ScenarioResult[], invariant: boolean) =>
  results.reduce((n, s) => n + s.violations.filter((v) => isInvariant(v) === invariant).length, 0);

function verdict(result: ScenarioResult | undefined): string {
  if (!result) return "not run";
  if (result.violations.length === 0) return "ok";
  return `✗ ${[...new Set(result.violations.map((v) => v.invariant))].join(", ")}`;
}

/** The rows x columns matrix of a category whose scenario names are `<row> <column>`. */
function matrix(
  results: readonly ScenarioResult[],
  rows: readonly string[],
  columns: readonly string[],
) {
  const byName = new Map(results.map((r) => [r.name, r]));
  return markdownTable(
    ["", ...columns],
    rows.map((row) => [row, ...columns.map((column) => verdict(byName.get(`${row} ${column}`)))]),
  );
}

function uniqueInOrder(values: readonly string[]): string[] {
  return [...new Set(values)];
}

export function formatReliability(r: ReliabilityResults): string {
  const categories = ORDER.flatMap((c) => (r.categories[c] ? [r.categories[c]] : []));
  const all = categories.flatMap((c) => c.results);
  const violations = all.flatMap((s) => s.violations.map((v) => ({ scenario: s, v })));
  const out: string[] = [];
  out.push("# Reliability");
  out.push("");
  out.push(
    `Written by \`npm run reliability\` (test/faults/report.ts) on ${r.generatedAt}, ${r.machine}, Node ${r.node}: the full fault matrix (\`GANTRY_FAULTS_FULL=1\`, ${Math.round(r.suiteMs / 1000)} s) and the memory run. Do not edit by hand: \`npm run reliability\` rewrites it from the suite, \`npm run reliability -- --format-only\` from the committed test/faults/results.json, and a test checks that the two agree.`,
  );
  out.push("");
  out.push(
    "Every scenario runs a real local control plane (`npm start`, a child process) on its own data directory, at time scale 0.01, injects one fault, and then checks the invariants (test/faults/support/invariants.ts):",
  );
  out.push("");
  out.push(
    [
      "- **alias**: every service's alias in each stage serves one version at 100%: the one it had before the scenario, or a version a SUCCEEDED execution deployed and recorded;",
      "- **lock**: no lock object is held in either state bucket;",
      "- **terminal**: no execution is RUNNING, and every failed one names its error;",
      "- **record**: every execution that got past ValidateInput has a deployment record that agrees with it (deployed if and only if SUCCEEDED);",
      "- **health**: both endpoints answer `/health`.",
      "",
      "Scenarios also check that the fault really happened (**crash**), that retries absorb a throttle (**outcome**), that damaged files are reported (**damage**: moved to `quarantine/`, listed by `GET /api/world`), and that bad inputs are refused as expected (**refusal**) with nothing written (**side-effect**).",
    ].join("\n"),
  );
  out.push("");
  out.push("## Summary");
  out.push("");
  const tried = (c: CategoryResults) =>
    c.category === "inputs" ? (c.tried ?? c.results.length) : c.results.length;
  const passed = (c: CategoryResults) =>
    c.category === "inputs"
      ? (c.refusedCleanly ?? 0)
      : c.results.filter((s) => s.violations.length === 0).length;
  const sum = (f: (c: CategoryResults) => number) => categories.reduce((n, c) => n + f(c), 0);
  out.push(
    markdownTable(
      [
        "category",
        "scenarios tried",
        "passed every check",
        "invariant violations",
        "failed checks",
      ],
      [
        ...categories.map((c) => [
          TITLES[c.category],
          String(tried(c)),
          String(passed(c)),
          String(count(c.results, true)),
          String(count(c.results, false)),
        ]),
        [
          "**total**",
          String(sum(tried)),
          String(sum(passed)),
          `**${sum((c) => count(c.results, true))}**`,
          `**${sum((c) => count(c.results, false))}**`,
        ],
      ],
      ["l", "r", "r", "r", "r"],
    ),
  );
  out.push("");
  out.push(
    "Invariant violations count the five invariants above; failed checks count the scenarios' own checks (crash, outcome, damage, refusal, side-effect). Bad inputs count one scenario per input.",
  );
  out.push("");

  const tasks = r.categories.tasks;
  if (tasks) {
    out.push(`## ${TITLES.tasks}`);
    out.push("");
    out.push(
      "Faults come from packages/local/src/faults.ts (`GANTRY_FAULTS`): a throttle is `Lambda.TooManyRequestsException` twice (every Task's Retry lists it), a permanent error is `InjectedFault` (no Retry lists it), a timeout hangs 1 s and fails with `States.Timeout` (the ASL's TimeoutSeconds are real seconds, emulated at the suite's scale), a crash runs the real handler and then SIGKILLs the control plane, which restarts on the same data directory. CheckAlarms covers CheckBakeAlarms and Finish covers FinishAfterFailure (same functions); Rollback's scenarios fail CheckAlarms first, once traffic has shifted.",
    );
    out.push("");
    const rows = uniqueInOrder(tasks.results.map((s) => s.name.slice(0, s.name.lastIndexOf(" "))));
    const columns = uniqueInOrder(
      tasks.results.map((s) => s.name.slice(s.name.lastIndexOf(" ") + 1)),
    );
    out.push(matrix(tasks.results, rows, columns));
    out.push("");
  }

  const kills = r.categories.kills;
  if (kills) {
    out.push(`## ${TITLES.kills}`);
    out.push("");
    out.push(
      "Task states die as the Task starts (`crash-before`); Wait states are killed from outside once the history shows them. “+ recovery” restarts with `GANTRY_CRASH_AT=<point>` (packages/local/src/crash-points.ts) so the recovery itself dies at that point, or, when the recovery never reaches it, kills the restarted control plane at once; “+ kill during start” kills the restarted process 200 to 1,000 ms after it was spawned, while it opens its files and reconciles; then a third start must clean up.",
    );
    out.push("");
    out.push(
      markdownTable(
        ["scenario", "crash points (last state in the history, if another)", "execution", "result"],
        kills.results.map((s) => [
          s.name,
          markdownCell((s.crashPoint ?? "").replace("(history: undefined)", "(history: none)")),
          `${s.status ?? ""} ${s.error ?? ""}`.trim(),
          verdict(s),
        ]),
      ),
    );
    out.push("");
    const points = uniqueInOrder(
      kills.results.flatMap((s) =>
        (s.crashPoint ?? "")
          .split(" + ")
          .map((p) => p.replace(/ \(history: .*\)$/, ""))
          .filter((p) => p && !p.startsWith("start killed at")),
      ),
    );
    const timed = kills.results.filter((s) => s.crashPoint?.includes("start killed at")).length;
    out.push(
      `Crash points exercised: ${points.length} (${points.map((p) => `\`${p}\``).join(", ")}), and ${timed} timed kills during a restart.`,
    );
    out.push("");
  }

  const files = r.categories.files;
  if (files) {
    out.push(`## ${TITLES.files}`);
    out.push("");
    out.push(
      "The data directory of a control plane killed with a finished preprod deployment, a tagged state machine and a prod deployment waiting for approval (lock held, approval mailed) is copied; in each copy one file is cut to its first half (truncated) or has 16 bytes overwritten a third of the way in (garbled), and the control plane restarts on it. Two damages need what the runbook (docs/operations.md) says: a damaged lock is reported in place and never removed by Gantry (its owner may still run), so the scenario then runs `gantry unlock --force-damaged` as the operator would; a damaged deployment record is quarantined and reported, and counts as reported rather than missing.",
    );
    out.push("");
    const rows = uniqueInOrder(files.results.map((s) => s.name.slice(0, s.name.lastIndexOf(" "))));
    out.push(matrix(files.results, rows, ["truncated", "garbled"]));
    out.push("");
  }

  const inputs = r.categories.inputs;
  if (inputs) {
    out.push(`## ${TITLES.inputs}`);
    out.push("");
    out.push(
      `Seed **${inputs.seed}** (\`GANTRY_FAULTS_SEED=${inputs.seed}\` reproduces them; test/support/bad-inputs.ts): ${inputs.tried ?? 0} bad inputs tried through StartExecution on both state machines and \`gantry deploy\`, **${inputs.refusedCleanly ?? 0} refused cleanly**; then no lock, record, approval, copied artifact or email may exist and the invariants must hold.`,
    );
    out.push("");
    out.push(
      markdownTable(
        ["expected refusal", "inputs"],
        Object.entries(inputs.byOutcome ?? {})
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, n]) => [k, String(n)]),
        ["l", "r"],
      ),
    );
    out.push("");
  }

  const memory = r.memory;
  if (memory) {
    out.push("## Memory and disk after N deployments");
    out.push("");
    out.push(
      `One control plane, preprod deployments one after another at time scale ${memory.timeScale} (${memory.succeeded} succeeded, ${memory.failed} did not, ${Math.round(memory.ms / 1000)} s): the resident set size of the control plane's process (VmRSS) and the size of GANTRY_HOME (\`du -sk\`).`,
    );
    out.push("");
    out.push(
      markdownTable(
        ["deployments", "RSS (MiB)", "GANTRY_HOME (MiB)", "files"],
        memory.samples.map((s) => [
          String(s.deployments),
          s.rssMiB.toFixed(1),
          s.homeMiB.toFixed(1),
          String(s.files),
        ]),
        ["r", "r", "r", "r"],
      ),
    );
    out.push("");
  }

  out.push(
    `## Invariant violations (${violations.filter(({ v }) => isInvariant(v)).length}) and failed checks (${violations.filter(({ v }) => !isInvariant(v)).length})`,
  );
  out.push("");
  if (violations.length === 0) out.push("None.");
  else
    out.push(
      markdownTable(
        ["category", "scenario", "invariant", "what"],
        violations.map(({ scenario, v }: { scenario: ScenarioResult; v: Violation }) => [
          scenario.category,
          markdownCell(scenario.name),
          v.invariant,
          markdownCell(v.detail.length > 300 ? `${v.detail.slice(0, 300)}…` : v.detail),
        ]),
      ),
    );
  out.push("");
  return out.join("\n");
}
