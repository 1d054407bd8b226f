/**
 * The configuration contract: every function's real handler, run in exactly the environment
 * the SST app gives it in each stage (`functionEnvironment`, from the catalogue's settings and
 * the stage's settings as `readConfig` reads them), with every optional setting absent, goes
 * through each of its code paths without a ConfigurationError for a setting its stack does not
 * give it. Unit tests set whatever a handler reads; a deployed function gets only what its
 * stack sets.
 *
 * The installations are the smallest each stage accepts: preprod with no settings at all (its
 * registry asks for no approval, so it has no GANTRY_SENDER), prod with only what it requires,
 * and prod reading preprod through the read role.
 */
import { describe, expect, it, vi } from "vitest";
import { mockSdkClients } from "./support/fake-aws.ts";
import {
  type Installation,
  installation,
  ONE_ACCOUNT,
  PREPROD_READ_ROLE_ARN,
  specsOf,
  TWO_ACCOUNTS,
} from "./support/installations.ts";
import { lambdaEnvironment, runScenario } from "./support/runner.ts";
import { scenariosFor } from "./support/scenarios.ts";

vi.mock("@aws-sdk/credential-providers", async () => {
  const { fromTemporaryCredentials } = await import("./support/fake-aws.ts");
  return { fromTemporaryCredentials };
});

mockSdkClients();

const INSTALLATIONS: readonly Installation[] = [
  installation("preprod, no optional setting", "preprod", {}, { accounts: ONE_ACCOUNT }),
  installation(
    "prod, only the required settings",
    "prod",
    { GANTRY_SENDER: "gantry@acme.dev" },
    { accounts: ONE_ACCOUNT },
  ),
  installation(
    "prod, preprod in another account",
    "prod",
    { GANTRY_SENDER: "gantry@acme.dev", GANTRY_PREPROD_ROLE_ARN: PREPROD_READ_ROLE_ARN },
    { accounts: TWO_ACCOUNTS, preprodSettings: { GANTRY_PROD_ACCOUNT_ID: "222222222222" } },
  ),
];

describe("the environments", () => {
  it("leave out what a stage does not configure: no sender in preprod, no preprod role in one account", () => {
    const [preprod, prod, crossAccount] = INSTALLATIONS as [
      Installation,
      Installation,
      Installation,
    ];
    expect(lambdaEnvironment(preprod, "approval-gate")).not.toHaveProperty("GANTRY_SENDER");
    expect(lambdaEnvironment(prod, "approval-gate")).toMatchObject({
      GANTRY_SENDER: "gantry@acme.dev",
    });
    expect(lambdaEnvironment(prod, "verify-preprod")).not.toHaveProperty("GANTRY_PREPROD_ROLE_ARN");
    expect(lambdaEnvironment(crossAccount, "verify-preprod")).toMatchObject({
      GANTRY_PREPROD_ROLE_ARN: PREPROD_READ_ROLE_ARN,
    });
    for (const d of INSTALLATIONS)
      for (const spec of specsOf(d)) {
        const names = Object.keys(lambdaEnvironment(d, spec.file)).filter((n) =>
          n.startsWith("GANTRY_"),
        );
        // Nothing beyond the catalogue's settings, whatever the machine running the tests has.
        expect(names.filter((n) => !(spec.settings as readonly string[]).includes(n))).toEqual([]);
      }
  });
});

for (const d of INSTALLATIONS) {
  describe(`${d.name}:`, () => {
    for (const spec of specsOf(d)) {
      describe(`functions/${spec.file}.ts`, () => {
        for (const scenario of scenariosFor(spec.file, d.stage)) {
          it(`${scenario.name}: reads only settings its stack gives it`, async () => {
            const run = await runScenario(d, spec.file, scenario);
            const given = Object.keys(run.environment)
              .filter((n) => n.startsWith("GANTRY_"))
              .sort();
            if (run.error?.name === "ConfigurationError") {
              expect.fail(
                `functions/${spec.file}.ts failed with ConfigurationError (${run.error.message}) ` +
                  `in ${d.name}, whose stack gives it only ${given.join(", ") || "no setting"}`,
              );
            }
            expect(run.problem, `${run.problem}\n${run.logs.slice(-2000)}`).toBeUndefined();
          });
        }
      });
    }
  });
}
