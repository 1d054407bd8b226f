/**
 * SST's config types import Bun's `Shell` type (used only by autodeploy runners, which Gantry
 * does not use). Bun's own types would also redefine Node's globals (URL, fetch, ...), so the
 * infra typecheck (tsconfig.infra.json) maps "bun" to this stand-in.
 */
export type Shell = (...args: never[]) => unknown;
