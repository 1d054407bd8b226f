import { defineLocalConfig } from "@gantry/local/config";
import { buildVariant } from "./examples/hello-service/build.ts";
import traffic from "./examples/hello-service/traffic.json" with { type: "json" };

/**
 * The app's local configuration: what `npm start` (the local control plane) runs each service of
 * gantry.registry.ts with. Not used in AWS. GANTRY_LOCAL_CONFIG names another module to use
 * instead; a service this file does not mention starts on the placeholder artifact, which
 * answers 200 to everything (docs/local.md).
 *
 * Here: the example service, examples/hello-service, starts on its v1 build; its prod alias gets
 * the requests real users send and its preprod alias the integration tests' request
 * (examples/hello-service/traffic.json).
 */
export default defineLocalConfig({
  services: {
    "hello-service": {
      initialCode: () => buildVariant("v1").zip,
      traffic: { prod: traffic.prod, preprod: traffic.preprod },
    },
  },
  hints: [
    "npm run demo                      deploys hello-service end to end: a good version, a broken",
    "                                  one stopped at preprod, two rolled back in prod (by the",
    "                                  alarm, by the version analysis) and a fix during an incident",
  ],
});
