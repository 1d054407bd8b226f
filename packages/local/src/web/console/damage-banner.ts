import { html, type SafeHtml } from "@gantry/core";
import type { DamagedFile } from "../../storage/durable-file.ts";
import { formatDateTime } from "./format.ts";

/**
 * The banner every console page shows while damaged files were found since the start: which
 * file, where it was moved (under the data directory), why, and where the runbook says what to
 * do. Nothing when there are none.
 */
export function renderDamageBanner(files: readonly DamagedFile[] | undefined): SafeHtml {
  if (!files || files.length === 0) return html``;
  return html`<section class="notice bad damaged" id="damaged" role="alert" aria-labelledby="damaged-h">
<h2 id="damaged-h">${files.length === 1 ? "A damaged file was" : `${files.length} damaged files were`} found in the data directory</h2>
<p>Gantry moved ${files.length === 1 ? "it" : "them"} aside (never deleted) and carries on without ${files.length === 1 ? "it" : "them"}. What each one held and what to do: <code>docs/operations.md</code>, “A damaged file in the data directory”.</p>
<ul>${files.map(
    (f) =>
      html`<li data-damaged="${f.file}"><code>${f.file}</code>: ${f.reason}. Moved to <code>${f.quarantinedAs}</code> <span class="muted">(<time datetime="${new Date(f.at).toISOString()}">${formatDateTime(f.at)}</time>)</span></li>`,
  )}</ul>
</section>`;
}
