import { parseCommandLine } from "./args.ts";
import { approveCommand } from "./commands/approve.ts";
import { publishCommand, validateCommand } from "./commands/artifact.ts";
import type { CommandContext } from "./commands/context.ts";
import { deployCommand } from "./commands/deploy.ts";
import { doctorCommand } from "./commands/doctor.ts";
import { historyCommand } from "./commands/history.ts";
import { listCommand } from "./commands/list.ts";
import { provenanceCommand } from "./commands/provenance.ts";
import { statusCommand } from "./commands/status.ts";
import { stopCommand } from "./commands/stop.ts";
import { unlockCommand } from "./commands/unlock.ts";
import { type CliError, explainError, UsageError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import type { Io } from "./io.ts";
import { printJson } from "./render/json.ts";
import { commandSpec, commandUsage, mainUsage } from "./usage.ts";

declare const GANTRY_CLI_VERSION: string | undefined;

/** The command's version (the package's, stamped in at build time). */
export const VERSION: string =
  typeof GANTRY_CLI_VERSION === "string" ? GANTRY_CLI_VERSION : "0.0.0-source";

type Handler = (context: CommandContext) => Promise<ExitCode>;

const HANDLERS: Readonly<Record<string, Handler>> = {
  deploy: deployCommand,
  status: statusCommand,
  history: historyCommand,
  list: listCommand,
  stop: stopCommand,
  approve: (context) => approveCommand(context, "approve"),
  reject: (context) => approveCommand(context, "reject"),
  unlock: unlockCommand,
  provenance: provenanceCommand,
  "artifact publish": publishCommand,
  "artifact validate": validateCommand,
  doctor: (context) => doctorCommand(context),
};

/**
 * Runs `gantry <argv...>` and returns the exit code. Never throws: every error is printed
 * (to stderr, and as a JSON document on stdout with `--json`) with what to do next.
 *
 * @example
 * ```ts
 * process.exitCode = await run(["status", "hello-service-3f2a9c1e0b12-ab12cd34", "--stage", "prod"], processIo());
 * ```
 */
export async function run(argv: readonly string[], io: Io): Promise<ExitCode> {
  const json = argv.includes("--json");
  try {
    const line = parseCommandLine(argv);
    if (line.kind === "version") {
      io.stdout.write(`gantry ${VERSION}\n`);
      return ExitCode.Ok;
    }
    if (line.kind === "help") {
      io.stdout.write(`${line.command ? commandUsage(line.command) : mainUsage()}\n`);
      return ExitCode.Ok;
    }
    const handler = HANDLERS[line.command.name];
    if (!handler) throw new UsageError("", `unknown command: ${line.command.name}`);
    return await handler({
      io,
      command: line.command.name,
      options: line.options,
      positional: line.positional,
    });
  } catch (error) {
    const explained = explainError(error);
    report(io, explained, json);
    return explained.exitCode;
  }
}

function report(io: Io, error: CliError, json: boolean): void {
  const lines = [`gantry: ${error.message}`, ...error.hints.map((hint) => `  → ${hint}`)];
  if (error instanceof UsageError) {
    const spec = error.command ? commandSpec(error.command) : undefined;
    lines.push("", spec ? commandUsage(spec) : mainUsage());
  }
  io.stderr.write(`${lines.join("\n")}\n`);
  if (json) {
    printJson(io.stdout, {
      error: {
        exitCode: error.exitCode,
        message: error.message,
        hints: error.hints,
        ...(error.details ?? {}),
      },
    });
  }
}
