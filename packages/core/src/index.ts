/**
 * @gantry/core: the deployment domain. Input schema, service registry and plan, step services
 * over ports, approval-link signing, the named errors the workflow routes on, and the
 * reader of an execution's history (its progress and outcome).
 * Nothing here imports an AWS SDK.
 */

export * from "./analysis/statistics.ts";
export * from "./analysis/verdict.ts";
export * from "./approval/decide.ts";
export * from "./approval/email.ts";
export * from "./approval/html.ts";
export * from "./approval/http.ts";
export * from "./approval/links.ts";
export * from "./approval/operator-http.ts";
export * from "./approval/operators.ts";
export * from "./approval/pages.ts";
export * from "./approval/record.ts";
export * from "./approval/seal.ts";
export * from "./checksum.ts";
export * from "./errors.ts";
export * from "./execution-name.ts";
export * from "./function-catalog.ts";
export * from "./history/events.ts";
export * from "./history/names.ts";
export * from "./history/outcome.ts";
export * from "./history/reader.ts";
export * from "./history/verdict.ts";
export * from "./metrics-query.ts";
export * from "./plan.ts";
export * from "./ports.ts";
export * from "./quotas.ts";
export * from "./registry.ts";
export * from "./request.ts";
export * from "./signing-keys.ts";
export * from "./state.ts";
export * from "./steps/acquire-lock.ts";
export * from "./steps/analyze-versions.ts";
export * from "./steps/approval-gate.ts";
export * from "./steps/break-lock.ts";
export * from "./steps/canary.ts";
export * from "./steps/check-alarms.ts";
export * from "./steps/copy-artifact.ts";
export * from "./steps/deploy.ts";
export * from "./steps/finish.ts";
export * from "./steps/hold.ts";
export * from "./steps/hold-events.ts";
export * from "./steps/metrics.ts";
export * from "./steps/promote.ts";
export * from "./steps/reconcile.ts";
export * from "./steps/rollback.ts";
export * from "./steps/scheduled-canary.ts";
export * from "./steps/traffic.ts";
export * from "./steps/validate-input.ts";
export * from "./steps/verify-approval.ts";
export * from "./steps/verify-preprod.ts";
export * from "./text.ts";
export * from "./trigger/claims.ts";
export * from "./trigger/describe.ts";
export * from "./trigger/verify.ts";
export * from "./workflow.ts";
