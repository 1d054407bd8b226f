/** Small formatting helpers shared by the renderers. */

/**
 * A duration for people: "19 ms", "1.2 s", "2 min 03 s", "1 h 02 min".
 *
 * @example
 * ```ts
 * formatDuration(125_000); // "2 min 05 s"
 * ```
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)} s`;
  const totalSeconds = Math.floor(ms / 1000);
  if (totalSeconds < 3600) {
    return `${Math.floor(totalSeconds / 60)} min ${String(totalSeconds % 60).padStart(2, "0")} s`;
  }
  const minutes = Math.floor(totalSeconds / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** An ISO 8601 UTC timestamp, or "-" for an unknown time. */
export function isoTime(ms: number | undefined): string {
  return ms !== undefined && Number.isFinite(ms) ? new Date(ms).toISOString() : "-";
}

/** The time of day (UTC), for a live display: "10:15:02". */
export function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

/** A git SHA shortened as the execution name does (12 characters). */
export function shortSha(sha: string | undefined): string {
  return sha ? sha.slice(0, 12) : "?";
}

/** "a", "a or b", "a, b or c". */
export function orList(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;
}

/** Pads and truncates rows into aligned columns. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
