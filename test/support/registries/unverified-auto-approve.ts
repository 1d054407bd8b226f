import { defineRegistry } from "@gantry/core";
import verified from "./verified-triggers.ts";

/**
 * verified-triggers.ts, but prod also accepts unverified triggers, with its auto-approval rule
 * `{ actor: "dependabot[bot]" }`: the registry a caller would love to fool by claiming that
 * actor without a token.
 */
const service = verified.services["hello-service"];
if (!service) throw new Error("verified-triggers.ts changed: no hello-service");

export default defineRegistry({
  ...verified,
  services: {
    "hello-service": {
      ...service,
      stages: {
        ...service.stages,
        prod: { ...service.stages.prod, allowUnverifiedTrigger: true },
      },
    },
  },
});
