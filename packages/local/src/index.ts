/**
 * @gantry/local: the embedded local control plane. The same ASL and the same function
 * factories as AWS, run in-process over local ports.
 */
export * from "./engine/definition.ts";
export * from "./engine/task-tokens.ts";
export * from "./engine/workflow-engine.ts";
export * from "./workflow-handlers.ts";
export { LocalBuckets } from "./world/buckets.ts";
