import { once } from "node:events";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { SmtpMailer } from "./smtp.ts";

/** The smallest SMTP server that accepts mail: enough to see what a client really sends. */
function smtpSink() {
  const received: string[] = [];
  const server = createServer((socket: Socket) => {
    let data = false;
    let buffer = "";
    socket.write("220 sink ESMTP\r\n");
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8");
      if (data) {
        const end = buffer.indexOf("\r\n.\r\n");
        if (end < 0) return;
        received.push(buffer.slice(0, end));
        buffer = buffer.slice(end + 5);
        data = false;
        socket.write("250 queued\r\n");
      }
      while (!data && buffer.includes("\r\n")) {
        const line = buffer.indexOf("\r\n");
        const command = buffer.slice(0, line).toUpperCase();
        buffer = buffer.slice(line + 2);
        if (command.startsWith("EHLO") || command.startsWith("HELO")) socket.write("250 sink\r\n");
        else if (command.startsWith("DATA")) {
          data = true;
          socket.write("354 go ahead\r\n");
        } else if (command.startsWith("QUIT")) socket.end("221 bye\r\n");
        else socket.write("250 ok\r\n");
      }
    });
  });
  return { server, received };
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
});

describe("SmtpMailer", () => {
  it("delivers the message, text and HTML, to an SMTP server", async () => {
    const { server, received } = smtpSink();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    close = () => new Promise((resolve) => server.close(() => resolve()));
    const { port } = server.address() as AddressInfo;

    await new SmtpMailer(`smtp://127.0.0.1:${port}`).send({
      from: "gantry@localhost",
      to: ["alice@example.com"],
      subject: "[Gantry] Approve hello-service 3f2a9c1 for prod?",
      text: "Approve: http://127.0.0.1:8084/approvals/x",
      html: "<p>Approve</p>",
    });

    expect(received).toHaveLength(1);
    expect(received[0]).toContain("Subject: [Gantry] Approve hello-service 3f2a9c1 for prod?");
    expect(received[0]).toContain("To: alice@example.com");
    expect(received[0]).toContain("Approve: http://127.0.0.1:8084/approvals/x");
    expect(received[0]).toContain("text/html");
  });

  it("refuses a URL that is not SMTP", () => {
    expect(() => new SmtpMailer("http://127.0.0.1:1025")).toThrow("smtp://");
  });
});
