import { defineRegistry } from "@gantry/core";
import registry from "../../../gantry.registry.ts";

/**
 * The project's registry, with hello-service bound to its GitHub repository (name and id, as
 * test/support/id-tokens.ts mints them) and prod refusing any deployment whose trigger is not
 * proven by an ID token (allowUnverifiedTrigger absent). Preprod still accepts unverified
 * triggers, so the suites can get a release through it the way the other suites do. The stages'
 * OIDC settings are the defaults: the local control plane's own issuer, audiences
 * `gantry-preprod` and `gantry-prod`.
 */
const service = registry.services["hello-service"];
const approval = service?.stages.prod.approval;
if (!service || !approval)
  throw new Error("the project's registry changed: hello-service has no prod approval");

const { allowUnverifiedTrigger: _prod, ...prod } = service.stages.prod;

export default defineRegistry({
  ...registry,
  stages: {
    preprod: {
      sourceBucket: registry.stages.preprod.sourceBucket,
      artifactBucket: registry.stages.preprod.artifactBucket,
    },
    prod: {
      sourceBucket: registry.stages.prod.sourceBucket,
      artifactBucket: registry.stages.prod.artifactBucket,
    },
  },
  services: {
    "hello-service": {
      ...service,
      repository: "acme/hello-service",
      repositoryId: "123456789",
      stages: {
        preprod: { ...service.stages.preprod, allowUnverifiedTrigger: true },
        prod: {
          ...prod,
          approval: { ...approval, autoApprove: [{ actor: "dependabot[bot]" }] },
        },
      },
    },
  },
});
