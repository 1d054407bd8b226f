import type { AwsEnv } from "./arns.ts";

/**
 * The partition, region and account the stage is being deployed to, from the credentials SST
 * deploys with. Everything else is named from these, so policies hold plain strings.
 *
 * @example
 * ```ts
 * const env = await currentAwsEnv(); // { partition: "aws", region: "us-east-1", accountId: "123456789012" }
 * ```
 */
export async function currentAwsEnv(): Promise<AwsEnv> {
  const [identity, region, partition] = await Promise.all([
    aws.getCallerIdentity({}),
    aws.getRegion({}),
    aws.getPartition({}),
  ]);
  return { partition: partition.partition, region: region.region, accountId: identity.accountId };
}
