/**
 * A damaged deployment lock (issue 19, part B2): the lock file in the local state bucket is
 * garbled on disk; deployments of the service then fail `LockDamaged` with the way out in
 * their cause, `gantry unlock` breaks the lock (audited, refused while anything of the service
 * runs, refused without --force-damaged), and the next deployment goes through.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployArgs, runCli, spawnCli, throughPreprodWithCli } from "../support/cli.ts";
import { type LocalProcess, startLocalProcess } from "../support/local-process.ts";

let local: LocalProcess;

beforeAll(async () => {
  local = await startLocalProcess();
});

afterAll(async () => {
  await local?.kill();
});

const GARBLED = '\u0000\u0000{"owner":"arn:aws:st';
const stateBucket = () => join(local.home, "buckets/gantry-state-prod/objects");
const lockFile = () => join(stateBucket(), "locks/hello-service.json");
const UNLOCK = ["unlock", "hello-service", "--stage", "prod", "--reason", "garbled on disk"];

function audits(): Record<string, unknown>[] {
  const dir = join(stateBucket(), "audit/locks/hello-service");
  if (!existsSync(dir)) return [];
  return readdirSync(dir).map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")));
}

describe("gantry unlock", () => {
  it("breaks a damaged lock that made deployments fail LockDamaged; the next deployment succeeds", async () => {
    const build = await throughPreprodWithCli(local, "v2");

    // A prod deployment holds the lock while it waits for approval; the lock file is garbled.
    const holder = spawnCli(deployArgs("prod", build, "--wait", "--actor", "octocat"), { local });
    await holder.waitForOutput(/approval: waiting for/);
    const holderArn = /execution (arn:\S+)/.exec(holder.stdout())?.[1] ?? "";
    expect(existsSync(lockFile())).toBe(true);
    writeFileSync(lockFile(), GARBLED);

    // Its owner cannot be read, and an execution of the service runs: refused, even forced.
    const whileRunning = await runCli([...UNLOCK, "--force-damaged"], { local });
    expect(whileRunning.code, whileRunning.stderr).toBe(5);
    expect(whileRunning.stderr).toContain("RUNNING");
    expect(readFileSync(lockFile(), "utf8")).toBe(GARBLED);

    // Stopping it cleans up, but leaves the damaged lock alone (it is not provably its own).
    expect((await runCli(["stop", holderArn, "--cause", "test"], { local })).code).toBe(0);
    expect((await holder.done).code).toBe(5);
    expect(readFileSync(lockFile(), "utf8")).toBe(GARBLED);

    // Every deployment now fails LockDamaged, and says how to recover.
    const blocked = await runCli(deployArgs("prod", build, "--wait", "--attempt", "2"), { local });
    expect(blocked.code, blocked.stdout + blocked.stderr).toBe(5);
    const output = blocked.stdout + blocked.stderr;
    expect(output).toContain("LockDamaged");
    expect(output).toContain("locks/hello-service.json");
    expect(output).toContain("gantry unlock hello-service --stage prod");
    expect(output).not.toContain("CleanupFailed");
    expect(readFileSync(lockFile(), "utf8")).toBe(GARBLED);

    // Without --force-damaged: refused, nothing changes.
    const unforced = await runCli(UNLOCK, { local });
    expect(unforced.code, unforced.stderr).toBe(5);
    expect(unforced.stderr).toContain("Lock damaged");
    expect(unforced.stderr).toContain("--force-damaged");
    expect(readFileSync(lockFile(), "utf8")).toBe(GARBLED);
    expect(audits()).toEqual([]);

    const broken = await runCli([...UNLOCK, "--force-damaged"], { local });
    expect(broken.code, broken.stderr).toBe(0);
    expect(broken.stdout).toContain(
      "Broke the lock locks/hello-service.json of hello-service (prod)",
    );
    expect(broken.stdout).toContain("audit/locks/hello-service/");
    expect(existsSync(lockFile())).toBe(false);
    expect(audits()).toEqual([
      expect.objectContaining({
        kind: "lock-break",
        stage: "prod",
        principal: "local",
        reason: "garbled on disk",
        forceDamaged: true,
        result: "broken",
        previous: expect.objectContaining({
          damaged: "is not JSON",
          base64: Buffer.from(GARBLED).toString("base64"),
        }),
      }),
    ]);

    // Nothing left to break.
    const again = await runCli(UNLOCK, { local });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("holds no lock");

    // The next deployment takes a fresh lock and goes through.
    const deploy = spawnCli(
      deployArgs("prod", build, "--wait", "--attempt", "3", "--actor", "octocat"),
      { local },
    );
    await deploy.waitForOutput(/gantry approve (hello-service-\S+)/);
    const name = /gantry approve (hello-service-\S+)/.exec(deploy.stdout())?.[1] ?? "";
    const approved = await runCli(["approve", name, "--as", "alice@example.com"], { local });
    expect(approved.code, approved.stderr).toBe(0);
    const result = await deploy.done;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(existsSync(lockFile())).toBe(false);
  });

  it("wants a reason and a stage (exit 2)", async () => {
    expect((await runCli(["unlock", "hello-service", "--stage", "prod"], { local })).code).toBe(2);
    expect((await runCli(["unlock", "hello-service", "--reason", "x y z"], { local })).code).toBe(
      2,
    );
  });

  it("is behind the same gate as the approval routes: secret, Origin, Sec-Fetch-Site, Host, JSON", async () => {
    const secret = readFileSync(join(local.home, "operator-secret"), "utf8").trim();
    const path = "/operator/locks/prod/hello-service";
    const body = JSON.stringify({ reason: "let me in", forceDamaged: true });
    const json = { "content-type": "application/json" };
    const auth = { authorization: `Bearer ${secret}` };
    const port = new URL(local.webEndpoint).port;
    const audited = audits().length;
    const cases: [string, Record<string, string>, number][] = [
      ["no secret", json, 401],
      ["a wrong secret", { ...json, authorization: `Bearer ${"A".repeat(43)}` }, 403],
      ["a foreign Origin", { ...json, ...auth, origin: "https://evil.example" }, 403],
      ["a cross-site request", { ...json, ...auth, "sec-fetch-site": "cross-site" }, 403],
      ["a foreign Host", { ...json, ...auth, host: `evil.example:${port}` }, 403],
      ["a text/plain body", { ...auth, "content-type": "text/plain" }, 415],
      // Past the gate: there is no lock to break.
      ["the operator", { ...json, ...auth }, 404],
    ];
    for (const [what, headers, status] of cases) {
      const answer = await raw("POST", path, headers, body);
      expect({ what, status: answer }).toEqual({ what, status });
    }
    expect(audits()).toHaveLength(audited);
  });
});

/** A request with exactly these headers (fetch would not send a foreign Host). */
function raw(
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string,
): Promise<number> {
  const url = new URL(path, local.webEndpoint);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        hostname: url.hostname,
        port: url.port,
        path: url.pathname,
        method,
        headers: { "content-length": String(Buffer.byteLength(body)), ...headers },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
