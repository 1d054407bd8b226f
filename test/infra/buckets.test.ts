/** The buckets' lockdown, as plain settings. */

import {
  artifactBucketSettings,
  type BucketSettings,
  stateBucketSettings,
} from "@gantry/stacks/bucket-settings";
import { describe, expect, it } from "vitest";
import registry from "../../gantry.registry.ts";
import { iamMatches } from "./support/iam.ts";
import { TWO_SERVICES } from "./support/registries.ts";

const ACCOUNT = "111111111111";
const PROD_ACCOUNT = "222222222222";

function every(): BucketSettings[] {
  return [
    artifactBucketSettings({ stage: "preprod", registry, partition: "aws", accountId: ACCOUNT }),
    artifactBucketSettings({
      stage: "preprod",
      registry: TWO_SERVICES,
      partition: "aws",
      accountId: ACCOUNT,
      prodAccountId: PROD_ACCOUNT,
    }),
    artifactBucketSettings({ stage: "prod", registry, partition: "aws", accountId: ACCOUNT }),
    stateBucketSettings({
      stage: "prod",
      partition: "aws",
      accountId: ACCOUNT,
      name: "gantry-state-prod-111111111111-us-east-1",
    }),
  ];
}

function statement(settings: BucketSettings, sid: string): Record<string, unknown> | undefined {
  return settings.policy.Statement.find((s) => s.Sid === sid);
}

describe("every bucket", () => {
  it("is versioned, encrypted, private and owner-enforced", () => {
    for (const bucket of every()) {
      expect(bucket.versioning).toBe("Enabled");
      expect(bucket.encryption).toEqual({ sseAlgorithm: "AES256", bucketKeyEnabled: true });
      expect(bucket.publicAccessBlock).toEqual({
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      });
      expect(bucket.objectOwnership).toBe("BucketOwnerEnforced");
    }
  });

  it("refuses every request without TLS, on the bucket and its objects", () => {
    for (const bucket of every()) {
      expect(statement(bucket, "DenyInsecureTransport")).toEqual({
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [`arn:aws:s3:::${bucket.name}`, `arn:aws:s3:::${bucket.name}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      });
    }
  });

  it("never allows anyone at all: every Allow names an account and a role", () => {
    for (const bucket of every()) {
      for (const s of bucket.policy.Statement.filter((s) => s.Effect === "Allow")) {
        expect(s.Principal).not.toBe("*");
        expect(s.Condition).toHaveProperty("ArnEquals");
      }
    }
  });

  it("expires old versions and abandoned uploads", () => {
    const [preprod, , prod, state] = every() as [
      BucketSettings,
      BucketSettings,
      BucketSettings,
      BucketSettings,
    ];
    expect(preprod.lifecycle).toEqual({
      noncurrentVersionExpirationDays: 30,
      abortIncompleteMultipartUploadDays: 7,
    });
    expect(prod.lifecycle).toEqual({
      noncurrentVersionExpirationDays: 365,
      abortIncompleteMultipartUploadDays: 7,
    });
    // Holds' watches left behind (an execution aborted mid-hold) go after a week.
    expect(state.lifecycle).toEqual({
      noncurrentVersionExpirationDays: 90,
      abortIncompleteMultipartUploadDays: 1,
      expirations: [{ prefix: "holds/", days: 7 }],
    });
  });
});

describe("the prod artifact bucket", () => {
  const prod = artifactBucketSettings({
    stage: "prod",
    registry,
    partition: "aws",
    accountId: ACCOUNT,
  });

  it("is the registry's bucket", () => {
    expect(prod.name).toBe("acme-gantry-artifacts-prod");
  });

  it("takes writes from CopyArtifact's role only, and deletes from nobody", () => {
    expect(prod.policy.Statement.map((s) => s.Sid)).toEqual([
      "DenyInsecureTransport",
      "OnlyCopyArtifactWrites",
      "NothingIsDeleted",
    ]);
    expect(statement(prod, "OnlyCopyArtifactWrites")).toEqual({
      Sid: "OnlyCopyArtifactWrites",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:PutObject",
      Resource: "arn:aws:s3:::acme-gantry-artifacts-prod/*",
      Condition: {
        ArnNotEquals: {
          "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:role/gantry-prod-copy-artifact`,
        },
      },
    });
    expect(statement(prod, "NothingIsDeleted")).toEqual({
      Sid: "NothingIsDeleted",
      Effect: "Deny",
      Principal: "*",
      Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"],
      Resource: "arn:aws:s3:::acme-gantry-artifacts-prod/*",
    });
  });
});

describe("the preprod artifact bucket", () => {
  it("grants nothing across accounts unless a prod account is configured", () => {
    const alone = artifactBucketSettings({
      stage: "preprod",
      registry,
      partition: "aws",
      accountId: ACCOUNT,
    });
    expect(alone.policy.Statement.map((s) => s.Sid)).toEqual(["DenyInsecureTransport"]);
  });

  it("lets the prod account's CopyArtifact role, and only it, read the services' artifacts", () => {
    const shared = artifactBucketSettings({
      stage: "preprod",
      registry: TWO_SERVICES,
      partition: "aws",
      accountId: ACCOUNT,
      prodAccountId: PROD_ACCOUNT,
    });
    const onlyCopier = {
      ArnEquals: {
        "aws:PrincipalArn": `arn:aws:iam::${PROD_ACCOUNT}:role/gantry-prod-copy-artifact`,
      },
    };
    expect(statement(shared, "ProdCopyArtifactReads")).toEqual({
      Sid: "ProdCopyArtifactReads",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${PROD_ACCOUNT}:root` },
      Action: ["s3:GetObject", "s3:GetObjectVersion"],
      Resource: [
        "arn:aws:s3:::t-artifacts-preprod/apps/orders/*",
        "arn:aws:s3:::t-artifacts-preprod/billing/*",
      ],
      Condition: onlyCopier,
    });
    expect(statement(shared, "ProdCopyArtifactLists")).toEqual({
      Sid: "ProdCopyArtifactLists",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${PROD_ACCOUNT}:root` },
      Action: "s3:ListBucket",
      Resource: "arn:aws:s3:::t-artifacts-preprod",
      Condition: onlyCopier,
    });
  });
});

/**
 * The bucket policy's Deny statements that refuse one request (over TLS) of a principal: their
 * Sids. Allows are the IAM policies' business.
 */
function deniedBy(
  settings: BucketSettings,
  principalArn: string,
  action: string,
  objectArn: string,
): string[] {
  const list = (v: unknown) => (Array.isArray(v) ? (v as string[]) : [v as string]);
  return settings.policy.Statement.filter((s) => {
    if (s.Effect !== "Deny" || s.Principal !== "*") return false;
    if (!list(s.Action).some((a) => a === action || iamMatches(a, action))) return false;
    if (!list(s.Resource).some((r) => iamMatches(r, objectArn))) return false;
    const condition = (s.Condition ?? {}) as Record<string, Record<string, unknown>>;
    for (const [operator, keys] of Object.entries(condition)) {
      for (const [key, values] of Object.entries(keys)) {
        if (operator === "Bool" && key === "aws:SecureTransport") return false; // TLS is used
        if (operator === "ArnNotEquals" && key === "aws:PrincipalArn") {
          if (list(values).includes(principalArn)) return false;
          continue;
        }
        throw new Error(`no evaluation for ${operator} ${key}`);
      }
    }
    return true;
  }).map((s) => s.Sid as string);
}

describe("the state bucket", () => {
  const NAME = "gantry-state-prod-111111111111-us-east-1";
  const settings = (stage: "preprod" | "prod", accountId = ACCOUNT) =>
    stateBucketSettings({ stage, partition: "aws", accountId, name: NAME });
  const role = (name: string, accountId = ACCOUNT) => `arn:aws:iam::${accountId}:role/${name}`;
  const decision = `arn:aws:s3:::${NAME}/approvals/AbCdEfGhIjKlMnOpQrStUvWx.decision.json`;

  it("lets only the approval-http and approval-operator roles put decision records, and nobody delete them", () => {
    const prod = settings("prod");
    expect(prod.policy.Statement.map((s) => s.Sid)).toEqual([
      "DenyInsecureTransport",
      "OnlyTheApprovalPathWritesDecisions",
      "DecisionsAreNeverDeleted",
    ]);
    expect(statement(prod, "OnlyTheApprovalPathWritesDecisions")).toEqual({
      Sid: "OnlyTheApprovalPathWritesDecisions",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:PutObject",
      Resource: `arn:aws:s3:::${NAME}/approvals/*.decision.json`,
      Condition: {
        ArnNotEquals: {
          "aws:PrincipalArn": [
            role("gantry-prod-approval-http"),
            role("gantry-prod-approval-operator"),
          ],
        },
      },
    });
    expect(statement(prod, "DecisionsAreNeverDeleted")).toEqual({
      Sid: "DecisionsAreNeverDeleted",
      Effect: "Deny",
      Principal: "*",
      Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"],
      Resource: `arn:aws:s3:::${NAME}/approvals/*.decision.json`,
    });
  });

  it("refuses a decision record from every other principal, whatever its IAM policy says", () => {
    for (const stage of ["preprod", "prod"] as const) {
      const bucket = settings(stage);
      const put = (principal: string, key = decision) =>
        deniedBy(bucket, principal, "s3:PutObject", key);
      expect(put(role(`gantry-${stage}-approval-http`))).toEqual([]);
      expect(put(role(`gantry-${stage}-approval-operator`))).toEqual([]);
      for (const principal of [
        role(`gantry-${stage}-approval-gate`),
        role(`gantry-${stage}-verify-approval`),
        role(`gantry-${stage}-canary`),
        role(`gantry-${stage === "prod" ? "preprod" : "prod"}-approval-http`),
        role(`gantry-${stage}-approval-http`, "999999999999"),
        "arn:aws:iam::111111111111:role/Admin",
        "arn:aws:iam::111111111111:root",
      ])
        expect({ stage, principal, denied: put(principal) }).toEqual({
          stage,
          principal,
          denied: ["OnlyTheApprovalPathWritesDecisions"],
        });
      // Everything else in approvals/ is left to the functions' own policies.
      expect(
        put(role(`gantry-${stage}-verify-approval`), decision.replace(".decision.", ".void.")),
      ).toEqual([]);
      expect(
        put(role(`gantry-${stage}-approval-gate`), decision.replace(".decision.", ".")),
      ).toEqual([]);
      for (const action of ["s3:DeleteObject", "s3:DeleteObjectVersion"])
        expect(deniedBy(bucket, role(`gantry-${stage}-approval-http`), action, decision)).toEqual([
          "DecisionsAreNeverDeleted",
        ]);
    }
  });
});
