import type { ServerResponse } from "node:http";
import { html, SafeHtml } from "@gantry/core";

/**
 * The local web's page shell: plain, accessible HTML that works without JavaScript and reads
 * well on a phone. No inline scripts; the Content-Security-Policy forbids them.
 */
const STYLE = `
:root { color-scheme: light dark; --fg: #1f2328; --muted: #59636e; --bg: #fff; --line: #d1d9e0; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --run: #0969da; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --line: #30363d; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { border-bottom: 1px solid var(--line); padding: .75rem 1rem; display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap; }
header a { color: inherit; }
header .brand { font-weight: 700; text-decoration: none; }
main { padding: 1rem; max-width: 72rem; margin: 0 auto; }
h1 { font-size: 1.4rem; margin: .25rem 0 1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9em; word-break: break-all; }
.muted { color: var(--muted); }
.button { display: inline-block; font: inherit; padding: .6rem 1.2rem; border-radius: .4rem; border: 1px solid transparent; cursor: pointer; text-decoration: none; }
.approve { background: var(--ok); color: #fff; }
.reject { background: var(--bad); color: #fff; }
.notice { padding: .75rem 1rem; border-radius: .4rem; border: 1px solid var(--line); margin: 1rem 0; }
.notice.ok { border-color: var(--ok); } .notice.bad { border-color: var(--bad); } .notice.warn { border-color: var(--warn); }
label { display: block; margin: .75rem 0 .25rem; font-weight: 600; }
textarea, input[type=text], select { font: inherit; width: 100%; max-width: 40rem; padding: .4rem; border: 1px solid var(--line); border-radius: .3rem; background: var(--bg); color: var(--fg); }
:focus-visible { outline: 3px solid var(--run); outline-offset: 2px; }
@media (max-width: 40rem) { th, td { display: block; border: 0; padding: .15rem .25rem; } tr { display: block; border-bottom: 1px solid var(--line); padding: .4rem 0; } }
`;

export function page(
  title: string,
  body: SafeHtml,
  options: { scripts?: readonly string[]; styles?: string } = {},
): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Gantry</title>
<style>${raw(STYLE)}${raw(options.styles ?? "")}</style>
${(options.scripts ?? []).map((src) => html`<script type="module" src="${src}"></script>`)}
</head>
<body>
<header><a class="brand" href="/">Gantry</a><nav aria-label="Main"><a href="/">Executions</a> · <a href="/outbox">Outbox</a></nav></header>
<main id="main">
${body}
</main>
</body>
</html>`.value;
}

/** Trusted, constant markup (the stylesheet): not escaped. */
function raw(text: string): SafeHtml {
  return new SafeHtml(text);
}

/** Sends an HTML page with the headers every Gantry page carries. */
export function sendPage(
  res: ServerResponse,
  status: number,
  body: string,
  extraHeaders: Record<string, string> = {},
): void {
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy":
      "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    ...extraHeaders,
  });
  res.end(body);
}
