/**
 * The approver's part of the demo, as a person does it: alice finds the approval email in the
 * outbox, opens its link (a confirmation page) and confirms. Through @gantry/local/approver, the
 * same helper the end-to-end suites approve with.
 */
import { confirm, emailFor, link, outbox } from "@gantry/local/approver";
import type { Plane } from "./plane.ts";

export const APPROVER = "alice@example.com";

/**
 * Waits for the approval email of an execution, approves through its link, and returns when the
 * confirmation was accepted (the time of the click, for the story's timing).
 */
export async function approveFromOutbox(
  plane: Plane,
  executionName: string,
  say: (line: string) => void,
): Promise<number> {
  const mail = await emailFor(plane, executionName, APPROVER, 30_000);
  const recipients = [...new Set(outbox(plane, executionName).map((m) => m.to))].sort();
  say(`   prod     approval requested: emailed ${recipients.join(" and ")}`);
  // A fix deployed during an incident says so in its email (never auto-approved).
  const incident = /during an incident[^\n]*/i.exec(mail.text)?.[0];
  if (incident) say(`            the email says: "${incident.trim()}"`);
  const { page, result, resultBody } = await confirm(link(mail, "Approve"), "approved by the demo");
  const clickedAt = Date.now();
  if (page.status !== 200) throw new Error(`the approval link answered ${page.status}`);
  if (result.status !== 200) {
    throw new Error(
      `confirming the approval answered ${result.status}: ${resultBody.slice(0, 200)}`,
    );
  }
  say(`            ${APPROVER} opened the link from the outbox and confirmed`);
  return clickedAt;
}
