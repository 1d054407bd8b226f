import { ExitCode } from "../exit-codes.ts";
import type { Caller } from "./checks.ts";
import type { CheckResult, CheckStatus } from "./result.ts";

/** What `gantry doctor --json` prints: the account checked, every check, and the verdict. */
export interface DoctorReport {
  readonly stage: string;
  readonly accountId: string;
  readonly partition: string;
  readonly region: string;
  /** The caller's ARN (STS GetCallerIdentity). */
  readonly caller: string;
  readonly counts: Readonly<Record<CheckStatus, number>>;
  /** 0 when nothing failed (warnings allowed), 5 otherwise. */
  readonly exitCode: ExitCode;
  readonly checks: readonly CheckResult[];
}

/**
 * The report of a run: counts, and exit code 5 (failed) when any check failed.
 *
 * @example
 * ```ts
 * doctorReport("prod", "us-east-1", caller, results).exitCode; // 0 or 5
 * ```
 */
export function doctorReport(
  stage: string,
  region: string,
  caller: Caller,
  checks: readonly CheckResult[],
): DoctorReport {
  const counts = { ok: 0, warn: 0, fail: 0 };
  for (const check of checks) counts[check.status]++;
  return {
    stage,
    accountId: caller.accountId,
    partition: caller.partition,
    region,
    caller: caller.arn,
    counts,
    exitCode: counts.fail > 0 ? ExitCode.Failed : ExitCode.Ok,
    checks,
  };
}

/** Subjects longer than this are not padded (the message follows after two spaces). */
const SUBJECT_COLUMN = 40;

/**
 * The report for people: a heading, one line per check (`ok`/`warn`/`fail`, what, which,
 * what was found), the details and the fix of a warning or failure indented below it, and the
 * counts.
 *
 * @example
 * ```ts
 * reportLines(report);
 * // ["gantry doctor: prod in account 123456789012 (us-east-1), as arn:aws:sts::...", "", "ok    role    gantry-prod-deploy  allows ...", ...]
 * ```
 */
export function reportLines(report: DoctorReport): string[] {
  const kindWidth = Math.max(0, ...report.checks.map((c) => c.check.length));
  const subjectWidth = Math.min(
    SUBJECT_COLUMN,
    Math.max(0, ...report.checks.map((c) => c.subject.length)),
  );
  const lines = [
    `gantry doctor: ${report.stage} in account ${report.accountId} (${report.region}), as ${report.caller}`,
    "",
  ];
  for (const check of report.checks) {
    lines.push(
      `${check.status.padEnd(4)}  ${check.check.padEnd(kindWidth)}  ${check.subject.padEnd(subjectWidth)}  ${check.message}`,
    );
    if (check.status === "ok") continue;
    for (const detail of check.details ?? []) lines.push(`      ${detail}`);
    if (check.fix) lines.push(`      → ${check.fix}`);
  }
  const { ok, warn, fail } = report.counts;
  const total = ok + warn + fail;
  lines.push(
    "",
    `${total} check${total === 1 ? "" : "s"}: ${ok} ok, ${warn} warning${warn === 1 ? "" : "s"}, ${fail} failed`,
  );
  if (fail > 0)
    lines.push(`fix the failures above, then run gantry doctor --stage ${report.stage} again`);
  return lines;
}
