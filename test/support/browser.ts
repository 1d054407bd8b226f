/// <reference lib="dom" />
// (The callbacks the tests hand to page.evaluate run in the browser: they need the DOM's types.)
/**
 * Chromium for the browser suite: Debian's /usr/bin/chromium driven through playwright-core
 * (no downloaded browsers). A missing Chromium is an error, never a skip: CI installs it
 * (`.ci/run`).
 */
import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { approveByEmail } from "@gantry/local/approver";
import { type Browser, type BrowserContextOptions, chromium, type Page } from "playwright-core";
import { type LocalProcess, ROOT } from "./local-process.ts";

export const CHROMIUM = "/usr/bin/chromium";

/** The flags a headless Chromium needs on this kind of machine (no sandbox, no GPU, no network). */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A laptop screen and a phone, for the layout checks and the screenshots. */
export const LAPTOP: BrowserContextOptions = { viewport: { width: 1440, height: 900 } };
export const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
};

/** Launches Debian's Chromium, or fails saying how to get it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: the browser suite needs Debian's Chromium (apt-get install chromium); it is not skipped`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
}

/** Where the console shows an execution. */
export function executionUrl(local: LocalProcess, executionArn: string): string {
  const match = /:execution:([^:]+):(.+)$/.exec(executionArn);
  if (!match?.[1] || !match[2]) throw new Error(`not an execution ARN: ${executionArn}`);
  return `${local.webEndpoint}/executions/${encodeURIComponent(match[1])}/${encodeURIComponent(match[2])}`;
}

/** Approves a waiting prod deployment as an approver does: the emailed link, confirmed. */
export async function approve(local: LocalProcess, executionArn: string): Promise<void> {
  await approveByEmail(local, executionArn);
}

/** Collects what the page reports as errors (CSP violations included), but the favicon. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error" && !/favicon|status of 404/.test(message.text()))
      errors.push(message.text());
  });
  return errors;
}

/**
 * Where screenshots go: docs/img/ when GANTRY_UPDATE_SCREENSHOTS=1 (to refresh the docs' pictures,
 * then look at them), otherwise a temporary directory, so a test run leaves git clean while still
 * taking every screenshot.
 */
export function screenshotDir(): string {
  const dir =
    process.env.GANTRY_UPDATE_SCREENSHOTS === "1"
      ? join(ROOT, "docs/img")
      : join(tmpdir(), "gantry-screenshots");
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A full-page screenshot for the docs (see screenshotDir). */
export async function screenshotForDocs(
  page: Page,
  name: string,
  options: { fullPage?: boolean } = {},
): Promise<string> {
  const path = join(screenshotDir(), name);
  await page.screenshot({ path, fullPage: options.fullPage ?? true, animations: "disabled" });
  return path;
}

/**
 * Elements that stick out of the viewport horizontally, outside the graph's own scroll area:
 * what would make the page scroll sideways on a phone.
 */
export function horizontalOverflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const offenders: string[] = [];
    if (document.documentElement.scrollWidth > width)
      offenders.push(`document: ${document.documentElement.scrollWidth} > ${width}`);
    for (const element of document.body.querySelectorAll("*")) {
      if (element.closest(".graph")) continue;
      const box = element.getBoundingClientRect();
      if (box.width > 0 && (box.right > width + 1 || box.left < -1)) {
        offenders.push(
          `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ""}.${element.className}: ${Math.round(box.left)}..${Math.round(box.right)}`,
        );
      }
    }
    return offenders;
  });
}
