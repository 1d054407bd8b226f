/**
 * @gantry/local/oidc: the local control plane's OIDC issuer (keys in GANTRY_HOME, discovery and
 * JWKS on the local web server) and `mintLocalIdToken`, which `gantry deploy` and the tests use
 * to prove a trigger to the local plane. Small on purpose: the CLI bundles this entry point only.
 */
export * from "./issuer.ts";
export * from "./routes.ts";
