/**
 * Metric names Gantry publishes (CloudWatch namespace `Gantry`, dimensions Service and Stage).
 * The infrastructure's alarms and the local world's alarms are defined on these names.
 */
export const METRIC_NAMESPACE = "Gantry";

/** 1 each time a rollback could not restore or verify the previous version. */
export const ROLLBACK_FAILED_METRIC = "RollbackFailed";

/** 1 per failed scheduled-canary check, 0 per passing one. */
export const CANARY_FAILURES_METRIC = "CanaryFailures";
