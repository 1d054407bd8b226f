import type { EmailMessage, Mailer } from "@gantry/core";
import { createTransport } from "nodemailer";

/**
 * Forwards email over SMTP, to a local mail catcher such as MailHog or maildev (the outbox still
 * keeps its copy). Set GANTRY_SMTP_URL, e.g. `smtp://127.0.0.1:1025`.
 *
 * @example
 * ```ts
 * const outbox = new Outbox(".gantry/outbox", new SmtpMailer("smtp://127.0.0.1:1025"));
 * ```
 */
export class SmtpMailer implements Mailer {
  readonly #transport: ReturnType<typeof createTransport>;

  constructor(url: string) {
    const parsed = new URL(url);
    if (parsed.protocol !== "smtp:" && parsed.protocol !== "smtps:")
      throw new TypeError("GANTRY_SMTP_URL must be an smtp:// or smtps:// URL");
    this.#transport = createTransport(url);
  }

  async send(message: EmailMessage): Promise<void> {
    await this.#transport.sendMail({
      from: message.from,
      to: [...message.to],
      subject: message.subject,
      text: message.text,
      html: message.html,
    });
  }
}
