import { createHash } from "node:crypto";
import { Worker } from "node:worker_threads";
import type { ElkExtendedEdge, ElkNode } from "elkjs/lib/elk.bundled.js";
import { type AslDefinition, graphOf, type StateEdge, type StateGraph } from "./graph-model.ts";

/**
 * Places the workflow's graph with ELK's layered (Sugiyama) algorithm, top to bottom, the
 * way the Step Functions console draws it. Loops (the alarm waits) come out as back edges; the
 * group of Fail states is packed into a box. A layout is computed once per definition text and
 * kept: the definitions never change while the control plane runs. ELK runs in a worker thread
 * (layout-worker.mjs), so laying out never holds up the control plane's executions.
 */

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface PlacedEdge {
  readonly edge: StateEdge;
  /** Start, bends and end, in graph coordinates. */
  readonly points: readonly Point[];
  readonly label?: Box & { readonly text: string };
}

export interface GraphLayout {
  readonly graph: StateGraph;
  readonly width: number;
  readonly height: number;
  /** Node boxes by state name (absolute coordinates, also for members of a group). */
  readonly nodes: ReadonlyMap<string, Box>;
  readonly groups: ReadonlyMap<string, Box & { readonly label: string }>;
  readonly edges: readonly PlacedEdge[];
}

/** Node sizes: two lines of text (name, then type and visits) beside a status glyph. */
export const NODE_HEIGHT = 44;
const CHAR_WIDTH = 7.6;
const LABEL_CHAR_WIDTH = 6.2;
const LABEL_HEIGHT = 16;
const GROUP_TITLE = 26;
const MARGIN = 12;

/**
 * Width of a node for its name (the font is 13px system-ui; names are ASCII), and at least
 * what its second line needs ("✓ succeeded · 12 visits").
 */
export function nodeWidth(name: string, type: string): number {
  const shape = type === "Choice" ? 28 : 0; // the hexagon's points
  return Math.max(150 + shape, Math.ceil(name.length * CHAR_WIDTH + 36 + shape));
}

const cache = new Map<string, Promise<GraphLayout>>();

/**
 * The layout of a definition (its JSON text, as DescribeStateMachine returns it), computed on
 * first use and cached by the text's SHA-256.
 *
 * @example
 * ```ts
 * const layout = await layoutOf(stepFunctions.describeStateMachine(arn).definition);
 * layout.nodes.get("Deploy"); // { x, y, width, height }
 * ```
 */
export function layoutOf(definitionText: string): Promise<GraphLayout> {
  const key = createHash("sha256").update(definitionText).digest("hex");
  let layout = cache.get(key);
  if (!layout) {
    layout = layoutGraph(graphOf(JSON.parse(definitionText) as AslDefinition));
    cache.set(key, layout);
    layout.catch(() => cache.delete(key));
  }
  return layout;
}

/** Runs ELK on a graph (uncached; see {@link layoutOf}). */
export async function layoutGraph(graph: StateGraph): Promise<GraphLayout> {
  const root: ElkNode = {
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "DOWN",
      "elk.edgeRouting": "ORTHOGONAL",
      "elk.layered.spacing.nodeNodeBetweenLayers": "34",
      "elk.layered.spacing.edgeNodeBetweenLayers": "14",
      "elk.spacing.nodeNode": "26",
      "elk.spacing.edgeNode": "14",
      "elk.spacing.edgeEdge": "10",
      "elk.spacing.edgeLabel": "4",
      "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
      "elk.layered.nodePlacement.bk.fixedAlignment": "BALANCED",
      "elk.layered.cycleBreaking.strategy": "MODEL_ORDER",
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
      "elk.edgeLabels.placement": "CENTER",
      "elk.edgeLabels.inline": "true",
      "elk.layered.edgeLabels.sideSelection": "SMART_DOWN",
      "elk.padding": `[top=${MARGIN},left=${MARGIN},bottom=${MARGIN},right=${MARGIN}]`,
    },
    children: [],
    edges: [],
  };
  const groupChildren = new Map<string, ElkNode[]>();
  for (const group of graph.groups) groupChildren.set(group.id, []);
  for (const node of graph.nodes) {
    const elkNode: ElkNode = {
      id: node.name,
      width: nodeWidth(node.name, node.type),
      height: NODE_HEIGHT,
    };
    if (node.group) groupChildren.get(node.group)?.push(elkNode);
    else root.children?.push(elkNode);
  }
  for (const group of graph.groups) {
    root.children?.push({
      id: group.id,
      layoutOptions: {
        "elk.algorithm": "rectpacking",
        "elk.aspectRatio": "2.2",
        "elk.spacing.nodeNode": "10",
        "elk.padding": `[top=${GROUP_TITLE + 6},left=10,bottom=10,right=10]`,
      },
      children: groupChildren.get(group.id) ?? [],
    });
  }
  for (const edge of graph.edges) {
    const elkEdge: ElkExtendedEdge = {
      id: edge.id,
      sources: [edge.from],
      targets: [edge.to],
      // The happy path (Next) as straight as can be; catches bend around it.
      layoutOptions: {
        "elk.layered.priority.straightness": edge.kind === "next" ? "10" : "1",
        "elk.layered.priority.direction": edge.kind === "catch" ? "0" : "5",
      },
    };
    // Catch labels are drawn along the edge by the renderer, taking no room of their own:
    // a dozen "States.ALL" beside the long catch lines would double the graph's width.
    if (edge.label && edge.kind !== "catch") {
      elkEdge.labels = [
        {
          text: edge.label,
          width: Math.ceil(edge.label.length * LABEL_CHAR_WIDTH + 8),
          height: LABEL_HEIGHT,
        },
      ];
    }
    root.edges?.push(elkEdge);
  }

  const placed = await elk.layout(root);

  const nodes = new Map<string, Box>();
  const groups = new Map<string, Box & { label: string }>();
  for (const child of placed.children ?? []) {
    const box = boxOf(child, 0, 0);
    const group = graph.groups.find((g) => g.id === child.id);
    if (!group) {
      nodes.set(child.id, box);
      continue;
    }
    groups.set(group.id, { ...box, label: group.label });
    for (const member of child.children ?? []) nodes.set(member.id, boxOf(member, box.x, box.y));
  }
  const byId = new Map(graph.edges.map((e) => [e.id, e]));
  const edges: PlacedEdge[] = [];
  for (const elkEdge of (placed.edges ?? []) as ElkExtendedEdge[]) {
    const edge = byId.get(elkEdge.id);
    const section = elkEdge.sections?.[0];
    if (!edge || !section) continue;
    const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint];
    const label = elkEdge.labels?.[0];
    edges.push({
      edge,
      points: points.map((p) => ({ x: p.x, y: p.y })),
      ...(label?.text
        ? {
            label: {
              text: label.text,
              x: label.x ?? 0,
              y: label.y ?? 0,
              width: label.width ?? 0,
              height: label.height ?? 0,
            },
          }
        : {}),
    });
  }
  return {
    graph,
    width: Math.ceil(placed.width ?? 0),
    height: Math.ceil(placed.height ?? 0),
    nodes,
    groups,
    edges,
  };
}

/**
 * ELK in its worker thread: started on demand, one request at a time per message id, and
 * stopped once idle (it is needed once per definition). The thread never keeps the process up.
 */
const elk = (() => {
  const url = new URL("./layout-worker.mjs", import.meta.url);
  let worker: Worker | undefined;
  let idle: NodeJS.Timeout | undefined;
  let nextId = 0;
  const pending = new Map<
    number,
    { resolve: (graph: ElkNode) => void; reject: (e: Error) => void }
  >();
  const fail = (error: Error) => {
    for (const request of pending.values()) request.reject(error);
    pending.clear();
    worker = undefined;
  };
  const start = (): Worker => {
    const thread = new Worker(url);
    thread.unref();
    thread.on("message", (message: { id: number; graph?: ElkNode; error?: string }) => {
      const request = pending.get(message.id);
      pending.delete(message.id);
      if (message.graph) request?.resolve(message.graph);
      else request?.reject(new Error(`graph layout failed: ${message.error}`));
      if (pending.size === 0) {
        idle = setTimeout(() => {
          if (pending.size === 0) void thread.terminate();
          if (worker === thread) worker = undefined;
        }, 10_000);
        idle.unref();
      }
    });
    thread.on("error", (error) => fail(error));
    thread.on("exit", () => {
      if (worker === thread) fail(new Error("the graph layout worker stopped"));
    });
    return thread;
  };
  return {
    layout(graph: ElkNode): Promise<ElkNode> {
      clearTimeout(idle);
      worker ??= start();
      const id = nextId++;
      const done = new Promise<ElkNode>((resolve, reject) => pending.set(id, { resolve, reject }));
      worker.postMessage({ id, graph });
      return done;
    },
  };
})();

function boxOf(node: ElkNode, dx: number, dy: number): Box {
  return {
    x: (node.x ?? 0) + dx,
    y: (node.y ?? 0) + dy,
    width: node.width ?? 0,
    height: node.height ?? 0,
  };
}
