import { defineRegistry } from "@gantry/core";
import registry from "../../../gantry.registry.ts";

/**
 * The project's registry plus a service of the user's own, `orders`, that gantry.local.ts does
 * not mention: `npm start` gives its functions the placeholder artifact.
 */
const hello = registry.services["hello-service"];
if (!hello) throw new Error("the project's registry changed: no hello-service");
const stage = (name: string) => ({
  functionName: name,
  alias: "live",
  alarms: [`${name}-errors`],
  rollout: { steps: [50], stepWaitSeconds: 60, pollSeconds: 20, bakeSeconds: 120 },
  verifyPreprod: false,
  // The suites deploy it without ID tokens.
  allowUnverifiedTrigger: true,
});

export default defineRegistry({
  ...registry,
  services: {
    ...registry.services,
    orders: {
      description: "a service of the user's own, with no local configuration",
      canary: {
        checks: [
          {
            name: "GET /orders",
            event: { rawPath: "/orders", requestContext: { http: { method: "GET" } } },
            expect: { statusCode: 200 },
          },
        ],
      },
      stages: { preprod: stage("orders-preprod"), prod: stage("orders-prod") },
    },
  },
});
