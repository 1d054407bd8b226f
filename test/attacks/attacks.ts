/**
 * The attacks on the approval gate that the suite runs, by id. docs/security.md has a table
 * with one row per id, saying what stops each; `table.test.ts` checks the two agree.
 */
export const ATTACKS = {
  A01: "SendTaskSuccess with a forged output saying not approved",
  A02: "SendTaskSuccess with a forged output naming a listed approver",
  A03: "SendTaskSuccess with a forged output saying no approval is needed",
  A04: "SendTaskSuccess with a 200 KB forged output",
  A05: "a decision record written straight into the state bucket, unsealed",
  A06: "a decision record sealed with the link signing key",
  A07: "a genuine sealed decision of another execution, replayed",
  A08: "StartExecution claiming an auto-approve actor",
  A09: "a cross-site text/plain POST to the operator API",
  A10: "DNS rebinding: a foreign Host on the local servers",
  A11: "the operator API without the operator secret",
  A12: "the operator API with a wrong operator secret",
  A13: "the operator API with a body that is not application/json",
  A14: "the operator API from a web page (Sec-Fetch-Site: cross-site)",
  A15: "an operator naming an approver it is not registered as",
  A16: "a link with an altered signature",
  A17: "a link with the action swapped",
  A18: "a link with the approver swapped",
  A19: "a link with the expiry pushed back",
  A20: "one approval's link used on another",
  A21: "a validly signed link for someone not on the approver list",
  A22: "a mail scanner fetching the link (GET, HEAD)",
  A23: "replaying a used link, and the other approver's link after a decision",
  A24: "twenty concurrent POSTs of one link",
  A25: "a link of an approval voided by ApprovalNotVerified",
  A26: "a CI run URL carrying CR/LF and a forged Approve line",
  A27: "a CI run URL carrying a bidi override",
  A28: "a preprod validation record with forged lines, objects and 300 KB of padding",
  A29: "terminal escape sequences in remote text shown by gantry status",
  A30: "reading tokens, keys or decisions as another local user",
  A31: "finding the task token or a key in a page, email, log, history or record",
} as const;

export type AttackId = keyof typeof ATTACKS;
