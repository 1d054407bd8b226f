/**
 * Markdown tables laid out as Biome formats them (columns padded to their widest cell), so the
 * documents the reports write pass `npm run lint` unchanged.
 *
 * @example
 * ```ts
 * markdownTable(["file", "score"], [["a.ts", "97%"]], ["l", "r"]);
 * ```
 */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align?: readonly ("l" | "r")[],
): string {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length), 3),
  );
  const right = (i: number) => align?.[i] === "r";
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (right(i) ? c.padStart(widths[i] ?? 3) : c.padEnd(widths[i] ?? 3))).join(" | ")} |`;
  return [
    line(header),
    `| ${widths.map((w, i) => (right(i) ? `${"-".repeat(w - 1)}:` : "-".repeat(w))).join(" | ")} |`,
    ...rows.map(line),
  ].join("\n");
}

/** Text made safe for one table cell: pipes escaped, line breaks flattened. */
export const markdownCell = (text: string): string =>
  text.replace(/\|/g, "\\|").replace(/\n/g, " ");
