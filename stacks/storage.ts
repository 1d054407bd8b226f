import type { Registry, Stage } from "@gantry/core";
import type { AwsEnv } from "./arns.ts";
import {
  artifactBucketSettings,
  type BucketSettings,
  stateBucketSettings,
} from "./bucket-settings.ts";
import { defaultStateBucketName } from "./names.ts";

/**
 * The stage's buckets: its artifact bucket (named by the registry) and its state bucket. Both
 * are built from the plain settings in `bucket-settings.ts`; SST keeps buckets on `sst remove`
 * (the app's removal policy is `retain`).
 */

/** One bucket and the resources that lock it down. */
export function lockedDownBucket(id: string, settings: BucketSettings) {
  const bucket = new aws.s3.Bucket(id, { bucket: settings.name, forceDestroy: false });
  const ownership = new aws.s3.BucketOwnershipControls(`${id}Ownership`, {
    bucket: bucket.id,
    rule: { objectOwnership: settings.objectOwnership },
  });
  const publicAccess = new aws.s3.BucketPublicAccessBlock(`${id}PublicAccess`, {
    bucket: bucket.id,
    ...settings.publicAccessBlock,
  });
  const versioning = new aws.s3.BucketVersioning(`${id}Versioning`, {
    bucket: bucket.id,
    versioningConfiguration: { status: settings.versioning },
  });
  const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(`${id}Encryption`, {
    bucket: bucket.id,
    rules: [
      {
        applyServerSideEncryptionByDefault: { sseAlgorithm: settings.encryption.sseAlgorithm },
        bucketKeyEnabled: settings.encryption.bucketKeyEnabled,
      },
    ],
  });
  const lifecycle = new aws.s3.BucketLifecycleConfiguration(
    `${id}Lifecycle`,
    {
      bucket: bucket.id,
      rules: [
        {
          id: "old-versions-and-uploads",
          status: "Enabled",
          filter: {},
          noncurrentVersionExpiration: {
            noncurrentDays: settings.lifecycle.noncurrentVersionExpirationDays,
          },
          abortIncompleteMultipartUpload: {
            daysAfterInitiation: settings.lifecycle.abortIncompleteMultipartUploadDays,
          },
          expiration: { expiredObjectDeleteMarker: true },
        },
        ...(settings.lifecycle.expirations ?? []).map((e) => ({
          id: `expire-${e.prefix.replace(/\W+/g, "-").replace(/-$/, "")}`,
          status: "Enabled",
          filter: { prefix: e.prefix },
          expiration: { days: e.days },
        })),
      ],
    },
    { dependsOn: [versioning] },
  );
  const policy = new aws.s3.BucketPolicy(
    `${id}Policy`,
    { bucket: bucket.id, policy: JSON.stringify(settings.policy) },
    { dependsOn: [publicAccess] },
  );
  return { bucket, ownership, publicAccess, versioning, encryption, lifecycle, policy, settings };
}

export interface StorageArgs {
  readonly stage: Stage;
  readonly env: AwsEnv;
  readonly registry: Registry;
  /** GANTRY_STATE_BUCKET, if set. */
  readonly stateBucket?: string;
  /** preprod: the separate prod account that copies artifacts out. */
  readonly prodAccountId?: string;
}

/**
 * Creates the stage's artifact and state buckets.
 *
 * @example
 * ```ts
 * const { artifacts, state } = createStorage({ stage: "prod", env, registry });
 * ```
 */
export function createStorage(args: StorageArgs) {
  const { stage, env, registry } = args;
  const artifacts = lockedDownBucket(
    "ArtifactBucket",
    artifactBucketSettings({
      stage,
      registry,
      partition: env.partition,
      accountId: env.accountId,
      ...(args.prodAccountId ? { prodAccountId: args.prodAccountId } : {}),
    }),
  );
  const stateName = args.stateBucket ?? defaultStateBucketName(stage, env.accountId, env.region);
  const state = lockedDownBucket(
    "StateBucket",
    stateBucketSettings({
      stage,
      partition: env.partition,
      accountId: env.accountId,
      name: stateName,
    }),
  );
  return { artifacts, state };
}
