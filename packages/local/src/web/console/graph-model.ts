/**
 * The workflow as a graph, read from the ASL alone: one node per state, one edge per
 * transition (Next, a Choice's rules and Default, each Catch). Nothing here knows about an
 * execution; `execution-status.ts` colours the graph, `graph-layout.ts` places it.
 */

/** A state of the definition. */
export interface StateNode {
  readonly name: string;
  /** The ASL Type: Task, Pass, Wait, Choice, Succeed, Fail, Parallel, Map. */
  readonly type: string;
  readonly comment?: string;
  /** For Fail states: the error the execution ends with. */
  readonly error?: string;
  /** The group this node is drawn in (see {@link StateGroup}). */
  readonly group?: string;
  /** A Task that waits for a callback (`.waitForTaskToken`): Gantry's approval and its holds. */
  readonly callback?: true;
}

/**
 * How one state leads to another. `catch` edges are drawn dashed and labelled with the errors
 * they catch; `choice` edges with their rule; `default` with "otherwise".
 */
export type EdgeKind = "next" | "choice" | "default" | "catch";

export interface StateEdge {
  /** Unique within the graph, e.g. `CheckAlarms->Rollback:catch`. */
  readonly id: string;
  readonly from: string;
  /** A state's name, or a group's id when the edge leads into a group of Fail states. */
  readonly to: string;
  readonly kind: EdgeKind;
  readonly label?: string;
  /** For an edge into a group: the states behind it (the Choice's targets in the group). */
  readonly targets: readonly string[];
}

/**
 * Fail states that only one Choice leads to (Gantry's ReportFailure picks the Fail state named
 * after the outcome): drawn together in one box, reached by one edge, instead of a fan of a
 * dozen edges.
 */
export interface StateGroup {
  readonly id: string;
  readonly label: string;
  /** The Choice state the group hangs off. */
  readonly from: string;
  readonly members: readonly string[];
}

export interface StateGraph {
  readonly startAt: string;
  readonly nodes: readonly StateNode[];
  readonly edges: readonly StateEdge[];
  readonly groups: readonly StateGroup[];
}

/** The part of an ASL definition the graph needs. */
export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
}

interface AslState {
  readonly Type: string;
  readonly Comment?: string;
  readonly Next?: string;
  readonly Default?: string;
  readonly Error?: string;
  readonly Resource?: string;
  readonly Choices?: readonly AslChoiceRule[];
  readonly Catch?: readonly { readonly ErrorEquals: readonly string[]; readonly Next: string }[];
}

type AslChoiceRule = Readonly<Record<string, unknown>> & { readonly Next?: string };

/** Fewer Fail states than this behind one Choice are drawn one by one. */
const MIN_GROUP = 3;

/**
 * Reads a definition (JSONPath ASL) into a graph.
 *
 * @example
 * ```ts
 * const graph = graphOf(JSON.parse(describeStateMachine(arn).definition));
 * graph.edges.filter((e) => e.kind === "catch" && e.to === "Rollback").map((e) => e.from);
 * // ["Deploy", "Canary", "HoldTrafficStep", "CheckAlarms", "Promote", "Bake", "CheckBakeAlarms"]
 * ```
 */
export function graphOf(definition: AslDefinition): StateGraph {
  const states = Object.entries(definition.States);
  const raw: Omit<StateEdge, "id" | "targets">[] = [];
  for (const [name, state] of states) {
    if (state.Next) raw.push({ from: name, to: state.Next, kind: "next" });
    for (const rule of state.Choices ?? []) {
      if (typeof rule.Next === "string")
        raw.push({ from: name, to: rule.Next, kind: "choice", label: describeRule(rule) });
    }
    if (state.Default)
      raw.push({ from: name, to: state.Default, kind: "default", label: "otherwise" });
    for (const c of state.Catch ?? [])
      raw.push({ from: name, to: c.Next, kind: "catch", label: c.ErrorEquals.join(", ") });
  }

  const groups = failGroups(definition, raw);
  const groupOf = new Map<string, StateGroup>();
  for (const group of groups) for (const member of group.members) groupOf.set(member, group);

  const edges: StateEdge[] = [];
  const ids = new Set<string>();
  const add = (edge: Omit<StateEdge, "id">) => {
    let id = `${edge.from}->${edge.to}:${edge.kind}`;
    for (let n = 2; ids.has(id); n++) id = `${edge.from}->${edge.to}:${edge.kind}${n}`;
    ids.add(id);
    edges.push({ id, ...edge });
  };
  for (const group of groups) {
    add({
      from: group.from,
      to: group.id,
      kind: "choice",
      label: groupLabel(definition.States[group.from]),
      targets: group.members,
    });
  }
  for (const edge of raw) {
    if (groupOf.has(edge.to)) continue; // drawn as the group's one edge
    add({ ...edge, targets: [edge.to] });
  }

  const nodes: StateNode[] = states.map(([name, state]) => ({
    name,
    type: state.Type,
    ...(state.Comment ? { comment: state.Comment } : {}),
    ...(state.Type === "Fail" && state.Error ? { error: state.Error } : {}),
    ...(groupOf.has(name) ? { group: groupOf.get(name)?.id } : {}),
    ...(state.Resource?.endsWith(".waitForTaskToken") ? { callback: true as const } : {}),
  }));
  return { startAt: definition.StartAt, nodes, edges, groups };
}

/** Groups the Fail states whose only way in is one Choice state. */
function failGroups(
  definition: AslDefinition,
  edges: readonly Omit<StateEdge, "id" | "targets">[],
): StateGroup[] {
  const incoming = new Map<string, Set<string>>();
  for (const edge of edges) {
    const from = incoming.get(edge.to) ?? new Set<string>();
    from.add(`${edge.from}\u0000${edge.kind}`);
    incoming.set(edge.to, from);
  }
  const byChoice = new Map<string, string[]>();
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type !== "Fail") continue;
    const sources = [...(incoming.get(name) ?? [])].map((s) => s.split("\u0000"));
    const choices = new Set(sources.map(([from]) => from));
    const [only] = [...choices];
    if (
      choices.size !== 1 ||
      !only ||
      definition.States[only]?.Type !== "Choice" ||
      sources.some(([, kind]) => kind === "catch" || kind === "next")
    )
      continue;
    byChoice.set(only, [...(byChoice.get(only) ?? []), name]);
  }
  return [...byChoice.entries()]
    .filter(([, members]) => members.length >= MIN_GROUP)
    .map(([from, members]) => ({
      id: `group:${from}`,
      label: "Fail states: the execution ends with the error named here",
      from,
      members,
    }));
}

/** "by outcome.error" when every rule of the Choice tests the same variable. */
function groupLabel(state: AslState | undefined): string {
  const variables = new Set((state?.Choices ?? []).map((rule) => rule.Variable));
  const [only] = [...variables];
  return variables.size === 1 && typeof only === "string"
    ? `by ${only.replace(/^\$\./, "")}`
    : "by rule";
}

const OPERATORS: Record<string, string> = {
  StringEquals: "=",
  NumericEquals: "=",
  BooleanEquals: "=",
  TimestampEquals: "=",
  NumericLessThan: "<",
  NumericGreaterThan: ">",
  NumericLessThanEquals: "≤",
  NumericGreaterThanEquals: "≥",
  StringLessThan: "<",
  StringGreaterThan: ">",
  TimestampLessThan: "<",
  TimestampGreaterThan: ">",
  StringMatches: "matches",
  IsPresent: "present:",
  IsNull: "null:",
};

/** A short reading of a Choice rule: `phase = promote`, `and(…)`, or the operator's name. */
export function describeRule(rule: Readonly<Record<string, unknown>>): string {
  if (Array.isArray(rule.And)) return `all of ${rule.And.length} rules`;
  if (Array.isArray(rule.Or)) return `any of ${rule.Or.length} rules`;
  if (rule.Not && typeof rule.Not === "object")
    return `not (${describeRule(rule.Not as Record<string, unknown>)})`;
  const variable = typeof rule.Variable === "string" ? rule.Variable.split(".").at(-1) : "value";
  for (const [key, value] of Object.entries(rule)) {
    if (key === "Variable" || key === "Next") continue;
    const path = key.endsWith("Path");
    const operator = OPERATORS[path ? key.slice(0, -4) : key] ?? key;
    return `${variable} ${operator} ${String(value)}`;
  }
  return "rule";
}
