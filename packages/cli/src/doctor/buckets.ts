/** doctor's bucket checks: the state and artifact buckets exist here, versioned. */
import { GetBucketVersioningCommand, type S3Client } from "@aws-sdk/client-s3";
import type { Stage } from "@gantry/core";
import type { AwsEnv } from "@gantry/stacks/arns";
import type { BucketPlan } from "./plan.ts";
import {
  type CheckResult,
  callerNeeds,
  describeError,
  errorName,
  httpStatus,
  isAccessDenied,
} from "./result.ts";

/**
 * A bucket exists in this account and region and has versioning enabled (S3
 * GetBucketVersioning with ExpectedBucketOwner: a bucket of that name in another account
 * answers 403). The client must not follow region redirects: a bucket in another region fails
 * (Lambda loads code only from its own region).
 *
 * @example
 * ```ts
 * const result = await checkBucket(s3, { name: "acme-gantry-artifacts-prod", what: "artifact" }, env, "prod");
 * ```
 */
export async function checkBucket(
  s3: S3Client,
  bucket: BucketPlan,
  env: AwsEnv,
  stage: Stage,
): Promise<CheckResult> {
  const base = { check: "bucket" as const, subject: bucket.name };
  const what = `the ${bucket.what} bucket`;
  const enable = `aws s3api put-bucket-versioning --bucket ${bucket.name} --versioning-configuration Status=Enabled`;
  try {
    const out = await s3.send(
      new GetBucketVersioningCommand({ Bucket: bucket.name, ExpectedBucketOwner: env.accountId }),
    );
    if (out.Status === "Enabled") return { ...base, status: "ok", message: `${what}: versioned` };
    return {
      ...base,
      status: "fail",
      message: `${what}: versioning is ${out.Status === "Suspended" ? "suspended" : "off"}: overwritten artifacts and records could not be recovered`,
      fix: `npx sst deploy --stage ${stage} turns it back on (or: ${enable})`,
    };
  } catch (error) {
    const name = errorName(error);
    const status = httpStatus(error);
    if (name === "NoSuchBucket" || status === 404) {
      return {
        ...base,
        status: "fail",
        message: `${what} does not exist`,
        fix:
          bucket.what === "state"
            ? `npx sst deploy --stage ${stage} creates it; if the deploy set GANTRY_STATE_BUCKET, give doctor the same (--state-bucket)`
            : `npx sst deploy --stage ${stage} creates it (stages.${stage}.artifactBucket in gantry.registry.ts)`,
      };
    }
    if (name === "PermanentRedirect" || name === "AuthorizationHeaderMalformed" || status === 301) {
      return {
        ...base,
        status: "fail",
        message: `${what} is not in ${env.region}: Lambda loads code only from a bucket in its own region`,
        fix: "use one region per stage for Gantry, its buckets and the target functions (docs/deploy.md, Prerequisites)",
      };
    }
    if (isAccessDenied(error)) {
      return {
        ...base,
        status: "fail",
        message: `${what}: S3 refused GetBucketVersioning (${name}): the bucket belongs to another account (S3 names are global), or the caller may not read it`,
        fix: `if the name is taken elsewhere, pick another in gantry.registry.ts; otherwise ${callerNeeds(`s3:GetBucketVersioning on ${bucket.name}`)}`,
      };
    }
    return { ...base, status: "fail", message: `${what}: ${describeError(error)}` };
  }
}
