/**
 * @gantry/aws: the ports of @gantry/core over AWS SDK v3 clients, and the Lambda handler shape
 * (middy + Powertools logger) every function shares.
 */
export * from "./cloudwatch.ts";
export * from "./config.ts";
export * from "./emf-metrics.ts";
export * from "./errors.ts";
export * from "./handler.ts";
export * from "./lambda-functions.ts";
export * from "./s3-artifacts.ts";
export * from "./s3-records.ts";
export * from "./scheduler.ts";
export * from "./secrets.ts";
export * from "./ses-mailer.ts";
export * from "./sfn-callbacks.ts";
