/**
 * @gantry/local/approver: an approver's side of the local control plane, done as a person does
 * it: the approval email in the outbox (an RFC 5322 `.eml` file under `<home>/outbox`), its link
 * opened (a confirmation page, which decides nothing), the page's form posted. The end-to-end
 * suites, the attack suite and `npm run demo` all approve this way.
 *
 * @example
 * ```ts
 * import { approveByEmail } from "@gantry/local/approver";
 * await approveByEmail({ home: ".gantry" }, executionArn, "alice@example.com", "looks good");
 * ```
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Where a local control plane keeps its data (its outbox is `<home>/outbox`). */
export interface LocalHome {
  readonly home: string;
}

export interface Mail {
  readonly file: string;
  readonly to: string;
  readonly subject: string;
  /** The text/plain part. */
  readonly text: string;
}

/** Reads the outbox's .eml files (RFC 5322, multipart/alternative) about an execution. */
export function outbox(local: LocalHome, executionName: string): Mail[] {
  const dir = join(local.home, "outbox");
  if (!existsSync(dir)) return [];
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

/** Waits for the approval email about an execution to one approver. */
export async function emailFor(
  local: LocalHome,
  executionName: string,
  approver: string,
  timeoutMs = 20_000,
): Promise<Mail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mail = outbox(local, executionName).find((m) => m.to === approver);
    if (mail) return mail;
    if (Date.now() > deadline) {
      throw new Error(
        `no email to ${approver} about ${executionName} in ${join(local.home, "outbox")}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The approve or reject link of an email. */
export function link(mail: Mail, action: "Approve" | "Reject"): string {
  const url = new RegExp(`^${action}:\\s+(\\S+)$`, "m").exec(mail.text)?.[1];
  if (!url) throw new Error(`no ${action} link in ${mail.file}`);
  return url;
}

/** Opens a link as a browser would, then submits the confirmation form on the page. */
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

/**
 * An approver approves an execution through the link emailed to them, and confirms. Resolves
 * when the confirmation was accepted (200), with the time it was.
 */
export async function approveByEmail(
  local: LocalHome,
  executionArn: string,
  approver = "alice@example.com",
  comment?: string,
): Promise<{ confirmedAt: number }> {
  const name = executionArn.split(":").at(-1) ?? "";
  const { result, resultBody } = await confirm(
    link(await emailFor(local, name, approver), "Approve"),
    comment,
  );
  const confirmedAt = Date.now();
  if (result.status !== 200) throw new Error(`approving answered ${result.status}: ${resultBody}`);
  return { confirmedAt };
}

/** Undoes the HTML escaping of an attribute value (the approval pages escape these five). */
function decodeEntities(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}
