import type { Logger } from "@aws-lambda-powertools/logger";
import { createLogger, lazy, stageFromEnv, stepHandler } from "@gantry/aws";
import { type ValidateInputDeps, type ValidateInputEvent, validateInput } from "@gantry/core";
import registry from "../gantry.registry.ts";

/** ValidateInput: refuses bad requests and resolves the plan from the registry. No I/O. */
export type Deps = ValidateInputDeps & { readonly log: Logger };

export const createHandler = (deps: Deps) =>
  stepHandler(deps.log, async (event: ValidateInputEvent) => validateInput(event, deps));

export const awsDeps = (): Deps =>
  lazy<Deps>({
    registry: () => registry,
    stage: stageFromEnv,
    timeScale: () => 1,
    log: () => createLogger("validate-input"),
  });

export const handler = createHandler(awsDeps());
