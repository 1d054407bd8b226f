/**
 * Test-only: the in-memory world of memory-world.ts set up the way the step tests
 * need it. Nothing in the package imports this file.
 */

import { PROD_BUCKET } from "./fixtures.ts";
import { MemoryArtifacts, MemoryFunctions } from "./memory-world.ts";

/**
 * `hello-prod:live` serving version 1, with version 2 published but given no traffic: the
 * state right after Deploy's publish and before its first traffic step.
 */
export async function prodWithTwoVersions(): Promise<{
  artifacts: MemoryArtifacts;
  functions: MemoryFunctions;
  v2Sha256: string;
}> {
  const artifacts = new MemoryArtifacts();
  const functions = new MemoryFunctions(artifacts);
  functions.create("hello-prod", "live", { statusCode: 200, body: "hello v1" });
  const ref = { bucket: PROD_BUCKET, key: "hello-service/v2.zip" };
  const v2Sha256 = artifacts.put(ref, JSON.stringify({ statusCode: 200, body: "hello v2" }));
  const updated = await functions.updateCode("hello-prod", ref);
  await functions.publishVersion("hello-prod", {
    codeSha256: v2Sha256,
    ...(updated.revisionId ? { revisionId: updated.revisionId } : {}),
  });
  return { artifacts, functions, v2Sha256 };
}
