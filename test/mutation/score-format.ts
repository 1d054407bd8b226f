/**
 * Turns StrykerJS's JSON report (mutation-testing-report-schema) into the per-file scores that
 * test/mutation/scores.json keeps and docs/testing.md shows, and decides whether the
 * safety-critical files meet the target. Pure: test/mutation/run.ts does the I/O.
 */
import { markdownCell, markdownTable } from "../support/markdown.ts";

/** The score the safety-critical files must reach, in percent (issue 18). */
export const TARGET_PERCENT = 95;

/**
 * The safety net: the workflow's steps (locks and reconcile among them), the approval path, the
 * version analysis (its statistics decide rollbacks), the
 * trigger verification (it decides auto-approval) and the two handlers that are a last line of
 * defence. The gate is computed over these together.
 */
export function isSafetyCritical(file: string): boolean {
  return (
    file.startsWith("packages/core/src/steps/") ||
    file.startsWith("packages/core/src/approval/") ||
    file.startsWith("packages/core/src/analysis/") ||
    file === "packages/core/src/trigger/claims.ts" ||
    file === "packages/core/src/trigger/verify.ts" ||
    file === "functions/reconcile.ts" ||
    file === "functions/acquire-lock.ts"
  );
}

/** The parts of Stryker's report this module reads. */
export interface StrykerReport {
  readonly files: Record<
    string,
    {
      readonly source: string;
      readonly mutants: readonly {
        readonly mutatorName: string;
        readonly replacement?: string;
        readonly status: string;
        readonly statusReason?: string;
        readonly location: { readonly start: { readonly line: number } };
      }[];
    }
  >;
}

export interface FileScore {
  readonly file: string;
  readonly critical: boolean;
  /** Killed or timed out: a test noticed. */
  readonly detected: number;
  /** Survived or not covered by any test. */
  readonly undetected: number;
  /** Disabled by a `// Stryker disable` comment that gives a reason. */
  readonly accepted: number;
  /** Stryker's own figure: detected / (detected + undetected), accepted ones left out. */
  readonly percent: number;
}

export interface Mutant {
  readonly file: string;
  readonly line: number;
  readonly mutator: string;
  /** The source line, trimmed, so a reader sees what was mutated without opening the file. */
  readonly code: string;
  /** Why it was accepted (accepted mutants) or what Stryker put there (undetected ones). */
  readonly note: string;
}

export interface MutationScores {
  readonly targetPercent: number;
  readonly files: readonly FileScore[];
  /**
   * Over the safety-critical files, counting accepted mutants as undetected: the gate cannot be
   * met by disabling mutants, only by killing them.
   */
  readonly critical: {
    readonly detected: number;
    readonly total: number;
    readonly percent: number;
  };
  readonly accepted: readonly Mutant[];
  readonly undetected: readonly Mutant[];
}

/** Stryker's text when a disable comment gives no reason: such a comment does not count. */
const NO_REASON = "Ignored using a comment";

const round1 = (n: number) => Math.round(n * 10) / 10;

/**
 * @example
 * ```ts
 * const scores = summarize(JSON.parse(readFileSync("reports/mutation/mutation.json", "utf8")));
 * if (!meetsTarget(scores)) process.exitCode = 1;
 * ```
 */
export function summarize(report: StrykerReport): MutationScores {
  const files: FileScore[] = [];
  const accepted: Mutant[] = [];
  const undetected: Mutant[] = [];
  let criticalDetected = 0;
  let criticalTotal = 0;
  for (const file of Object.keys(report.files).sort()) {
    const entry = report.files[file];
    if (!entry) continue;
    const lines = entry.source.split("\n");
    const critical = isSafetyCritical(file);
    let detected = 0;
    let missed = 0;
    let ignored = 0;
    for (const m of entry.mutants) {
      const line = m.location.start.line;
      const base = { file, line, mutator: m.mutatorName, code: (lines[line - 1] ?? "").trim() };
      if (m.status === "Killed" || m.status === "Timeout") detected++;
      else if (m.status === "Survived" || m.status === "NoCoverage") {
        missed++;
        undetected.push({ ...base, note: `${m.status}: ${m.replacement ?? ""}`.trim() });
      } else if (m.status === "Ignored") {
        ignored++;
        const reason = m.statusReason ?? NO_REASON;
        // A disable comment without a reason is not an explanation: it counts as undetected.
        if (reason === NO_REASON) undetected.push({ ...base, note: "Ignored without a reason" });
        else accepted.push({ ...base, note: reason });
      }
      // CompileError and RuntimeError mutants say nothing about the tests; Stryker leaves them
      // out of its score too.
    }
    const percent = detected + missed === 0 ? 100 : round1((100 * detected) / (detected + missed));
    files.push({ file, critical, detected, undetected: missed, accepted: ignored, percent });
    if (critical) {
      criticalDetected += detected;
      criticalTotal += detected + missed + ignored;
    }
  }
  return {
    targetPercent: TARGET_PERCENT,
    files,
    critical: {
      detected: criticalDetected,
      total: criticalTotal,
      percent: criticalTotal === 0 ? 0 : round1((100 * criticalDetected) / criticalTotal),
    },
    accepted,
    undetected,
  };
}

/** True when the safety-critical files together reach the target. */
export function meetsTarget(scores: MutationScores): boolean {
  return scores.critical.total > 0 && scores.critical.percent >= scores.targetPercent;
}

export const DOC_BEGIN = "<!-- mutation-scores:begin (npm run mutation writes this part) -->";
export const DOC_END = "<!-- mutation-scores:end -->";

/** Short enough for a table: a long line is cut, its start says which one it is. */
const short = (text: string) => markdownCell(text.length > 90 ? `${text.slice(0, 89)}…` : text);
const code = (text: string) => `\`${short(text).replaceAll("`", "'")}\``;

function mutantTable(mutants: readonly Mutant[], last: string): string {
  if (mutants.length === 0) return "None.";
  return markdownTable(
    ["where", "mutator", "code", last],
    mutants.map((m) => [`${m.file}:${m.line}`, m.mutator, code(m.code), short(m.note)]),
  );
}

/** The generated part of docs/testing.md, markers included. */
export function formatScores(scores: MutationScores): string {
  const { critical } = scores;
  return [
    DOC_BEGIN,
    "",
    `Safety-critical files together: **${critical.percent}%** (${critical.detected} of ` +
      `${critical.total} mutants detected, accepted ones counted as missed); target ` +
      `${scores.targetPercent}%: ${meetsTarget(scores) ? "met" : "**NOT met**"}.`,
    "",
    markdownTable(
      ["file", "safety-critical", "detected", "undetected", "accepted", "score"],
      scores.files.map((f) => [
        f.file,
        f.critical ? "yes" : "no",
        String(f.detected),
        String(f.undetected),
        String(f.accepted),
        `${f.percent}%`,
      ]),
      ["l", "l", "r", "r", "r", "r"],
    ),
    "",
    "### Accepted mutants (equivalent, or not worth a test), with the reason",
    "",
    mutantTable(scores.accepted, "reason"),
    "",
    "### Undetected mutants",
    "",
    mutantTable(scores.undetected, "mutant"),
    "",
    DOC_END,
  ].join("\n");
}

/** `doc` with its generated part replaced by `formatScores(scores)`. */
export function withScores(doc: string, scores: MutationScores): string {
  const begin = doc.indexOf(DOC_BEGIN);
  const end = doc.indexOf(DOC_END);
  if (begin < 0 || end < begin)
    throw new Error("docs/testing.md has lost its mutation-scores markers");
  return doc.slice(0, begin) + formatScores(scores) + doc.slice(end + DOC_END.length);
}
