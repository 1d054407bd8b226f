import type { Logger } from "@aws-lambda-powertools/logger";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { S3Client } from "@aws-sdk/client-s3";
import { SESv2Client } from "@aws-sdk/client-sesv2";
import { SFNClient } from "@aws-sdk/client-sfn";
import {
  CloudWatchAlarms,
  createLogger,
  lazy,
  requiredEnv,
  S3RecordStore,
  SesMailer,
  SfnWorkflowCallbacks,
  secretsManagerKeys,
  stepHandler,
} from "@gantry/aws";
import {
  type ApprovalGateDeps,
  type ApprovalGateEvent,
  approvalGate,
  systemClock,
} from "@gantry/core";

/**
 * ApprovalGate (`.waitForTaskToken`): first reads the stage's alarms (a watched alarm already in
 * ALARM refuses the deployment unless it is a `--fix-for` that alarm); then completes at once
 * when the stage needs no approval, otherwise stores the approval (token apart) and emails
 * signed links, once per execution. The event carries the task token: it is never logged.
 * No `functions` port: the role has no lambda:GetAlias, so a fix's approval names the version
 * to beat as "the version serving now".
 */
export type Deps = ApprovalGateDeps & { readonly log: Logger };

// A stage without approvals has no sender (its stack sets none): the step reads it only when
// it mails, and the deps are passed as they are, so nothing else reads it either.
export const createHandler = (deps: Deps) =>
  stepHandler(deps.log, (event: ApprovalGateEvent) => approvalGate(event, deps));

export const awsDeps = (): Deps =>
  lazy<Deps>({
    records: () => new S3RecordStore(new S3Client({}), requiredEnv("GANTRY_STATE_BUCKET")),
    mailer: () => new SesMailer(new SESv2Client({})),
    workflows: () => new SfnWorkflowCallbacks(new SFNClient({})),
    alarms: () => new CloudWatchAlarms(new CloudWatchClient({})),
    secrets: () => secretsManagerKeys("links"),
    clock: () => systemClock,
    approvalBaseUrl: () => requiredEnv("GANTRY_APPROVAL_URL"),
    sender: () => requiredEnv("GANTRY_SENDER"),
    log: () => createLogger("approval-gate"),
  });

export const handler = createHandler(awsDeps());
