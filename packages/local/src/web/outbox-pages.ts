import type { IncomingMessage, ServerResponse } from "node:http";
import { html } from "@gantry/core";
import type { WebRoute } from "../local-control-plane.ts";
import { page, sendPage } from "./layout.ts";

/**
 * /outbox: every email the local control plane sent, newest first; /outbox/<id> shows one
 * (headers, text, and the HTML version in a sandboxed frame); /outbox/<id>.eml is the RFC 5322
 * file itself.
 */
export const outboxRoute: WebRoute = async (req: IncomingMessage, res: ServerResponse, local) => {
  if (req.method !== "GET") return false;
  const url = new URL(req.url ?? "/", "http://local");
  const outbox = local.world.outbox;
  if (url.pathname === "/outbox") {
    const messages = outbox.list();
    const rows = messages.map(
      (m) =>
        html`<tr><td class="mono">${m.date}</td><td>${m.to.join(", ")}</td><td><a href="/outbox/${m.id}">${m.subject}</a></td></tr>`,
    );
    sendPage(
      res,
      200,
      page(
        "Outbox",
        html`<h1>Outbox</h1>
<p class="muted">Email the local control plane sent. Each message is also an RFC 5322 file under <code>.gantry/outbox/</code>.</p>
${messages.length === 0 ? html`<p>No email yet. Approval requests appear here when a prod deployment needs a decision.</p>` : html`<table><thead><tr><th scope="col">Sent</th><th scope="col">To</th><th scope="col">Subject</th></tr></thead><tbody>${rows}</tbody></table>`}`,
      ),
    );
    return true;
  }
  const match = /^\/outbox\/([0-9]{17}-[0-9a-f]{8})(\.eml|\/html)?$/.exec(url.pathname);
  if (!match?.[1]) return false;
  const message = outbox.get(match[1]);
  if (!message) {
    sendPage(
      res,
      404,
      page(
        "Not found",
        html`<h1>No such message</h1><p><a href="/outbox">Back to the outbox</a></p>`,
      ),
    );
    return true;
  }
  if (match[2] === ".eml") {
    res.writeHead(200, {
      "content-type": "message/rfc822",
      "content-disposition": `inline; filename="${message.id}.eml"`,
    });
    res.end(outbox.raw(message.id));
    return true;
  }
  if (match[2] === "/html") {
    // The email's own HTML, shown in a sandboxed frame: no scripts, links open outside it.
    sendPage(res, 200, message.html, {
      "content-security-policy":
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox allow-popups allow-top-navigation-by-user-activation",
      "x-frame-options": "SAMEORIGIN",
    });
    return true;
  }
  sendPage(
    res,
    200,
    page(
      message.subject,
      html`<p><a href="/outbox">← Outbox</a></p>
<h1>${message.subject}</h1>
<table><tbody>
<tr><th scope="row">From</th><td>${message.from}</td></tr>
<tr><th scope="row">To</th><td>${message.to.join(", ")}</td></tr>
<tr><th scope="row">Sent</th><td class="mono">${message.date}</td></tr>
<tr><th scope="row">File</th><td><a href="/outbox/${message.id}.eml">${message.file}</a></td></tr>
</tbody></table>
<h2>Text</h2>
<pre class="mono" style="white-space:pre-wrap">${linkify(message.text)}</pre>
<h2>HTML</h2>
<iframe title="The HTML version of the email" src="/outbox/${message.id}/html" sandbox="allow-popups allow-top-navigation-by-user-activation" style="width:100%;min-height:32rem;border:1px solid var(--line)"></iframe>`,
    ),
  );
  return true;
};

/** Turns the URLs of a plain-text email into links (escaping everything else). */
function linkify(text: string) {
  const parts = text.split(/(https?:\/\/[^\s]+)/g);
  return parts.map((part, i) =>
    i % 2 === 1 ? html`<a href="${part}">${part}</a>` : html`${part}`,
  );
}
