import { type SESv2Client, SendEmailCommand } from "@aws-sdk/client-sesv2";
import type { EmailMessage, Mailer } from "@gantry/core";
import { aws } from "./errors.ts";

/**
 * Sends email through SES v2 (the sender identity must be verified).
 *
 * @example
 * ```ts
 * const mailer = new SesMailer(new SESv2Client({}));
 * await mailer.send({ from: "gantry@acme.dev", to: ["alice@acme.dev"], subject, text, html });
 * ```
 */
export class SesMailer implements Mailer {
  readonly #ses: SESv2Client;

  constructor(ses: SESv2Client) {
    this.#ses = ses;
  }

  async send(message: EmailMessage): Promise<void> {
    await aws("SendEmail", () =>
      this.#ses.send(
        new SendEmailCommand({
          FromEmailAddress: message.from,
          Destination: { ToAddresses: [...message.to] },
          Content: {
            Simple: {
              Subject: { Data: message.subject, Charset: "UTF-8" },
              Body: {
                Text: { Data: message.text, Charset: "UTF-8" },
                Html: { Data: message.html, Charset: "UTF-8" },
              },
            },
          },
        }),
      ),
    );
  }
}
