/** doctor's SES checks: the sender can send, and in the sandbox every approver can receive. */
import {
  GetAccountCommand,
  GetEmailIdentityCommand,
  type GetEmailIdentityCommandOutput,
  type SESv2Client,
} from "@aws-sdk/client-sesv2";
import type { Stage } from "@gantry/core";
import { mapLimit } from "./map-limit.ts";
import type { SesPlan } from "./plan.ts";
import {
  type CheckResult,
  callerNeeds,
  describeError,
  errorName,
  isAccessDenied,
} from "./result.ts";

async function identity(
  ses: SESv2Client,
  name: string,
): Promise<GetEmailIdentityCommandOutput | undefined> {
  try {
    return await ses.send(new GetEmailIdentityCommand({ EmailIdentity: name }));
  } catch (error) {
    if (errorName(error) === "NotFoundException") return undefined;
    throw error;
  }
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1).toLowerCase();
}

/**
 * The sender identity is verified for sending (SESv2 GetEmailIdentity), and, when the account
 * is in the SES sandbox (GetAccount `ProductionAccessEnabled` false), that every approver is a
 * verified address or in a verified domain: in the sandbox SES only delivers to those.
 *
 * @example
 * ```ts
 * const results = await checkSes(ses, plan.ses, "prod", "us-east-1");
 * ```
 */
export async function checkSes(
  ses: SESv2Client,
  plan: SesPlan,
  stage: Stage,
  region: string,
): Promise<CheckResult[]> {
  if (!plan.identity) {
    return [
      {
        check: "ses",
        subject: "sender",
        status: "ok",
        message: `no approvals in ${stage} and no GANTRY_SENDER: Gantry sends no mail here`,
      },
    ];
  }
  const results: CheckResult[] = [await senderResult(ses, plan, stage, region)];
  if (!plan.approvals) return results;

  let sandbox: boolean;
  try {
    const account = await ses.send(new GetAccountCommand({}));
    if (account.SendingEnabled === false) {
      results.push({
        check: "ses",
        subject: `account (${region})`,
        status: "fail",
        message: `sending is paused for this account in ${region}${account.EnforcementStatus ? ` (enforcement status ${account.EnforcementStatus})` : ""}: no approval mail goes out`,
        fix: "see the SES console's Account dashboard (Reputation metrics) for why, and resume sending",
      });
      return results;
    }
    sandbox = account.ProductionAccessEnabled !== true;
  } catch (error) {
    results.push({
      check: "ses",
      subject: `account (${region})`,
      status: "fail",
      message: `cannot read the SES account: ${describeError(error)}`,
      ...(isAccessDenied(error) ? { fix: callerNeeds("ses:GetAccount") } : {}),
    });
    return results;
  }
  if (!sandbox) {
    results.push({
      check: "ses",
      subject: `account (${region})`,
      status: "ok",
      message: "production access: approval mail can go to any address",
    });
    return results;
  }
  results.push({
    check: "ses",
    subject: `account (${region})`,
    status: "warn",
    message: `in the SES sandbox: mail goes only to verified addresses, so each approver must be verified (checked below)`,
    fix: `request production access (SES console, Account dashboard, in ${region}), or keep every approver verified`,
  });
  results.push(
    ...(await mapLimit(plan.approvers, 4, (approver) => recipientResult(ses, approver))),
  );
  return results;
}

async function senderResult(
  ses: SESv2Client,
  plan: SesPlan,
  stage: Stage,
  region: string,
): Promise<CheckResult> {
  const name = plan.identity ?? "";
  const base = { check: "ses" as const, subject: name };
  let found: GetEmailIdentityCommandOutput | undefined;
  try {
    found = await identity(ses, name);
  } catch (error) {
    return {
      ...base,
      status: "fail",
      message: `cannot read the sender identity: ${describeError(error)}`,
      ...(isAccessDenied(error) ? { fix: callerNeeds("ses:GetEmailIdentity") } : {}),
    };
  }
  if (!found) {
    return {
      ...base,
      status: "fail",
      message: `the sender identity does not exist in ${region}`,
      fix: `npx sst deploy --stage ${stage} creates it from GANTRY_SENDER (GANTRY_SENDER_IDENTITY); check that doctor and the deploy use the same region and settings`,
    };
  }
  const type = found.IdentityType === "EMAIL_ADDRESS" ? "address" : "domain";
  const from = plan.sender && plan.sender !== name ? `, for ${plan.sender}` : "";
  if (found.VerifiedForSendingStatus === true) {
    return { ...base, status: "ok", message: `${type} identity verified for sending${from}` };
  }
  const status = found.VerificationStatus ?? "NOT_STARTED";
  if (type === "address") {
    return {
      ...base,
      status: "fail",
      message: `the address identity is not verified for sending (VerificationStatus ${status}): SES refuses to send from it`,
      fix: `click the link SES mailed to ${name} (to send it again: aws ses verify-email-identity --email-address ${name})`,
    };
  }
  const tokens = found.DkimAttributes?.Tokens ?? [];
  return {
    ...base,
    status: "fail",
    message: `the domain identity is not verified for sending (VerificationStatus ${status}): SES refuses to send from it`,
    ...(tokens.length > 0
      ? {
          details: tokens.map((t) => `CNAME ${t}._domainkey.${name} -> ${t}.dkim.amazonses.com`),
        }
      : {}),
    fix: `publish the DKIM CNAME records ${tokens.length > 0 ? "above" : `(aws sesv2 get-email-identity --email-identity ${name} --query DkimAttributes.Tokens)`} in ${name}'s DNS; SES verifies the domain once it sees them`,
  };
}

async function recipientResult(ses: SESv2Client, approver: string): Promise<CheckResult> {
  const base = { check: "ses" as const, subject: approver };
  try {
    const address = await identity(ses, approver);
    if (address?.VerifiedForSendingStatus === true) {
      return { ...base, status: "ok", message: "approver: a verified address" };
    }
    const domain = await identity(ses, domainOf(approver));
    if (domain?.VerifiedForSendingStatus === true) {
      return {
        ...base,
        status: "ok",
        message: `approver: in the verified domain ${domainOf(approver)}`,
      };
    }
    return {
      ...base,
      status: "fail",
      message: `approver: ${address ? `the address identity is not verified for sending (VerificationStatus ${address.VerificationStatus ?? "PENDING"})` : "not a verified identity"}: in the sandbox SES will not mail them`,
      fix: `aws sesv2 create-email-identity --email-identity ${approver} (they click the link SES sends), or request production access`,
    };
  } catch (error) {
    return {
      ...base,
      status: "fail",
      message: `approver: cannot read their identity: ${describeError(error)}`,
      ...(isAccessDenied(error) ? { fix: callerNeeds("ses:GetEmailIdentity") } : {}),
    };
  }
}
