import { defineRegistry } from "@gantry/core";

/**
 * The service registry: the policy for every service Gantry deploys, per stage. Callers of
 * StartExecution can only say which service, version and artifact; everything else is decided
 * here, reviewed like code and deployed with the infrastructure.
 *
 * To register a service: add an entry, make sure its functions and aliases exist in both stages,
 * create the alarms it names, and deploy Gantry (`npx sst deploy --stage <stage>`).
 * Bucket names are global in S3: change the `acme-` prefix to your own.
 */
export default defineRegistry({
  stages: {
    // CI publishes to the preprod bucket; preprod deploys from it as it is.
    preprod: {
      sourceBucket: "acme-gantry-artifacts-preprod",
      artifactBucket: "acme-gantry-artifacts-preprod",
    },
    // Prod copies the exact preprod object into its own bucket, then deploys from there.
    prod: {
      sourceBucket: "acme-gantry-artifacts-preprod",
      artifactBucket: "acme-gantry-artifacts-prod",
    },
  },
  services: {
    "hello-service": {
      description: "The example service (examples/hello-service): answers GET /hello.",
      repositoryUrl: "https://github.com/acme/hello-service",
      // The repository whose GitHub Actions ID tokens may deploy it (docs/ci.md).
      repository: "acme/hello-service",
      canary: {
        checks: [
          {
            name: "GET /hello",
            event: { rawPath: "/hello", requestContext: { http: { method: "GET" } } },
            expect: { statusCode: 200, bodyIncludes: "hello" },
          },
        ],
      },
      stages: {
        preprod: {
          functionName: "hello-service-preprod",
          alias: "live",
          alarms: ["hello-service-preprod-errors"],
          rollout: { steps: [50], stepWaitSeconds: 60, pollSeconds: 20, bakeSeconds: 120 },
          verifyPreprod: false,
          // The example is deployed from laptops and SDK calls, without ID tokens: such triggers
          // are accepted and shown as unverified. Set this to false (prod first) once CI sends
          // ID tokens (docs/ci.md).
          allowUnverifiedTrigger: true,
        },
        prod: {
          functionName: "hello-service-prod",
          alias: "live",
          alarms: ["hello-service-prod-errors"],
          rollout: { steps: [10, 25, 50], stepWaitSeconds: 60, pollSeconds: 60, bakeSeconds: 600 },
          verifyPreprod: true,
          approval: {
            approvers: ["alice@example.com", "bob@example.com"],
            // Matches verified claims only (an ID token from acme/hello-service): a caller who
            // merely claims to be dependabot[bot] still waits for a person.
            autoApprove: [{ actor: "dependabot[bot]", ref: "refs/heads/main" }],
            timeoutSeconds: 24 * 3600,
          },
          // As in preprod: set to false once CI sends ID tokens (docs/ci.md).
          allowUnverifiedTrigger: true,
          // Judge the new version by its own numbers at the end of every hold, beside the alarm
          // (docs/operations.md, "Version analysis"). These are the defaults, spelled out.
          analysis: {
            confidence: 0.95,
            maxErrorRateIncrease: 1,
            maxLatencyRatio: 1.2,
            minLatencyIncreaseMs: 5,
            minRequests: 100,
            // Too few real requests: send the canary's events to make up the difference.
            whenInsufficient: "synthesize",
            maxSyntheticRequests: 200,
          },
        },
      },
    },
  },
  // Who may also decide at a terminal (`gantry approve`), and how they prove it: in AWS their
  // IAM identity (replace these example ARNs with your approvers' users or SSO sessions); on
  // the local control plane, the operator secret in GANTRY_HOME.
  operators: {
    "alice@example.com": {
      iam: ["arn:aws:sts::111122223333:assumed-role/GantryApprovers/alice@example.com"],
      local: true,
    },
    "bob@example.com": {
      iam: ["arn:aws:sts::111122223333:assumed-role/GantryApprovers/bob@example.com"],
      local: true,
    },
  },
});
