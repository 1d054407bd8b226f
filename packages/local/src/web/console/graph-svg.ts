import { html, type SafeHtml } from "@gantry/core";
import type { NodeStatus, StateRun } from "./execution-status.ts";
import type { Box, GraphLayout, PlacedEdge, Point } from "./graph-layout.ts";
import type { StateNode } from "./graph-model.ts";

/**
 * Draws a laid-out workflow as inline SVG, coloured by an execution. Every state is a
 * link (`?state=<name>#state`: the page shows that state's input, output and error, with or
 * without JavaScript) carrying `data-state` and `data-status`; every edge carries
 * `data-edge-from`, `data-edge-to` and `data-edge-kind`, and `data-taken` once the execution
 * went along it. Status is shown by colour, a glyph, the words and the outline, never colour
 * alone.
 */

/** What a node shows for its status; the live view sends the same to the page. */
export interface NodeView {
  readonly status: NodeStatus;
  /** The status glyph: ○ ● ✓ ↪ ✕. */
  readonly glyph: string;
  /** The node's second line: status in words, and visits when there were several. */
  readonly caption: string;
  /** The accessible name: state, type, status, visits. */
  readonly label: string;
}

export const STATUS_TEXT: Readonly<Record<NodeStatus, { glyph: string; words: string }>> = {
  "not-reached": { glyph: "○", words: "not reached" },
  running: { glyph: "●", words: "running" },
  succeeded: { glyph: "✓", words: "succeeded" },
  caught: { glyph: "↪", words: "caught" },
  failed: { glyph: "✕", words: "failed" },
};

/**
 * The node view of a state for its last run (or none: not reached). A running Task that waits
 * for its token (a hold, the approval) says "waiting": nothing runs until a callback comes.
 *
 * @example
 * ```ts
 * nodeView({ name: "HoldTrafficStep", type: "Task", callback: true }, tracker.run("HoldTrafficStep")).caption; // "waiting"
 * ```
 */
export function nodeView(
  node: Pick<StateNode, "name" | "type" | "callback">,
  run?: StateRun,
): NodeView {
  const status = run?.status ?? "not-reached";
  const { glyph } = STATUS_TEXT[status];
  const words = status === "running" && node.callback ? "waiting" : STATUS_TEXT[status].words;
  const visits = run && run.visits > 1 ? ` · ${run.visits} visits` : "";
  return {
    status,
    glyph,
    caption: `${words}${visits}`,
    label: `${node.name} (${node.type}): ${words}${visits}`,
  };
}

export interface GraphRenderOptions {
  /** The last run of each state that was entered. */
  readonly runs: (name: string) => StateRun | undefined;
  readonly taken: ReadonlySet<string>;
  /** The state whose details the page shows. */
  readonly selected?: string;
  /** Accessible title of the drawing. */
  readonly title: string;
}

/** The SVG of a layout, coloured by an execution's runs. */
export function renderGraph(layout: GraphLayout, options: GraphRenderOptions): SafeHtml {
  const { width, height } = layout;
  const groups = [...layout.groups.entries()].map(
    ([id, box]) => html`<g class="group" data-group="${id}">
<rect x="${box.x}" y="${box.y}" width="${box.width}" height="${box.height}" rx="8"></rect>
<text x="${box.x + 10}" y="${box.y + 18}">${box.label}</text>
</g>`,
  );
  const edges = layout.edges.map((placed) => renderEdge(placed, options.taken));
  const nodes = layout.graph.nodes.flatMap((node) => {
    const box = layout.nodes.get(node.name);
    return box ? [renderNode(node, box, options)] : [];
  });
  return html`<svg xmlns="http://www.w3.org/2000/svg" class="graph-svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="group" aria-labelledby="graph-title" data-natural-width="${width}">
<title id="graph-title">${options.title}</title>
<defs>
<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrow"></path></marker>
<marker id="arrow-catch" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrow-catch"></path></marker>
<marker id="arrow-taken" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrow-taken"></path></marker>
</defs>
<g class="groups">${groups}</g>
<g class="edges">${edges}</g>
<g class="nodes">${nodes}</g>
</svg>`;
}

function renderEdge(placed: PlacedEdge, taken: ReadonlySet<string>): SafeHtml {
  const { edge, label } = placed;
  const isTaken = taken.has(edge.id);
  const marker = isTaken ? "arrow-taken" : edge.kind === "catch" ? "arrow-catch" : "arrow";
  const describe = `${edge.from} → ${edge.targets.length > 1 ? `one of ${edge.targets.length} Fail states` : edge.to}${edge.label ? ` (${edge.label})` : ""}`;
  return html`<g class="edge" data-edge-id="${edge.id}" data-edge-from="${edge.from}" data-edge-to="${edge.to}" data-edge-kind="${edge.kind}"${isTaken ? html` data-taken="true"` : ""}>
<title>${describe}</title>
<path d="${pathOf(placed.points)}" marker-end="url(#${marker})" data-marker="${edge.kind === "catch" ? "arrow-catch" : "arrow"}"></path>
${label ? html`<rect class="edge-label-bg" x="${label.x - 1}" y="${label.y}" width="${label.width + 2}" height="${label.height}" rx="3"></rect><text class="edge-label" x="${label.x + label.width / 2}" y="${label.y + label.height - 4}" text-anchor="middle">${label.text}</text>` : ""}
${!label && edge.label ? alongEdge(placed.points, edge.label) : ""}
</g>`;
}

/** A label written along the edge's longest segment (turned upright on vertical ones). */
function alongEdge(points: readonly Point[], text: string): SafeHtml {
  let best: [Point, Point] | undefined;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1] as Point;
    const b = points[i] as Point;
    if (!best || distance(a, b) > distance(best[0], best[1])) best = [a, b];
  }
  if (!best) return html``;
  const [a, b] = best;
  const width = text.length * 6.2 + 8;
  if (distance(a, b) < width + 8) return html``;
  const x = (a.x + b.x) / 2;
  const y = (a.y + b.y) / 2;
  const vertical = Math.abs(a.x - b.x) < Math.abs(a.y - b.y);
  const transform = vertical ? `rotate(-90 ${round(x)} ${round(y)})` : "";
  return html`<g class="edge-label-along"${transform ? html` transform="${transform}"` : ""}><rect class="edge-label-bg" x="${round(x - width / 2)}" y="${round(y - 7)}" width="${round(width)}" height="14" rx="3"></rect><text class="edge-label" x="${round(x)}" y="${round(y + 4)}" text-anchor="middle">${text}</text></g>`;
}

function renderNode(node: StateNode, box: Box, options: GraphRenderOptions): SafeHtml {
  const view = nodeView(node, options.runs(node.name));
  const selected = options.selected === node.name;
  const cx = box.x + box.width / 2;
  return html`<a class="node" href="?state=${encodeURIComponent(node.name)}#state" data-state="${node.name}" data-status="${view.status}" data-type="${node.type}"${selected ? html` aria-current="true"` : ""} aria-label="${view.label}">
<title>${view.label}${node.comment ? ` — ${node.comment}` : ""}</title>
${shapeOf(node.type, box)}
<text class="node-name" x="${cx}" y="${box.y + 19}" text-anchor="middle">${node.name}</text>
<text class="node-caption" x="${cx}" y="${box.y + 35}" text-anchor="middle"><tspan class="node-glyph">${view.glyph}</tspan> <tspan class="node-words">${view.caption}</tspan></text>
</a>`;
}

/** Task, Pass, Wait: rectangles; Choice: a hexagon; Succeed and Fail: pills. */
function shapeOf(type: string, box: Box): SafeHtml {
  const { x, y, width: w, height: h } = box;
  if (type === "Choice") {
    const d = 14;
    const points = [
      [x + d, y],
      [x + w - d, y],
      [x + w, y + h / 2],
      [x + w - d, y + h],
      [x + d, y + h],
      [x, y + h / 2],
    ]
      .map(([px, py]) => `${px},${py}`)
      .join(" ");
    return html`<polygon class="shape" points="${points}"></polygon>`;
  }
  const rx = type === "Succeed" || type === "Fail" ? h / 2 : type === "Wait" ? 12 : 5;
  return html`<rect class="shape" x="${x}" y="${y}" width="${w}" height="${h}" rx="${rx}"></rect>`;
}

/** An orthogonal polyline with rounded bends. */
function pathOf(points: readonly Point[]): string {
  const [first, ...rest] = points;
  if (!first) return "";
  let d = `M${round(first.x)},${round(first.y)}`;
  for (let i = 0; i < rest.length; i++) {
    const point = rest[i] as Point;
    const next = rest[i + 1];
    const prev = (i === 0 ? first : rest[i - 1]) as Point;
    if (!next) {
      d += ` L${round(point.x)},${round(point.y)}`;
      break;
    }
    const r = Math.min(6, distance(prev, point) / 2, distance(point, next) / 2);
    const before = toward(point, prev, r);
    const after = toward(point, next, r);
    d += ` L${round(before.x)},${round(before.y)} Q${round(point.x)},${round(point.y)} ${round(after.x)},${round(after.y)}`;
  }
  return d;
}

function distance(a: Point, b: Point): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}

function toward(from: Point, to: Point, length: number): Point {
  const d = distance(from, to) || 1;
  return { x: from.x + ((to.x - from.x) / d) * length, y: from.y + ((to.y - from.y) / d) * length };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
