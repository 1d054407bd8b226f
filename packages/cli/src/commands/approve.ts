import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  type ApprovalAction,
  type ApprovalRecord,
  ApprovalRefused,
  isApprovalId,
} from "@gantry/core";
import { awsOperatorDesk, localOperatorDesk, type OperatorApiDesk } from "../approvals.ts";
import { stageOption, stringOption } from "../args.ts";
import { CliError, explainError, UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { shortSha } from "../render/format.ts";
import { printJson } from "../render/json.ts";
import { parseExecutionArn, type Target } from "../target.ts";
import { type CommandContext, say, targetOf, wantsJson } from "./context.ts";

/** Where the local control plane keeps the operator secret (packages/local: operator-secret.ts). */
const OPERATOR_SECRET_FILE = "operator-secret";

/**
 * The approval desk for a target: the local operator API with the operator secret from the
 * data directory, or the AWS operator Function URL with the request signed by the caller's
 * AWS credentials.
 */
export async function deskFor(target: Target, command: string): Promise<OperatorApiDesk> {
  if (target.kind === "local") {
    if (!target.webEndpoint) {
      throw new UsageError(
        command,
        "where is the local control plane's web endpoint? Pass --web-endpoint URL (GANTRY_WEB_ENDPOINT)",
        ["npm start prints it ('Console and approvals'); it is also in .gantry/endpoints.json"],
      );
    }
    return localOperatorDesk(target.webEndpoint, readOperatorSecret(target.home ?? ".gantry"));
  }
  if (!target.operatorUrl) {
    throw new UsageError(
      command,
      "where is the stage's operator endpoint? Pass --operator-url URL (GANTRY_OPERATOR_URL)",
      [
        "`sst deploy` prints it (output: operatorUrl); the request is signed with your AWS credentials",
      ],
    );
  }
  const config = target.sfn.config;
  return awsOperatorDesk(target.operatorUrl, config.credentials, await config.region());
}

/** The local operator secret: only the user who owns the data directory can read it. */
function readOperatorSecret(home: string): string {
  const file = join(home, OPERATOR_SECRET_FILE);
  if (!existsSync(file)) {
    throw new CliError(ExitCode.Failed, `no operator secret at ${file}`, [
      "it is created when the local control plane starts; set GANTRY_HOME to its data directory",
    ]);
  }
  if ((statSync(file).mode & 0o077) !== 0) {
    throw new CliError(ExitCode.Failed, `${file} is readable by other users; refusing to use it`, [
      `chmod 600 ${file}, or restart the control plane to have it checked`,
    ]);
  }
  return readFileSync(file, "utf8").trim();
}

/**
 * Finds the pending approval a reference means: its id, or the waiting execution's name or
 * ARN. Undefined when none matches; a usage error when several do (the same name in two stages).
 */
export function matchApproval(
  pending: readonly ApprovalRecord[],
  ref: string,
  stage: string | undefined,
): ApprovalRecord | undefined {
  const matches = pending.filter(
    (a) =>
      (a.id === ref || a.execution.id === ref || a.execution.name === ref) &&
      (stage === undefined || a.stage === stage),
  );
  if (matches.length > 1) {
    throw new CliError(ExitCode.Usage, `${ref} matches ${matches.length} pending approvals`, [
      `pass --stage, or one of the approval ids: ${matches.map((a) => a.id).join(", ")}`,
    ]);
  }
  return matches[0];
}

/**
 * `gantry approve|reject <approval id | execution>` for an approver at a terminal: decides
 * through the same approval service as the emailed links (`decideAsOperator`), recorded the
 * same way. Exit 0 when the decision was recorded and delivered; 2 when the reference or the
 * approver is wrong; 5 when it can no longer be decided (already decided, expired, not waiting).
 */
export async function approveCommand(
  context: CommandContext,
  action: ApprovalAction,
): Promise<ExitCode> {
  const ref = context.positional ?? "";
  const stage = stageOption(context.command, context.options, false);
  // Only a choice among the approvers the caller's proven identity maps to; never a claim.
  const as = stringOption(context.options, "as") ?? context.io.env.GANTRY_OPERATOR;
  const comment = stringOption(context.options, "comment");
  const arnRef = parseExecutionArn(ref);
  const target = targetOf(context, arnRef ? ref : undefined);
  const desk = await deskFor(target, context.command);
  const errorContext = {
    ...(target.webEndpoint ? { endpoint: target.webEndpoint } : {}),
    aws: target.kind === "aws",
  };

  let approvalId: string;
  let record: ApprovalRecord | undefined;
  try {
    const pending = await desk.pending();
    record = matchApproval(pending, ref, stage);
    if (record) approvalId = record.id;
    else if (isApprovalId(ref))
      approvalId = ref; // let the service say why it is not pending
    else {
      const waiting = pending.map(
        (a) =>
          `${a.execution.name} (${a.stage}, approval ${a.id}, approvers ${a.approvers.join(", ")})`,
      );
      throw new CliError(ExitCode.Failed, `nothing is waiting for a decision on ${ref}`, [
        waiting.length > 0
          ? `waiting now: ${waiting.join("; ")}`
          : "no deployment is waiting for approval right now",
        "it may have been decided already, timed out, or finished: `gantry status <execution>`",
      ]);
    }
  } catch (error) {
    throw explainError(error, errorContext);
  }

  try {
    const result = await desk.decide({
      approvalId,
      action,
      ...(as ? { as } : {}),
      ...(comment ? { comment } : {}),
    });
    if (wantsJson(context)) {
      printJson(context.io.stdout, result);
    } else {
      const what = record
        ? `${record.service} ${shortSha(record.version)} for ${record.stage}`
        : `approval ${approvalId}`;
      const verb = action === "approve" ? "Approved" : "Rejected";
      say(
        context,
        `${verb} ${what} as ${result.decision.by} (execution ${result.execution.name}).`,
        `The decision is recorded (approval ${result.decision.approvalId}, ${result.decision.at}, channel ${result.decision.channel}).`,
      );
    }
    return ExitCode.Ok;
  } catch (error) {
    if (error instanceof ApprovalRefused) {
      const code =
        error.status === 400 || error.status === 403 || error.status === 404
          ? ExitCode.Usage
          : ExitCode.Failed;
      const hints =
        error.status === 403
          ? [
              "only the approvers gantry.registry.ts lists for this service and stage may decide, " +
                "through an identity its `operators` section maps to them",
            ]
          : error.status === 404
            ? ["list what is waiting with `gantry approve <execution name>`, or check the id"]
            : [];
      throw new CliError(code, `${error.title}: ${error.message}`, hints, {
        status: error.status,
      });
    }
    throw explainError(error, errorContext);
  }
}
