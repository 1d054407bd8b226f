import type { Logger } from "@aws-lambda-powertools/logger";
import { S3Client } from "@aws-sdk/client-s3";
import { SFNClient } from "@aws-sdk/client-sfn";
import {
  createLogger,
  lazy,
  requiredEnv,
  S3RecordStore,
  SfnWorkflowCallbacks,
  secretsManagerKeys,
  stageFromEnv,
  stepHandler,
} from "@gantry/aws";
import { handleOperatorHttp, type OperatorApiDeps, systemClock } from "@gantry/core";
import type { APIGatewayProxyStructuredResultV2, LambdaFunctionURLEvent } from "aws-lambda";
import registry from "../gantry.registry.ts";

/**
 * The operator API (`gantry approve` / `gantry reject`, and `gantry unlock`) behind a Function URL with
 * `AWS_IAM` auth: Lambda only invokes it for a SigV4-signed request whose principal may call
 * `lambda:InvokeFunctionUrl` on it, and hands over that principal's ARN. The registry's
 * `operators` map it to an approver; nothing the caller types says who they are.
 */
export type Deps = OperatorApiDeps & { readonly log: Logger };

/** The caller's IAM principal, as Lambda reports it for an AWS_IAM Function URL. */
function principalOf(event: LambdaFunctionURLEvent): string {
  const iam = (event.requestContext as { authorizer?: { iam?: { userArn?: unknown } } } | undefined)
    ?.authorizer?.iam;
  return typeof iam?.userArn === "string" ? iam.userArn : "";
}

export const createHandler = (deps: Deps) =>
  stepHandler(
    deps.log,
    async (event: LambdaFunctionURLEvent): Promise<APIGatewayProxyStructuredResultV2> => {
      const principal = principalOf(event);
      const method = event.requestContext?.http?.method ?? "GET";
      if (!principal) {
        // Only reachable if the URL's auth type were changed to NONE: refuse, never guess.
        return {
          statusCode: 401,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            error: "Unauthenticated",
            status: 401,
            message: "sign the request with SigV4",
          }),
        };
      }
      const body =
        event.body && event.isBase64Encoded
          ? Buffer.from(event.body, "base64").toString("utf8")
          : event.body;
      const contentType = event.headers?.["content-type"] ?? event.headers?.["Content-Type"];
      const response = await handleOperatorHttp(
        {
          method,
          path: event.rawPath ?? "/",
          principal,
          ...(contentType ? { contentType } : {}),
          ...(body !== undefined ? { body } : {}),
        },
        deps,
      );
      deps.log.info("operator request", { method, principal, status: response.status });
      return { statusCode: response.status, headers: response.headers, body: response.body };
    },
  );

export const awsDeps = (): Deps => {
  let store: S3RecordStore | undefined;
  const stateBucket = () =>
    (store ??= new S3RecordStore(new S3Client({}), requiredEnv("GANTRY_STATE_BUCKET")));
  return lazy<Deps>({
    records: stateBucket,
    bytes: stateBucket,
    stage: stageFromEnv,
    workflows: () => new SfnWorkflowCallbacks(new SFNClient({})),
    decisionKeys: () => secretsManagerKeys("decisions"),
    operators: () => registry.operators,
    clock: () => systemClock,
    log: () => createLogger("approval-operator"),
  });
};

export const handler = createHandler(awsDeps());
