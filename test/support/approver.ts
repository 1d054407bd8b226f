/**
 * An approver's side of the local control plane, as a person would do it: the email in the
 * outbox (an RFC 5322 file), its link opened (a confirmation page), the form posted. Also the
 * local operator's secret, as `gantry approve` reads it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type LocalProcess, waitFor } from "./local-process.ts";

export interface Mail {
  readonly file: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/** Reads the outbox's .eml files (RFC 5322, multipart/alternative) for an execution. */
export function outbox(local: LocalProcess, executionName: string): Mail[] {
  const dir = join(local.home, "outbox");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".eml"))
    .map((file) => {
      const raw = readFileSync(join(dir, file), "utf8");
      const [head = "", ...rest] = raw.split("\r\n\r\n");
      const header = (name: string) => new RegExp(`^${name}: (.*)$`, "mi").exec(head)?.[1] ?? "";
      const boundary = /boundary="([^"]+)"/.exec(head)?.[1] ?? "";
      const textPart =
        rest
          .join("\r\n\r\n")
          .split(`--${boundary}`)
          .find((p) => p.includes("Content-Type: text/plain")) ?? "";
      return {
        file,
        to: header("To"),
        subject: header("Subject"),
        text: textPart.split("\r\n\r\n").slice(1).join("\r\n\r\n"),
      };
    })
    .filter((m) => m.text.includes(executionName));
}

/** Waits for the approval email of an execution to one approver. */
export async function emailFor(
  local: LocalProcess,
  executionName: string,
  approver: string,
): Promise<Mail> {
  return waitFor(
    () => outbox(local, executionName).find((m) => m.to === approver),
    20_000,
    () => `no email to ${approver}`,
  );
}

/** The approve or reject link of an email. */
export function link(mail: Mail, action: "Approve" | "Reject"): string {
  const url = new RegExp(`^${action}:\\s+(\\S+)$`, "m").exec(mail.text)?.[1];
  if (!url) throw new Error(`no ${action} link in ${mail.file}`);
  return url;
}

/** Opens a link as a browser would, then submits the confirmation form. */
export async function confirm(
  url: string,
  comment?: string,
): Promise<{ page: Response; pageBody: string; result: Response; resultBody: string }> {
  const page = await fetch(url);
  const pageBody = await page.text();
  const form = new URLSearchParams();
  for (const match of pageBody.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(match[1] as string, decodeEntities(match[2] as string));
  }
  if (comment) form.set("comment", comment);
  const action = /<form method="post" action="([^"]+)">/.exec(pageBody)?.[1] ?? "";
  const result = await fetch(new URL(action, url), {
    method: "POST",
    body: form,
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  return { page, pageBody, result, resultBody: await result.text() };
}

/** An approver approves an execution through the link emailed to them, and confirms. */
export async function approveByEmail(
  local: LocalProcess,
  executionArn: string,
  approver = "alice@example.com",
): Promise<void> {
  const name = executionArn.split(":").at(-1) ?? "";
  const { result, resultBody } = await confirm(
    link(await emailFor(local, name, approver), "Approve"),
  );
  if (result.status !== 200) throw new Error(`approving answered ${result.status}: ${resultBody}`);
}

/** The local operator secret (`gantry approve` sends it to the operator API). */
export function operatorSecret(local: LocalProcess): string {
  return readFileSync(join(local.home, "operator-secret"), "utf8").trim();
}

function decodeEntities(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}
