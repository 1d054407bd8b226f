/**
 * @gantry/local: the embedded local control plane. The same ASL and the same function
 * factories as AWS, run in-process over local ports.
 */
export type { HistoryEvent } from "./control-plane/history.ts";
export * from "./engine/definition.ts";
export * from "./engine/task-tokens.ts";
export * from "./engine/workflow-engine.ts";
export * from "./local-config.ts";
export {
  type LocalControlPlane,
  type LocalControlPlaneOptions,
  startLocalControlPlane,
  type WebRoute,
} from "./local-control-plane.ts";
export * from "./oidc/index.ts";
export * from "./placeholder.ts";
export { silenceNegativeTimeoutWarnings } from "./quiet-warnings.ts";
export { type LocalSettings, localSettings, PROJECT_ROOT, SettingError } from "./settings.ts";
export * from "./workflow-handlers.ts";
export { alarmStateChangeEvent } from "./world/alarms.ts";
export { LocalBuckets } from "./world/buckets.ts";
export { LocalHoldScheduler, type ScheduleTarget } from "./world/hold-scheduler.ts";
export { alarmSpecs } from "./world/local-world.ts";
export { createZip } from "./world/zip.ts";
