import { createZip } from "./world/zip.ts";

/**
 * The placeholder artifact: what a registered service's functions start with on the local
 * control plane when the app's local configuration gives no code for it. One `index.mjs` whose
 * handler answers every event with 200 and a plain-text body naming the function, so the local
 * traffic and a first deployment have something to shift from. A canary that expects more than
 * a 200 fails against it until the service's own build is deployed.
 */
export const PLACEHOLDER_SOURCE = `// Gantry's local placeholder (packages/local/src/placeholder.ts): deploy a build to replace it.
export const handler = async (_event, context) => ({
  statusCode: 200,
  headers: { "content-type": "text/plain; charset=utf-8" },
  body: "placeholder for " + context.functionName + ": deploy a build of this service to replace it\\n",
});
`;

let cached: Uint8Array | undefined;

/**
 * The placeholder's zip (deterministic: always the same bytes, so the same SHA-256).
 *
 * @example
 * ```ts
 * await world.functions.createFunction("my-service-prod", "live", placeholderCode());
 * ```
 */
export function placeholderCode(): Uint8Array {
  cached ??= createZip({ "index.mjs": PLACEHOLDER_SOURCE });
  return cached;
}
