/**
 * An approver in Chromium: the email in the local outbox, its link, the confirmation page, the
 * button, the outcome page, and the deployment moving on. JavaScript is off throughout: the
 * pages must work without it.
 */
import { DescribeExecutionCommand, GetExecutionHistoryCommand } from "@aws-sdk/client-sfn";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LAPTOP, launchChromium, PHONE } from "../support/browser.ts";
import {
  type LocalProcess,
  startDeployment,
  startLocalProcess,
  throughPreprod,
  waitFor,
  waitForStatus,
} from "../support/local-process.ts";

let local: LocalProcess;
let browser: Browser;

beforeAll(async () => {
  local = await startLocalProcess();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await local?.kill();
});

describe("approving in a browser", () => {
  it("opens the emailed link from the outbox, reads the page, confirms, and the deployment moves on", async () => {
    const { request } = await throughPreprod(local, "v2");
    const started = await startDeployment(local, "prod", request);
    const arn = started.executionArn as string;
    const short = request.version.slice(0, 12);

    const context = await browser.newContext({ ...LAPTOP, javaScriptEnabled: false });
    const page = await context.newPage();

    // The outbox lists the email; open alice's.
    const subject = `[Gantry] Approve hello-service ${short} for prod?`;
    await waitFor(
      async () => {
        await page.goto(`${local.webEndpoint}/outbox`);
        return (await page
          .getByRole("row", { name: /alice@example\.com/ })
          .filter({ hasText: subject })
          .count()) > 0
          ? true
          : undefined;
      },
      20_000,
      () => "the approval email never reached the outbox",
    );
    await page
      .getByRole("row", { name: /alice@example\.com/ })
      .filter({ hasText: subject })
      .getByRole("link")
      .click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe(subject);

    // Its approve link leads to a confirmation page that decides nothing.
    const approveLink = page.locator('pre a[href*="action=approve"]');
    const linkUrl = (await approveLink.getAttribute("href")) as string;
    await approveLink.click();
    await expect
      .poll(() => page.getByRole("heading", { level: 1 }).textContent())
      .toBe(`Approve the deployment of hello-service ${short} to prod?`);
    const facts = await page.locator("table").textContent();
    expect(facts).toContain(request.artifact.sha256);
    expect(facts).toContain("validated by e2e-tests");
    expect(await page.locator("body").textContent()).toContain(
      "You are deciding as alice@example.com",
    );
    expect((await local.sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe(
      "RUNNING",
    );

    // Confirm, with a comment.
    await page
      .getByLabel("Comment (optional, kept with the decision)")
      .fill("looks good in preprod");
    await page.getByRole("button", { name: "Approve deployment" }).click();
    await expect
      .poll(() => page.getByRole("heading", { level: 1 }).textContent())
      .toBe(`Approved: hello-service ${short} to prod`);
    expect(await page.getByRole("status").textContent()).toContain("The deployment carries on");

    // The execution moves on: the decision is its ApprovalGate's output, then the copy and the deploy.
    const done = await waitForStatus(local, arn);
    expect(done.status).toBe("SUCCEEDED");
    const events =
      (
        await local.sfn.send(
          new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 1000 }),
        )
      ).events ?? [];
    const decision = JSON.parse(
      events.find((e) => e.type === "TaskSucceeded")?.taskSucceededEventDetails?.output ?? "{}",
    );
    expect(decision).toMatchObject({ by: "alice@example.com", comment: "looks good in preprod" });

    // Opening the link again now: already decided, by whom and when.
    await page.goto(linkUrl);
    await expect
      .poll(() => page.getByRole("heading", { level: 1 }).textContent())
      .toBe("Already decided");
    expect(await page.getByRole("alert").textContent()).toContain(
      "already approved by alice@example.com",
    );
    await context.close();
  });

  it("reads well on a phone: nothing overflows sideways, the button is reachable", async () => {
    const { request } = await throughPreprod(local, "v1");
    const started = await startDeployment(local, "prod", request);
    const name = (started.executionArn as string).split(":").at(-1) as string;
    const context = await browser.newContext({ ...PHONE, javaScriptEnabled: false });
    const page = await context.newPage();
    const link = await waitFor(
      async () => {
        await page.goto(`${local.webEndpoint}/outbox`);
        const rows = page
          .getByRole("row", { name: /bob@example\.com/ })
          .filter({ hasText: request.version.slice(0, 12) });
        return (await rows.count()) > 0 ? rows.first().getByRole("link") : undefined;
      },
      20_000,
      () => `no email to bob for ${name}`,
    );
    await link.click();
    await page.locator('pre a[href*="action=reject"]').click();
    await expect
      .poll(() => page.getByRole("heading", { level: 1 }).textContent())
      .toContain("Reject the deployment");
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    const button = page.getByRole("button", { name: "Reject deployment" });
    expect(await button.isVisible()).toBe(true);
    const box = await button.boundingBox();
    expect(box?.width ?? 0).toBeGreaterThan(200); // a thumb-sized target
    await context.close();
    await local.sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
  });
});
