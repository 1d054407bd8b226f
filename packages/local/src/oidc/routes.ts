import type { IncomingMessage, ServerResponse } from "node:http";
import { type LocalIssuerKey, localJwks, OIDC_PATH, openIdConfiguration } from "./issuer.ts";

/** The issuer's two public documents, relative to the web endpoint. */
export const OIDC_DISCOVERY_PATH = `${OIDC_PATH}/.well-known/openid-configuration`;
export const OIDC_JWKS_PATH = `${OIDC_PATH}/.well-known/jwks`;

/**
 * Answers the local issuer's public documents on the web server: GET (or HEAD)
 * `/oidc/.well-known/openid-configuration` and `/oidc/.well-known/jwks` (the public key only).
 * Returns false for anything else, so the next route can try. The control plane serves these
 * before its other routes and before it has finished starting, because ValidateInput of a
 * resumed execution may fetch them while the rest is still opening.
 *
 * @example
 * ```ts
 * web.on("request", async (req, res) => {
 *   if (handleOidcRequest(req, res, { issuer: "http://127.0.0.1:8084/oidc", key })) return;
 *   // ...
 * });
 * ```
 */
export function handleOidcRequest(
  req: IncomingMessage,
  res: ServerResponse,
  local: { readonly issuer: string; readonly key: LocalIssuerKey },
): boolean {
  const path = new URL(req.url ?? "/", "http://local").pathname;
  const body =
    path === OIDC_DISCOVERY_PATH
      ? openIdConfiguration(local.issuer)
      : path === OIDC_JWKS_PATH
        ? localJwks(local.key)
        : undefined;
  if (body === undefined) return false;
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
    res.end("Method not allowed\n");
    return true;
  }
  // Public documents; a verifier caches the keys itself (and refetches on an unknown kid).
  res.writeHead(200, {
    "content-type": "application/json",
    "cache-control": "public, max-age=300",
  });
  res.end(req.method === "HEAD" ? undefined : JSON.stringify(body));
  return true;
}
