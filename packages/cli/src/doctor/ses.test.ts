/** doctor's SES checks (ses.ts) over a mocked SES v2. */
import { GetAccountCommand, GetEmailIdentityCommand, SESv2Client } from "@aws-sdk/client-sesv2";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { checkSes } from "./ses.ts";
import { awsError, doctorClients, prodPlan } from "./testing.ts";

const ses = mockClient(SESv2Client);

const clients = doctorClients();

beforeEach(() => {
  ses.reset();
});

const plan = prodPlan();

describe("checkSes", () => {
  const verified = {
    IdentityType: "EMAIL_ADDRESS" as const,
    VerifiedForSendingStatus: true,
    VerificationStatus: "SUCCESS" as const,
  };

  it("passes a verified sender in an account with production access", async () => {
    ses.on(GetEmailIdentityCommand, { EmailIdentity: "gantry@acme.dev" }).resolves(verified);
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: true, SendingEnabled: true });
    const results = await checkSes(clients.ses, plan.ses, "prod", "us-east-1");
    expect(results.map((r) => [r.subject, r.status, r.message])).toEqual([
      ["gantry@acme.dev", "ok", "address identity verified for sending"],
      ["account (us-east-1)", "ok", "production access: approval mail can go to any address"],
    ]);
  });

  it("in the sandbox, checks every approver: a verified address or a verified domain", async () => {
    ses
      .on(GetEmailIdentityCommand)
      .rejects(awsError("NotFoundException", 404))
      .on(GetEmailIdentityCommand, { EmailIdentity: "gantry@acme.dev" })
      .resolves(verified)
      .on(GetEmailIdentityCommand, { EmailIdentity: "alice@example.com" })
      .resolves({ ...verified, VerifiedForSendingStatus: false, VerificationStatus: "PENDING" });
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: false, SendingEnabled: true });
    const results = await checkSes(clients.ses, plan.ses, "prod", "us-east-1");
    expect(results.map((r) => [r.subject, r.status, r.message])).toEqual([
      ["gantry@acme.dev", "ok", "address identity verified for sending"],
      [
        "account (us-east-1)",
        "warn",
        "in the SES sandbox: mail goes only to verified addresses, so each approver must be verified (checked below)",
      ],
      [
        "alice@example.com",
        "fail",
        "approver: the address identity is not verified for sending (VerificationStatus PENDING): in the sandbox SES will not mail them",
      ],
      [
        "bob@example.com",
        "fail",
        "approver: not a verified identity: in the sandbox SES will not mail them",
      ],
    ]);
    expect(results[3]?.fix).toContain(
      "aws sesv2 create-email-identity --email-identity bob@example.com",
    );

    ses.on(GetEmailIdentityCommand, { EmailIdentity: "example.com" }).resolves({
      IdentityType: "DOMAIN",
      VerifiedForSendingStatus: true,
    });
    const withDomain = await checkSes(clients.ses, plan.ses, "prod", "us-east-1");
    expect(withDomain.slice(2).map((r) => [r.status, r.message])).toEqual([
      ["ok", "approver: in the verified domain example.com"],
      ["ok", "approver: in the verified domain example.com"],
    ]);
  });

  it("fails an unverified sender: the address's link, or the domain's DKIM records", async () => {
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: true });
    ses
      .on(GetEmailIdentityCommand)
      .resolves({ ...verified, VerifiedForSendingStatus: false, VerificationStatus: "PENDING" });
    const [address] = await checkSes(clients.ses, plan.ses, "prod", "us-east-1");
    expect(address).toMatchObject({
      status: "fail",
      message:
        "the address identity is not verified for sending (VerificationStatus PENDING): SES refuses to send from it",
    });
    expect(address?.fix).toContain("click the link SES mailed to gantry@acme.dev");

    ses.on(GetEmailIdentityCommand).resolves({
      IdentityType: "DOMAIN",
      VerifiedForSendingStatus: false,
      VerificationStatus: "FAILED",
      DkimAttributes: { Tokens: ["t1", "t2"] },
    });
    const [domain] = await checkSes(
      clients.ses,
      { ...plan.ses, identity: "acme.dev" },
      "prod",
      "us-east-1",
    );
    expect(domain).toMatchObject({
      subject: "acme.dev",
      status: "fail",
      message:
        "the domain identity is not verified for sending (VerificationStatus FAILED): SES refuses to send from it",
      details: [
        "CNAME t1._domainkey.acme.dev -> t1.dkim.amazonses.com",
        "CNAME t2._domainkey.acme.dev -> t2.dkim.amazonses.com",
      ],
    });
  });

  it("fails a missing sender identity, paused sending and unreadable SES", async () => {
    ses.on(GetEmailIdentityCommand).rejects(awsError("NotFoundException", 404));
    ses.on(GetAccountCommand).resolves({ SendingEnabled: false, EnforcementStatus: "SHUTDOWN" });
    const results = await checkSes(clients.ses, plan.ses, "prod", "us-east-1");
    expect(results.map((r) => [r.status, r.message])).toEqual([
      ["fail", "the sender identity does not exist in us-east-1"],
      [
        "fail",
        "sending is paused for this account in us-east-1 (enforcement status SHUTDOWN): no approval mail goes out",
      ],
    ]);

    ses.on(GetEmailIdentityCommand).rejects(awsError("AccessDeniedException", 403, "no"));
    ses.on(GetAccountCommand).rejects(awsError("AccessDeniedException", 403, "no"));
    const denied = await checkSes(clients.ses, plan.ses, "prod", "us-east-1");
    expect(denied.map((r) => r.fix)).toEqual([
      expect.stringContaining("ses:GetEmailIdentity"),
      expect.stringContaining("ses:GetAccount"),
    ]);
  });

  it("has nothing to check where no mail is sent", async () => {
    const results = await checkSes(
      clients.ses,
      { approvals: false, approvers: [] },
      "preprod",
      "us-east-1",
    );
    expect(results).toEqual([
      expect.objectContaining({ status: "ok", message: expect.stringContaining("sends no mail") }),
    ]);
    expect(ses.calls()).toHaveLength(0);
  });
});
