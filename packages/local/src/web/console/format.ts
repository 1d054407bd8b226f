/** Small formatting helpers shared by the console's pages. Times are shown in UTC. */

/** "2026-11-22 05:32:04 UTC" */
export function formatDateTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** "05:32:06.826" */
export function formatClock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}

/** "850 ms", "12.4 s", "3 min 02 s", "1 h 05 min" */
export function formatDuration(ms: number): string {
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(Math.round(ms / 100) / 10).toFixed(1)} s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 3600)
    return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, "0")} s`;
  return `${Math.floor(seconds / 3600)} h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")} min`;
}

/** The first 12 characters of a git SHA, as the approval email shows it. */
export function shortVersion(version: string): string {
  return /^[0-9a-f]{13,}$/i.test(version) ? version.slice(0, 12) : version;
}

/** JSON text pretty-printed for reading; anything else as it is. */
export function prettyJson(text: string | undefined): string {
  if (text === undefined) return "";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
