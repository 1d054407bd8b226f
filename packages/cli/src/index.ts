/**
 * @gantry/cli: the `gantry` command, and its parts for reuse (following an execution, its
 * summary, the exit codes). Reading a history is @gantry/core's (HistoryReader).
 */
export * from "./args.ts";
export * from "./ci-env.ts";
export * from "./errors.ts";
export * from "./exit-codes.ts";
export * from "./follow.ts";
export * from "./io.ts";
export * from "./run.ts";
export * from "./summary.ts";
export * from "./target.ts";
