import { artifactPrefixOf, type Registry, type Stage } from "@gantry/core";
import { bucketArn, objectsArn, roleArn } from "./arns.ts";
import { functionRoleName } from "./names.ts";
import { DECISION_RECORDS, type PolicyDocument } from "./policy.ts";

/**
 * How Gantry's buckets are locked down, as plain data: `stacks/storage.ts` turns it into S3
 * resources and the infra tests read it directly.
 *
 * What is enforced where (prod artifacts are never replaced with other bytes):
 * - S3, by bucket policy: in prod only CopyArtifact's role may write objects and nobody may
 *   delete them; requests without TLS are refused everywhere. In the state bucket only the
 *   approval path's roles may write decision records, and nobody may delete them.
 * - S3, by versioning: every byte ever written stays retrievable; deploys pin the VersionId.
 * - CopyArtifact: refuses a key that already holds other bytes (ArtifactConflict).
 * - Deploy: the new Lambda version's CodeSha256 must equal the artifact's SHA-256.
 *
 * Not used: a bucket policy requiring `If-None-Match` (S3 then refuses every CopyObject, the
 * server-side copy Gantry relies on), and Object Lock (it protects versions, not keys: a write
 * to an existing key still succeeds as a new version, and it cannot be turned off again).
 */

export interface PublicAccessBlock {
  readonly blockPublicAcls: boolean;
  readonly blockPublicPolicy: boolean;
  readonly ignorePublicAcls: boolean;
  readonly restrictPublicBuckets: boolean;
}

export interface BucketSettings {
  readonly name: string;
  readonly purpose: "artifacts" | "state";
  readonly versioning: "Enabled";
  /** SSE-S3: readable across accounts through the bucket policy, no key policy to keep in step. */
  readonly encryption: { readonly sseAlgorithm: "AES256"; readonly bucketKeyEnabled: boolean };
  readonly publicAccessBlock: PublicAccessBlock;
  /** ACLs off: the bucket owner owns every object. */
  readonly objectOwnership: "BucketOwnerEnforced";
  readonly lifecycle: {
    /** Old versions (only overwrites and deletes make them) are kept this long. */
    readonly noncurrentVersionExpirationDays: number;
    readonly abortIncompleteMultipartUploadDays: number;
    /** Key prefixes whose objects expire, and after how many days. */
    readonly expirations?: readonly { readonly prefix: string; readonly days: number }[];
  };
  readonly policy: PolicyDocument;
}

const LOCKED_DOWN: PublicAccessBlock = {
  blockPublicAcls: true,
  blockPublicPolicy: true,
  ignorePublicAcls: true,
  restrictPublicBuckets: true,
};

/** Days old versions are kept: long in prod (they are evidence), short elsewhere. */
export const NONCURRENT_VERSION_DAYS: Readonly<Record<Stage | "state", number>> = {
  preprod: 30,
  prod: 365,
  state: 90,
};

/**
 * Refuses every request that does not use TLS.
 *
 * @example
 * ```ts
 * denyInsecureTransport("aws", "acme-gantry-artifacts-prod").Effect; // "Deny"
 * ```
 */
export function denyInsecureTransport(partition: string, bucket: string): Record<string, unknown> {
  return {
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: [bucketArn(partition, bucket), objectsArn(partition, bucket, "*")],
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

export interface ArtifactBucketArgs {
  readonly stage: Stage;
  readonly registry: Registry;
  readonly partition: string;
  /** This stage's account: whose CopyArtifact role may write prod artifacts. */
  readonly accountId: string;
  /** preprod: the separate prod account whose CopyArtifact may read the artifacts. */
  readonly prodAccountId?: string;
}

/**
 * The stage's artifact bucket (its name comes from the registry).
 *
 * @example
 * ```ts
 * artifactBucketSettings({ stage: "prod", registry, partition: "aws", accountId: "123456789012" }).name;
 * // "acme-gantry-artifacts-prod"
 * ```
 */
export function artifactBucketSettings(args: ArtifactBucketArgs): BucketSettings {
  const { stage, registry, partition } = args;
  const name = registry.stages[stage].artifactBucket;
  const statements: Record<string, unknown>[] = [denyInsecureTransport(partition, name)];
  if (stage === "prod") {
    const copier = roleArn(partition, args.accountId, functionRoleName("prod", "copy-artifact"));
    statements.push(
      {
        Sid: "OnlyCopyArtifactWrites",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:PutObject",
        Resource: objectsArn(partition, name, "*"),
        Condition: { ArnNotEquals: { "aws:PrincipalArn": copier } },
      },
      {
        Sid: "NothingIsDeleted",
        Effect: "Deny",
        Principal: "*",
        Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"],
        Resource: objectsArn(partition, name, "*"),
      },
    );
  }
  if (stage === "preprod" && args.prodAccountId) {
    // The prod account's CopyArtifact copies the validated bytes out of this bucket. The
    // account root is the principal (a role that does not exist yet is refused as a
    // principal); the condition narrows it to that one role.
    const prodCopier = roleArn(
      partition,
      args.prodAccountId,
      functionRoleName("prod", "copy-artifact"),
    );
    const principal = { AWS: `arn:${partition}:iam::${args.prodAccountId}:root` };
    const onlyProdCopier = { ArnEquals: { "aws:PrincipalArn": prodCopier } };
    statements.push(
      {
        Sid: "ProdCopyArtifactReads",
        Effect: "Allow",
        Principal: principal,
        Action: ["s3:GetObject", "s3:GetObjectVersion"],
        Resource: Object.keys(registry.services).map((service) =>
          objectsArn(partition, name, `${artifactPrefixOf(registry, service)}*`),
        ),
        Condition: onlyProdCopier,
      },
      {
        Sid: "ProdCopyArtifactLists",
        Effect: "Allow",
        Principal: principal,
        Action: "s3:ListBucket",
        Resource: bucketArn(partition, name),
        Condition: onlyProdCopier,
      },
    );
  }
  return {
    name,
    purpose: "artifacts",
    versioning: "Enabled",
    encryption: { sseAlgorithm: "AES256", bucketKeyEnabled: true },
    publicAccessBlock: LOCKED_DOWN,
    objectOwnership: "BucketOwnerEnforced",
    lifecycle: {
      noncurrentVersionExpirationDays: NONCURRENT_VERSION_DAYS[stage],
      abortIncompleteMultipartUploadDays: 7,
    },
    policy: { Version: "2012-10-17", Statement: statements },
  };
}

/** Where the state bucket keeps holds' watches (packages/core/src/steps/hold.ts). */
export const HOLD_RECORDS_PREFIX = "holds/";

/** Days a hold's watch may outlive its hold: far longer than any hold. */
export const HOLD_RECORDS_DAYS = 7;

/** The functions whose roles may write decision records (stacks/policy.ts grants them). */
export const DECISION_WRITERS = ["approval-http", "approval-operator"] as const;

export interface StateBucketArgs {
  readonly stage: Stage;
  readonly partition: string;
  /** This stage's account: whose approval roles may write decision records. */
  readonly accountId: string;
  readonly name: string;
}

/**
 * The state bucket: locks, approvals, task tokens, deployment records. The conditional writes
 * the core relies on (`If-None-Match: *`, `If-Match: <etag>`) are plain S3 features and need
 * no setting.
 *
 * Decision records (`approvals/*.decision.json`) are what lets a deployment past its approval:
 * VerifyApproval proceeds only on one sealed with the decision key. The seal says the approval
 * path made the record; this policy says nothing else can put one there, whatever its IAM
 * policy allows: only the roles of approval-http and approval-operator may write them, and
 * nobody may delete them (or their old versions), so a decision cannot be taken back and
 * decided again.
 *
 * @example
 * ```ts
 * stateBucketSettings({ stage: "prod", partition: "aws", accountId: "123456789012", name: "gantry-state-prod-123456789012-us-east-1" }).purpose; // "state"
 * ```
 */
export function stateBucketSettings(args: StateBucketArgs): BucketSettings {
  const { stage, partition, accountId, name } = args;
  const decisions = objectsArn(partition, name, DECISION_RECORDS);
  const writers = DECISION_WRITERS.map((fn) =>
    roleArn(partition, accountId, functionRoleName(stage, fn)),
  );
  return {
    name,
    purpose: "state",
    versioning: "Enabled",
    encryption: { sseAlgorithm: "AES256", bucketKeyEnabled: true },
    publicAccessBlock: LOCKED_DOWN,
    objectOwnership: "BucketOwnerEnforced",
    lifecycle: {
      noncurrentVersionExpirationDays: NONCURRENT_VERSION_DAYS.state,
      abortIncompleteMultipartUploadDays: 1,
      // A hold's watch is removed when the hold ends; one left behind (its execution aborted
      // mid-hold) only ever makes a late event find nothing, and goes after a week.
      expirations: [{ prefix: HOLD_RECORDS_PREFIX, days: HOLD_RECORDS_DAYS }],
    },
    policy: {
      Version: "2012-10-17",
      Statement: [
        denyInsecureTransport(partition, name),
        {
          Sid: "OnlyTheApprovalPathWritesDecisions",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:PutObject",
          Resource: decisions,
          Condition: { ArnNotEquals: { "aws:PrincipalArn": writers } },
        },
        {
          Sid: "DecisionsAreNeverDeleted",
          Effect: "Deny",
          Principal: "*",
          Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"],
          Resource: decisions,
        },
      ],
    },
  };
}
