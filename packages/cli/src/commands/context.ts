import { flag } from "../args.ts";
import type { Io } from "../io.ts";
import { type LoadedRegistry, loadRegistry } from "../registry.ts";
import { resolveTarget, type Target } from "../target.ts";

/** Option values by long name. */
export type Options = Readonly<Record<string, string | boolean | readonly string[] | undefined>>;

/** What every command gets: its parsed command line and the process's I/O. */
export interface CommandContext {
  readonly io: Io;
  /** The command's name ("deploy", "artifact publish"). */
  readonly command: string;
  readonly options: Options;
  readonly positional?: string | undefined;
}

/** True when the command should print one JSON document and nothing else on stdout. */
export function wantsJson(context: CommandContext): boolean {
  return flag(context.options, "json");
}

/** The target for this command line (see {@link resolveTarget}). */
export function targetOf(context: CommandContext, executionRef?: string): Target {
  return resolveTarget({
    command: context.command,
    options: context.options,
    env: context.io.env,
    cwd: context.io.cwd,
    executionRef,
  });
}

/** The service registry for this command line (see {@link loadRegistry}). */
export function registryOf(context: CommandContext): Promise<LoadedRegistry> {
  const file = context.options.registry;
  return loadRegistry({
    cwd: context.io.cwd,
    env: context.io.env,
    file: typeof file === "string" ? file : undefined,
    warn: (message) => context.io.stderr.write(`gantry: note: ${message}\n`),
  });
}

/** Writes lines to stdout. */
export function say(context: CommandContext, ...lines: readonly string[]): void {
  for (const line of lines) context.io.stdout.write(`${line}\n`);
}

/** Writes lines to stderr (messages that must not mix with data on stdout). */
export function note(context: CommandContext, ...lines: readonly string[]): void {
  for (const line of lines) context.io.stderr.write(`${line}\n`);
}
