import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StartExecutionCommand } from "@aws-sdk/client-sfn";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  approve,
  executionUrl,
  horizontalOverflow,
  LAPTOP,
  launchChromium,
  PHONE,
  pageErrors,
  screenshotForDocs,
} from "../support/browser.ts";
import {
  type LocalProcess,
  STATE_MACHINE,
  startDeployment,
  startLocalProcess,
  throughPreprod,
  waitFor,
  waitForStatus,
} from "../support/local-process.ts";

let local: LocalProcess;
let browser: Browser;
/** Filled by the tests in order: the list tests count on them. */
const executions: { deployed?: string; rolledBack?: string } = {};

beforeAll(async () => {
  // Chromium first: without it the suite fails at once, saying why.
  browser = await launchChromium();
  // A policy minute is 1.2 s: a prod rollout takes about 20 s, a bake 12 s.
  local = await startLocalProcess({ timeScale: 0.02 });
});

afterAll(async () => {
  await browser?.close();
  await local?.kill();
});

const status = (page: Page, state: string) =>
  page.locator(`[data-state="${state}"]`).getAttribute("data-status");

describe("the execution view", () => {
  it("follows a running prod deployment live: nodes change status without a reload", async () => {
    const { request } = await throughPreprod(local, "v2");
    const started = await startDeployment(local, "prod", request);
    const arn = started.executionArn as string;
    executions.deployed = arn;

    const context = await browser.newContext(LAPTOP);
    const page = await context.newPage();
    const errors = pageErrors(page);
    // Open it while it waits for the approval: nothing after the gate has happened yet.
    await waitFor(
      async () => ((await fetch(executionUrl(local, arn))).ok ? true : undefined),
      10_000,
      () => "the execution page did not open",
    );
    await page.goto(executionUrl(local, arn));
    await expect.poll(() => status(page, "ApprovalGate"), { timeout: 20_000 }).toBe("running");
    expect(await status(page, "ValidateInput")).toBe("succeeded");
    expect(await status(page, "Deploy")).toBe("not-reached");
    // Who triggered it says what was verified, or that it is a claim; never the ID token.
    expect(await page.locator("#summary [data-trigger]").textContent()).toMatch(
      /\(unverified claim: no ID token\)$| — verified by /,
    );
    expect(await page.content()).not.toMatch(/eyJ[\w-]*\.[\w-]+\.[\w-]+/);
    expect(await status(page, "Deployed")).toBe("not-reached");
    await expect
      .poll(() => page.locator("#approval").textContent(), { timeout: 10_000 })
      .toContain("waiting for a decision");
    const emailLinks = await page.locator('#approval a[href^="/outbox/"]').count();
    expect(emailLinks).toBe(2); // one per approver
    const rowsBefore = await page.locator("#history-rows tr").count();

    // Record every status each node goes through, and mark the document: a reload loses both.
    await page.evaluate(() => {
      const seen: Record<string, string[]> = {};
      (window as unknown as { seen: typeof seen }).seen = seen;
      for (const node of document.querySelectorAll("[data-state]")) {
        const name = node.getAttribute("data-state") as string;
        seen[name] = [node.getAttribute("data-status") as string];
      }
      new MutationObserver((mutations) => {
        for (const m of mutations) {
          const node = m.target as Element;
          const name = node.getAttribute("data-state");
          const value = node.getAttribute("data-status");
          if (name && value && seen[name]?.at(-1) !== value) seen[name]?.push(value);
        }
      }).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-status"] });
    });

    await approve(local, arn);

    await expect.poll(() => status(page, "Deploy"), { timeout: 20_000 }).toBe("succeeded");
    // A traffic step's hold waits for its token: the summary says what it holds, until when,
    // and which alarms end it early; the node says it waits.
    const holdNow = page.locator("#summary [data-hold-now]");
    await expect.poll(() => holdNow.count(), { timeout: 20_000 }).toBe(1);
    const holdText = (await holdNow.textContent()) ?? "";
    expect(holdText).toMatch(/Holding v\d+ at \d+% of traffic until \d\d:\d\d:\d\d\.\d{3} UTC/);
    expect(holdText).toContain("ends early, with a rollback, if any of them enters ALARM");
    expect(await holdNow.locator("[data-hold-alarm]").count()).toBeGreaterThan(0);
    expect(
      Date.parse((await holdNow.locator("time[data-hold-ends]").getAttribute("datetime")) ?? ""),
    ).toBeGreaterThan(Date.now() - 60_000);
    await expect
      .poll(() => page.locator('[data-state="HoldTrafficStep"] .node-words').textContent())
      .toMatch(/^waiting/);
    await expect
      .poll(() => status(page, "CheckAlarms"), { timeout: 20_000 })
      .toMatch(/^(running|succeeded)$/);
    // The traffic panel follows the rollout: two versions share the alias.
    await expect
      .poll(() => page.locator("#traffic [data-traffic]").textContent(), { timeout: 20_000 })
      .toMatch(/v\d+ \d+(\.\d)?% · v\d+ \d+(\.\d)?%/);
    await expect.poll(() => status(page, "Deployed"), { timeout: 90_000 }).toBe("succeeded");
    await expect
      .poll(() => page.locator("[data-execution-status]").getAttribute("data-execution-status"))
      .toBe("SUCCEEDED");

    const seen = await page.evaluate(
      () => (window as unknown as { seen: Record<string, string[]> }).seen,
    );
    expect(seen.Deploy?.[0]).toBe("not-reached");
    expect(seen.Deploy?.at(-1)).toBe("succeeded");
    expect(seen.CheckAlarms?.[0]).toBe("not-reached");
    expect(seen.CheckAlarms).toContain("succeeded");
    expect(seen.Deployed?.[0]).toBe("not-reached");
    expect(seen.Deployed?.at(-1)).toBe("succeeded");
    // The history grew in place, newest at the bottom.
    const rows = page.locator("#history-rows tr");
    expect(await rows.count()).toBeGreaterThan(rowsBefore + 50);
    expect(await rows.last().textContent()).toContain("ExecutionSucceeded");
    await expect.poll(() => page.locator("#summary [data-outcome]").textContent()).toBe("deployed");
    await expect
      .poll(() => page.locator("#traffic [data-traffic]").textContent())
      .toMatch(/^v\d+ 100%/);
    await expect.poll(() => page.locator("#approval").textContent()).toContain("approved");
    // The steps' loop ran and shows as visited more than once; its edges were taken.
    expect(await page.locator('[data-state="CheckAlarms"]').getAttribute("aria-label")).toMatch(
      /succeeded · \d+ visits/,
    );
    expect(
      await page
        .locator('[data-edge-from="AllStepsHeld"][data-edge-to="HoldTrafficStep"]')
        .getAttribute("data-taken"),
    ).toBe("true");
    // The bake is a hold that its time ends, then its check: the deployment went on to Finish.
    expect(
      await page
        .locator(
          '[data-edge-from="HoldTrafficStep"][data-edge-to="CheckAlarms"][data-edge-kind="next"]',
        )
        .getAttribute("data-taken"),
    ).toBe("true");
    expect(
      await page
        .locator('[data-edge-from="BakeComplete"][data-edge-to="Finish"]')
        .getAttribute("data-taken"),
    ).toBe("true");
    expect(await page.locator('[data-state="Bake"]').getAttribute("aria-label")).toMatch(
      /^Bake \(Task\): succeeded/,
    );
    // Each hold ended with its time up, and its check ran next.
    for (const [hold, check] of [
      ["HoldTrafficStep", "CheckAlarms"],
      ["Bake", "CheckBakeAlarms"],
    ]) {
      await page.locator(`[data-state="${hold}"]`).click();
      const ended = page.locator('#state [data-hold="time-up"]');
      await expect.poll(() => ended.count()).toBe(1);
      expect(await ended.textContent()).toContain(`its time was up at`);
      expect(await ended.textContent()).toContain(`${check} read the alarms next`);
    }
    expect(await page.locator("#summary [data-hold-now]").count()).toBe(0);
    // Prod judges each hold by the versions' own numbers: the verdicts joined the Version
    // analysis panel beside the graph as they came, every one a pass (it deployed).
    const verdicts = page.locator("#analysis [data-verdict]");
    await expect.poll(() => verdicts.count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(
      new Set(await verdicts.evaluateAll((all) => all.map((v) => v.getAttribute("data-verdict")))),
    ).toEqual(new Set(["pass"]));
    expect(await page.locator("#analysis [data-verdict-failing]").count()).toBe(0);
    expect(errors).toEqual([]);

    // The picture for the docs: the finished deployment, opened afresh.
    await page.goto(`${executionUrl(local, arn)}?state=Promote`);
    await screenshotForDocs(page, "console-deployed.png");
    await context.close();
  });

  it("shows a rolled-back deployment: the failed check, the catch edge, the rollback, the Fail state", async () => {
    const { request } = await throughPreprod(local, "v4-prod-bug");
    const started = await startDeployment(local, "prod", request);
    const arn = started.executionArn as string;
    executions.rolledBack = arn;
    await approve(local, arn);
    const done = await waitForStatus(local, arn, undefined, 120_000);
    expect(done.status).toBe("FAILED");
    expect(done.error).toBe("AlarmTriggered");

    const context = await browser.newContext(LAPTOP);
    const page = await context.newPage();
    const errors = pageErrors(page);
    await page.goto(executionUrl(local, arn));

    // The state that saw the alarm: its failure was caught and routed to Rollback. With
    // event-driven holds that is the hold the alarm's event ended (a check only if the alarm
    // fired between a hold's end and its check).
    let failing = "";
    for (const state of ["HoldTrafficStep", "CheckAlarms", "Bake", "CheckBakeAlarms"]) {
      if ((await status(page, state)) === "caught") failing = state;
    }
    expect(failing).not.toBe("");
    expect(await status(page, "Rollback")).toBe("succeeded");
    expect(await status(page, "FinishAfterFailure")).toBe("succeeded");
    expect(await status(page, "AlarmTriggered")).toBe("failed");
    expect(await status(page, "Promote")).toBe("not-reached");
    expect(await status(page, "Deployed")).toBe("not-reached");
    // Not by colour alone: the words are in the node.
    expect(await page.locator(`[data-state="${failing}"]`).textContent()).toContain("caught");
    expect(await page.locator('[data-state="AlarmTriggered"]').textContent()).toContain("failed");

    // The catch edge it went along is drawn as a catch (dashed), unlike a Next edge.
    const catchEdge = page.locator(
      `[data-edge-from="${failing}"][data-edge-to="Rollback"][data-edge-kind="catch"]`,
    );
    expect(await catchEdge.count()).toBe(1);
    expect(await catchEdge.getAttribute("data-taken")).toBe("true");
    const dash = (selector: string) =>
      page.locator(`${selector} path`).evaluate((path) => getComputedStyle(path).strokeDasharray);
    expect(await dash(`[data-edge-from="${failing}"][data-edge-to="Rollback"]`)).not.toBe("none");
    expect(await dash('[data-edge-from="Deploy"][data-edge-to="Canary"]')).toBe("none");
    expect(await catchEdge.textContent()).toContain("States.ALL");

    // The summary: failed, rolled back, with the error and its cause.
    expect(await page.locator("#summary").textContent()).toMatch(/FAILED[\s\S]*rolled back/);
    expect(await page.locator("#summary").textContent()).toContain("AlarmTriggered");
    // The traffic is back on one version.
    expect(await page.locator("#traffic [data-traffic]").textContent()).toMatch(/^v\d+ 100%/);

    // A click on the failing node shows its error, input and output in place.
    await page.locator(`[data-state="${failing}"]`).click();
    await expect
      .poll(() => page.locator("#state [data-selected-state]").getAttribute("data-selected-state"))
      .toBe(failing);
    const details = await page.locator("#state").textContent();
    expect(details).toContain("AlarmTriggered");
    expect(details).toMatch(/(The last of \d+ visits: entered|Entered) \d\d:\d\d/);
    expect(details).toContain("Input");
    expect(page.url()).toContain(`state=${failing}`);
    if (failing === "HoldTrafficStep" || failing === "Bake") {
      // How the hold ended: early, by the alarm, rolled back, with the cause in words.
      const hold = page.locator('#state [data-hold="alarm"]');
      expect(await hold.count()).toBe(1);
      expect(await hold.textContent()).toMatch(/ended early at \d\d:\d\d:\d\d\.\d{3}/);
      expect(await hold.textContent()).toContain("Rolled back.");
      expect(await hold.textContent()).toMatch(
        /in ALARM since \S+ .* while version \d+ had \d+% of traffic/,
      );
    }
    expect(errors).toEqual([]);

    await page.goto(`${executionUrl(local, arn)}?state=${failing}`);
    await screenshotForDocs(page, "console-rolled-back.png");
    await context.close();
  });

  it("renders the current state without JavaScript, with links to each state's details", async () => {
    const arn = executions.rolledBack as string;
    const context = await browser.newContext({ ...LAPTOP, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(executionUrl(local, arn));
    expect(await status(page, "Rollback")).toBe("succeeded");
    expect(await page.locator(".graph-tools").isHidden()).toBe(true);
    await page.locator('[data-state="Rollback"]').click();
    await page.waitForURL(/state=Rollback/);
    expect(await page.locator("#state h2").textContent()).toContain("Rollback");
    expect(await page.locator("#state").textContent()).toContain("Output");
    await context.close();
  });

  it("escapes what the execution carries: input is data, not markup", async () => {
    const input = {
      service: '<img src=x onerror="window.pwned=1">',
      version: "</code><script>window.pwned=1</script>",
    };
    const out = await local.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: STATE_MACHINE.preprod,
        name: "console-escaping",
        input: JSON.stringify(input),
      }),
    );
    const arn = out.executionArn as string;
    await waitForStatus(local, arn);
    const context = await browser.newContext(LAPTOP);
    const page = await context.newPage();
    for (const url of [
      `${executionUrl(local, arn)}?state=ValidateInput`,
      `${local.webEndpoint}/?status=FAILED`,
    ]) {
      await page.goto(url);
      expect(await page.locator("img[src=x]").count()).toBe(0);
      expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBe(
        undefined,
      );
    }
    await page.goto(`${executionUrl(local, arn)}?state=ValidateInput`);
    expect(await page.locator("#state").textContent()).toContain("onerror");
    await context.close();
  });
});

describe("the executions list", () => {
  it("filters by service, status and stage through the URL", async () => {
    // A request for a service the registry does not know: it fails validation, but it is listed.
    const out = await local.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: STATE_MACHINE.prod,
        name: "console-unknown-service",
        input: JSON.stringify({
          service: "billing-service",
          version: "0123456789abcdef0123456789abcdef01234567",
          artifact: { key: "billing-service/x.zip", sha256: "0".repeat(64) },
          trigger: { actor: "octocat" },
        }),
      }),
    );
    await waitForStatus(local, out.executionArn as string);

    const context = await browser.newContext(LAPTOP);
    const page = await context.newPage();
    const errors = pageErrors(page);
    const rows = () =>
      page.locator("table.executions tbody tr").evaluateAll((trs) =>
        trs.map((tr) => ({
          service: tr.getAttribute("data-service"),
          status: tr.getAttribute("data-status"),
          stage: tr.getAttribute("data-stage"),
          execution: tr.getAttribute("data-execution"),
          outcome: tr.querySelector("[data-outcome]")?.getAttribute("data-outcome"),
        })),
      );

    await page.goto(`${local.webEndpoint}/`);
    const all = await rows();
    expect(all.length).toBeGreaterThanOrEqual(6);
    expect(all[0]?.execution).toBe("console-unknown-service"); // newest first
    const deployed = all.find((r) => executions.deployed?.endsWith(`:${r.execution}`));
    const rolledBack = all.find((r) => executions.rolledBack?.endsWith(`:${r.execution}`));
    expect(deployed?.outcome).toBe("deployed");
    expect(rolledBack?.outcome).toBe("rolled-back");

    await page.goto(`${local.webEndpoint}/?service=billing-service`);
    expect(await rows()).toEqual([
      {
        service: "billing-service",
        status: "FAILED",
        stage: "prod",
        execution: "console-unknown-service",
        outcome: "failed",
      },
    ]);
    expect(await page.locator("#filter-service").inputValue()).toBe("billing-service");

    await page.goto(`${local.webEndpoint}/?status=SUCCEEDED`);
    const succeeded = await rows();
    expect(succeeded.length).toBeGreaterThanOrEqual(3);
    expect(succeeded.every((r) => r.status === "SUCCEEDED" && r.outcome === "deployed")).toBe(true);

    await page.goto(`${local.webEndpoint}/?service=hello-service&status=FAILED&stage=prod`);
    const failed = await rows();
    expect(failed.map((r) => r.execution)).toEqual([rolledBack?.execution]);

    await page.goto(`${local.webEndpoint}/?stage=preprod`);
    expect((await rows()).every((r) => r.stage === "preprod")).toBe(true);

    await page.goto(`${local.webEndpoint}/?service=nobody`);
    expect(await page.locator("[data-empty]").textContent()).toContain("No execution matches");
    expect(errors).toEqual([]);
    await context.close();
  });

  it("filters with the form, without JavaScript", async () => {
    const context = await browser.newContext({ ...LAPTOP, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${local.webEndpoint}/`);
    await page.getByLabel("Service").selectOption("hello-service");
    await page.getByLabel("Status").selectOption("FAILED");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/status=FAILED/);
    const url = new URL(page.url());
    expect(url.searchParams.get("service")).toBe("hello-service");
    expect(url.searchParams.get("status")).toBe("FAILED");
    const listed = await page
      .locator("table.executions tbody tr")
      .evaluateAll((trs) =>
        trs.map((tr) => `${tr.getAttribute("data-service")} ${tr.getAttribute("data-status")}`),
      );
    expect(listed.length).toBeGreaterThan(0);
    expect(new Set(listed)).toEqual(new Set(["hello-service FAILED"]));
    // The row leads to its execution view.
    await page.locator("table.executions tbody tr a").first().click();
    await page.waitForURL(/\/executions\/gantry-/);
    expect(await page.locator("h1").textContent()).toContain("hello-service");
    await context.close();
  });

  it("opens quickly with hundreds of executions, and pages through them", async () => {
    const count = 300;
    const names: string[] = [];
    for (let i = 0; i < count; i++) {
      const out = await local.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: STATE_MACHINE.preprod,
          name: `console-load-${String(i).padStart(3, "0")}`,
          input: JSON.stringify({ service: "load-service", version: `v${i}` }),
        }),
      );
      names.push(out.executionArn as string);
    }
    await waitForStatus(local, names.at(-1) as string);
    for (const arn of names) await waitForStatus(local, arn);

    const timings: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const response = await fetch(`${local.webEndpoint}/?status=FAILED`);
      await response.text();
      timings.push(Math.round(performance.now() - t0));
    }
    console.log(
      `executions list with ${count}+ executions: first ${timings[0]} ms, then ${timings.slice(1).join(" ms, ")} ms`,
    );

    const context = await browser.newContext(LAPTOP);
    const page = await context.newPage();
    await page.goto(`${local.webEndpoint}/?service=load-service`);
    expect(await page.locator("[data-count]").getAttribute("data-count")).toBe(String(count));
    expect(await page.locator("table.executions tbody tr").count()).toBe(50);
    await page.getByRole("link", { name: "Older →" }).click();
    await page.waitForURL(/page=2/);
    expect(new URL(page.url()).searchParams.get("service")).toBe("load-service");
    expect(await page.locator(".pager").textContent()).toContain("Page 2 of 6");
    expect(
      await page.locator("table.executions tbody tr").first().getAttribute("data-execution"),
    ).toBe("console-load-249");
    await context.close();
  });
});

describe("on a phone", () => {
  it("nothing but the graph scrolls sideways; the history follows the graph", async () => {
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    const errors = pageErrors(page);
    for (const url of [
      executionUrl(local, executions.rolledBack as string),
      executionUrl(local, executions.deployed as string),
      `${local.webEndpoint}/`,
    ]) {
      await page.goto(url);
      expect(await horizontalOverflow(page), url).toEqual([]);
    }
    await page.goto(executionUrl(local, executions.rolledBack as string));
    // The graph keeps its size and scrolls in its own box.
    const graph = await page
      .locator("#graph")
      .evaluate((box) => ({ scroll: box.scrollWidth, client: box.clientWidth }));
    expect(graph.scroll).toBeGreaterThan(graph.client);
    // One column: the history comes below the graph.
    const graphBox = await page.locator("#graph").boundingBox();
    const historyBox = await page.locator("#history").boundingBox();
    expect(historyBox?.y ?? 0).toBeGreaterThan((graphBox?.y ?? 0) + (graphBox?.height ?? 0));
    // The graph on a phone, scrolled to the state the page opened on.
    await page.locator("#graph-h").scrollIntoViewIfNeeded();
    await page.evaluate(() => document.getElementById("graph-h")?.scrollIntoView());
    await screenshotForDocs(page, "console-phone.png", { fullPage: false });
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe("a damaged file in the data directory", () => {
  it("shows a banner naming the file and where it was moved, and the console keeps working", async () => {
    // Tear one approval email's JSON twin, as a crash or a bad disk would; the outbox reads it.
    const outbox = join(local.home, "outbox");
    const twin = readdirSync(outbox)
      .filter((name) => name.endsWith(".json"))
      .sort()[0];
    expect(twin).toBeDefined();
    writeFileSync(join(outbox, twin as string), '{"id":"2026');
    expect((await fetch(`${local.webEndpoint}/outbox`)).status).toBe(200);

    const context = await browser.newContext(LAPTOP);
    const page = await context.newPage();
    const errors = pageErrors(page);
    for (const url of [
      `${local.webEndpoint}/`,
      executionUrl(local, executions.deployed as string),
    ]) {
      await page.goto(url);
      const banner = page.getByRole("alert").filter({ hasText: "damaged file" });
      await expect.poll(() => banner.isVisible(), { timeout: 5000 }).toBe(true);
      const text = (await banner.textContent()) ?? "";
      expect(text).toContain(`outbox/${twin}`);
      expect(text).toMatch(/Moved to quarantine\/\S+/);
      expect(text).toContain("docs/operations.md");
    }
    expect(await page.locator("#history-rows tr").count()).toBeGreaterThan(0);
    const world = (await (await fetch(`${local.webEndpoint}/api/world`)).json()) as {
      damaged: { file: string; quarantinedAs: string }[];
    };
    expect(world.damaged.map((d) => d.file)).toContain(`outbox/${twin}`);
    expect(errors).toEqual([]);
    await context.close();
  });
});
