/**
 * The `gantry` command's entry point (bundled into packages/cli/dist/gantry.mjs). Ctrl-C while
 * following a deployment stops following, not the deployment; a second Ctrl-C exits at once.
 */
import { processIo } from "./io.ts";
import { run } from "./run.ts";

const interrupt = new AbortController();
process.on("SIGINT", () => {
  if (interrupt.signal.aborted) process.exit(130);
  interrupt.abort();
});
// A closed pipe (`gantry list | head`) is not an error worth a stack trace.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

process.exitCode = await run(process.argv.slice(2), processIo(interrupt.signal));
