/**
 * The console's banner for damaged files (issue 19): every page lists the files the control
 * plane found damaged and moved aside, where they went, and points at the runbook.
 */
import { describe, expect, it } from "vitest";
import type { DamagedFile } from "../../storage/durable-file.ts";
import { renderListPage } from "./list-page.ts";

const DAMAGED: DamagedFile = {
  file: "functions/hello-prod/function.json",
  quarantinedAs: "quarantine/2026-11-30T10-00-00-000Z-abc123-functions__hello-prod__function.json",
  reason: "not valid JSON (a torn or garbled write)",
  at: Date.UTC(2026, 10, 30, 10),
};

const view = (damaged: readonly DamagedFile[]) => ({
  rows: [],
  total: 0,
  filter: {},
  page: 1,
  pageSize: 50,
  services: [],
  stages: ["preprod", "prod"],
  now: Date.UTC(2026, 10, 30, 11),
  damaged,
});

describe("the damaged files banner", () => {
  it("lists each damaged file, where it was moved and why, with a pointer to the runbook", () => {
    const page = renderListPage(view([DAMAGED, { ...DAMAGED, file: "signing-key.json" }]));
    const banner =
      /<section class="notice bad damaged" id="damaged" role="alert"[\s\S]*?<\/section>/.exec(
        page,
      )?.[0];
    expect(banner).toBeDefined();
    expect(banner).toContain("2 damaged files were found");
    expect(banner).toContain('data-damaged="functions/hello-prod/function.json"');
    expect(banner).toContain(`Moved to <code>${DAMAGED.quarantinedAs}</code>`);
    expect(banner).toContain(DAMAGED.reason);
    expect(banner).toContain('data-damaged="signing-key.json"');
    expect(banner).toContain("docs/operations.md");
    // Above the page's own content.
    expect(page.indexOf('id="damaged"')).toBeLessThan(page.indexOf("<h1>Executions</h1>"));
  });

  it("escapes what it shows, and is absent when nothing is damaged", () => {
    const page = renderListPage(view([{ ...DAMAGED, file: "outbox/<script>.json" }]));
    expect(page).toContain("outbox/&lt;script&gt;.json");
    expect(page).not.toContain("<script>.json");
    expect(renderListPage(view([]))).not.toContain('id="damaged"');
  });
});
