/**
 * `gantry doctor` as built: the bundle carries its SDK clients and the stacks modules it reads
 * the policies from. The checks themselves are tested over mocked clients beside the command
 * (packages/cli/src/commands/doctor.test.ts, packages/cli/src/doctor/*.test.ts); moto does
 * not implement iam:SimulatePrincipalPolicy, so no suite here talks to an AWS-protocol server.
 */
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.ts";

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === "object" && address ? address.port : 1;
}

describe("gantry doctor (built)", () => {
  it("prints its help", async () => {
    const help = await runCli(["doctor", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: gantry doctor [options]");
    expect(help.stdout).toContain("--sender EMAIL");
    const main = await runCli(["--help"]);
    expect(main.stdout).toMatch(/\n {2}doctor +check a stage's AWS account/);
  });

  it("exits 2 on usage and settings errors", async () => {
    expect((await runCli(["doctor"])).code).toBe(2);
    const local = await runCli(["doctor", "--stage", "prod", "--endpoint", "http://127.0.0.1:9"]);
    expect(local.code).toBe(2);
    expect(local.stderr).toContain("doctor checks an AWS account");
  });

  it("exits 5 when AWS cannot be reached, saying so", async () => {
    const port = await closedPort();
    const result = await runCli(
      [
        "doctor",
        "--stage",
        "prod",
        "--region",
        "us-east-1",
        "--sender",
        "gantry@acme.dev",
        "--json",
      ],
      {
        env: {
          AWS_ACCESS_KEY_ID: "test",
          AWS_SECRET_ACCESS_KEY: "test",
          AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
          AWS_MAX_ATTEMPTS: "1",
        },
      },
    );
    expect(result.code).toBe(5);
    expect(result.stderr).toContain("gantry: cannot reach AWS STS in us-east-1 (ECONNREFUSED)");
    expect(JSON.parse(result.stdout).error.exitCode).toBe(5);
  });
});
