import { defineRegistry } from "@gantry/core";
import registry from "../../../gantry.registry.ts";

/** The project's registry, but prod approvals time out after a minute (for the timeout story). */
const service = registry.services["hello-service"];
if (!service?.stages.prod.approval)
  throw new Error("the project's registry changed: hello-service has no prod approval");

export default defineRegistry({
  ...registry,
  services: {
    "hello-service": {
      ...service,
      stages: {
        ...service.stages,
        prod: {
          ...service.stages.prod,
          approval: { ...service.stages.prod.approval, timeoutSeconds: 60 },
        },
      },
    },
  },
});
