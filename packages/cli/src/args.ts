import { parseArgs } from "node:util";
import { STAGES, type Stage } from "@gantry/core";
import { UsageError } from "./errors.ts";
import {
  COMMANDS,
  type CommandSpec,
  commandSpec,
  type OptionSpec,
  TARGET_OPTIONS,
} from "./usage.ts";

/**
 * An option's value: a string, true for a flag, or the list of strings of an option that may be
 * given more than once (OptionSpec.multiple).
 */
export type OptionValue = string | boolean | readonly string[] | undefined;

/** Option values by long name, without the dashes. */
export type OptionValues = Readonly<Record<string, OptionValue>>;

/** What the command line asked for. */
export type CommandLine =
  | { readonly kind: "help"; readonly command?: CommandSpec }
  | { readonly kind: "version" }
  | {
      readonly kind: "run";
      readonly command: CommandSpec;
      /** Option values by long name, without the dashes. */
      readonly options: OptionValues;
      readonly positional?: string;
    };

const TWO_WORD = new Set(COMMANDS.filter((c) => c.name.includes(" ")).map((c) => c.name));
const GROUPS = new Set([...TWO_WORD].map((name) => name.split(" ")[0]));

/**
 * Parses `gantry ...` arguments against the command specs. Unknown commands and options, a
 * missing option value, extra arguments and a missing positional are {@link UsageError}s (exit
 * 2, with the command's usage).
 *
 * @example
 * ```ts
 * const line = parseCommandLine(["deploy", "--stage", "prod", "--wait"]);
 * if (line.kind === "run") line.options.stage; // "prod"
 * ```
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const [first, second] = argv;
  if (first === undefined || first === "help" || first === "--help" || first === "-h") {
    const topic = first === "help" ? argv.slice(1).join(" ") : "";
    const spec = topic ? commandSpec(topic) : undefined;
    if (topic && !spec) throw new UsageError("", `unknown command: ${topic}`);
    if (first === undefined) throw new UsageError("", "which command?");
    return spec ? { kind: "help", command: spec } : { kind: "help" };
  }
  if (first === "--version" || first === "-v") return { kind: "version" };

  let name = first;
  let rest = argv.slice(1);
  if (GROUPS.has(first)) {
    if (second === undefined || second.startsWith("-")) {
      const known = [...TWO_WORD].filter((n) => n.startsWith(`${first} `));
      if (second === "--help" || second === "-h") return { kind: "help" };
      throw new UsageError("", `\`gantry ${first}\` needs a subcommand: ${known.join(", ")}`);
    }
    name = `${first} ${second}`;
    rest = argv.slice(2);
  }
  const spec = commandSpec(name);
  if (!spec) {
    const suggestion = closest(name);
    throw new UsageError(
      "",
      `unknown command: ${name}`,
      suggestion ? [`did you mean \`gantry ${suggestion}\`?`] : [],
    );
  }

  const options: Record<string, OptionSpec> = {
    ...spec.options,
    ...TARGET_OPTIONS,
    help: { type: "boolean", description: "" },
  };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...rest],
      options: Object.fromEntries(
        Object.entries(options).map(([key, o]) => [
          key,
          key === "help"
            ? { type: o.type, short: "h" }
            : { type: o.type, ...(o.multiple ? { multiple: true } : {}) },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(spec.name, describeParseError(error));
  }
  const values = parsed.values as Record<string, OptionValue>;
  if (values.help) return { kind: "help", command: spec };

  const positionals = parsed.positionals;
  if (spec.positional) {
    if (positionals.length === 0) {
      throw new UsageError(spec.name, `missing <${spec.positional.name}>`);
    }
    if (positionals.length > 1) {
      throw new UsageError(spec.name, `unexpected argument: ${positionals[1]}`);
    }
  } else if (positionals.length > 0) {
    throw new UsageError(spec.name, `unexpected argument: ${positionals[0]}`);
  }
  for (const [key, value] of Object.entries(values)) {
    // Each value of a repeatable option counts: `--fix-for ""` is as empty as a lone one.
    const given = typeof value === "string" ? [value] : Array.isArray(value) ? value : [];
    if (given.some((v: string) => v.trim() === "")) {
      throw new UsageError(spec.name, `--${key} needs a value`);
    }
  }
  return {
    kind: "run",
    command: spec,
    options: values,
    ...(positionals[0] !== undefined ? { positional: positionals[0] } : {}),
  };
}

function describeParseError(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(-[^']*)'/.exec(message)?.[1]?.split(" ")[0];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return `unknown option ${option ?? message}`;
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    return message.includes("does not take an argument")
      ? `${option ?? "an option"} takes no value`
      : `${option ?? "an option"} needs a value`;
  }
  return message;
}

/** The command a typo most likely meant (edit distance at most 2, or a prefix). */
function closest(name: string): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const { name: candidate } of COMMANDS) {
    const distance = candidate.startsWith(name) ? 1 : editDistance(name, candidate);
    if (distance <= 2 && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(
        Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** A string option's value, or undefined. */
export function stringOption(options: OptionValues, name: string): string | undefined {
  const value = options[name];
  return typeof value === "string" ? value.trim() : undefined;
}

/**
 * A repeatable option's values, trimmed, in the order given; empty when it was not given.
 *
 * @example
 * ```ts
 * const line = parseCommandLine(["deploy", "--fix-for", "api-errors", "--fix-for", "api-latency"]);
 * if (line.kind === "run") listOption(line.options, "fix-for"); // ["api-errors", "api-latency"]
 * ```
 */
export function listOption(options: OptionValues, name: string): string[] {
  const value = options[name];
  if (typeof value === "string") return [value.trim()];
  return Array.isArray(value) ? value.map((v: string) => v.trim()) : [];
}

/** A boolean option's value. */
export function flag(options: OptionValues, name: string): boolean {
  return options[name] === true;
}

/** `--stage`, checked; undefined when absent and not required. */
export function stageOption(
  command: string,
  options: OptionValues,
  required: boolean,
): Stage | undefined {
  const value = stringOption(options, "stage");
  if (value === undefined) {
    if (required) throw new UsageError(command, `--stage is required (${STAGES.join(" or ")})`);
    return undefined;
  }
  if (!(STAGES as readonly string[]).includes(value)) {
    throw new UsageError(command, `--stage must be ${STAGES.join(" or ")}, got ${value}`);
  }
  return value as Stage;
}

/** A whole-number option within bounds; undefined when absent. */
export function integerOption(
  command: string,
  options: OptionValues,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const value = stringOption(options, name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(command, `--${name} must be a whole number from ${min} to ${max}`);
  }
  return Number(value);
}
