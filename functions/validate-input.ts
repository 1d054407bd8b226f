import type { Logger } from "@aws-lambda-powertools/logger";
import { createLogger, lazy, stageFromEnv, stepHandler } from "@gantry/aws";
import {
  oidcSettingsOf,
  oidcTokenVerifier,
  type ValidateInputDeps,
  type ValidateInputEvent,
  validateInput,
} from "@gantry/core";
import registry from "../gantry.registry.ts";

/**
 * ValidateInput: refuses bad requests, resolves the plan from the registry and verifies the
 * trigger's OIDC ID token. Its only I/O: the issuer's discovery document and keys (JWKS).
 */
export type Deps = ValidateInputDeps & { readonly log: Logger };

export const createHandler = (deps: Deps) =>
  stepHandler(deps.log, async (event: ValidateInputEvent) => validateInput(event, deps));

export const awsDeps = (): Deps =>
  lazy<Deps>({
    registry: () => registry,
    stage: stageFromEnv,
    timeScale: () => 1,
    // Built once per container: a warm start reuses the issuer's keys it already fetched.
    triggerVerifier: () => oidcTokenVerifier(oidcSettingsOf(registry, stageFromEnv())),
    log: () => createLogger("validate-input"),
  });

export const handler = createHandler(awsDeps());
