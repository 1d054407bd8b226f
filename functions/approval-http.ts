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
  stepHandler,
} from "@gantry/aws";
import { type ApprovalServiceDeps, handleApprovalHttp, systemClock } from "@gantry/core";
import type { APIGatewayProxyStructuredResultV2, LambdaFunctionURLEvent } from "aws-lambda";

/**
 * The approval pages, behind a Lambda Function URL: GET of a signed link shows a confirmation
 * page, the POST of its form decides. Query strings and bodies are never logged: they carry
 * the link's signature.
 */
export type Deps = ApprovalServiceDeps & { readonly log: Logger };

export const createHandler = (deps: Deps) =>
  stepHandler(
    deps.log,
    async (event: LambdaFunctionURLEvent): Promise<APIGatewayProxyStructuredResultV2> => {
      const body =
        event.body && event.isBase64Encoded
          ? Buffer.from(event.body, "base64").toString("utf8")
          : event.body;
      const contentType = event.headers?.["content-type"] ?? event.headers?.["Content-Type"];
      const response = await handleApprovalHttp(
        {
          method: event.requestContext?.http?.method ?? "GET",
          path: event.rawPath ?? "/",
          query: event.rawQueryString ?? "",
          ...(contentType ? { contentType } : {}),
          ...(body !== undefined ? { body } : {}),
        },
        deps,
      );
      deps.log.info("approval request", {
        method: event.requestContext?.http?.method,
        status: response.status,
      });
      return { statusCode: response.status, headers: response.headers, body: response.body };
    },
  );

export const awsDeps = (): Deps =>
  lazy<Deps>({
    records: () => new S3RecordStore(new S3Client({}), requiredEnv("GANTRY_STATE_BUCKET")),
    workflows: () => new SfnWorkflowCallbacks(new SFNClient({})),
    secrets: () => secretsManagerKeys("links"),
    decisionKeys: () => secretsManagerKeys("decisions"),
    clock: () => systemClock,
    log: () => createLogger("approval-http"),
  });

export const handler = createHandler(awsDeps());
