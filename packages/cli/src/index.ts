/**
 * @gantry/cli: the `gantry` command, and its parts for reuse (following an execution, reading
 * progress out of a history, the exit codes).
 */
export * from "./args.ts";
export * from "./ci-env.ts";
export * from "./errors.ts";
export * from "./exit-codes.ts";
export * from "./follow.ts";
export * from "./io.ts";
export * from "./progress.ts";
export * from "./run.ts";
export * from "./summary.ts";
export * from "./target.ts";
