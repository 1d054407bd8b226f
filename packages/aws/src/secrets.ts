import {
  ConfigurationError,
  type SecretSource,
  type SigningKeys,
  signingKeysFrom,
} from "@gantry/core";

/**
 * The approval signing keys, as the infrastructure hands them to a function: SST links the
 * `ApprovalSigningKey` (and, during a rotation, `ApprovalSigningKeyPrevious`) secrets, which
 * arrive as `SST_RESOURCE_<Name>` JSON; `GANTRY_SIGNING_KEY` / `GANTRY_SIGNING_KEY_PREVIOUS`
 * work too, for other ways of deploying. Read once per container.
 *
 * @example
 * ```ts
 * const keys = await envSigningKeys().signingKeys();
 * ```
 */
export function envSigningKeys(env: NodeJS.ProcessEnv = process.env): SecretSource {
  let keys: SigningKeys | undefined;
  return {
    async signingKeys() {
      if (keys) return keys;
      try {
        keys = signingKeysFrom(
          linked(env, "ApprovalSigningKey") ?? env.GANTRY_SIGNING_KEY,
          linked(env, "ApprovalSigningKeyPrevious") ?? env.GANTRY_SIGNING_KEY_PREVIOUS,
        );
      } catch (error) {
        // Name the settings to fix; never echo a value.
        throw new ConfigurationError(
          `GANTRY_SIGNING_KEY (or the linked ApprovalSigningKey secret): ${(error as Error).message}`,
        );
      }
      return keys;
    },
  };
}

function linked(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[`SST_RESOURCE_${name}`];
  if (!raw) return undefined;
  try {
    const value = (JSON.parse(raw) as { value?: unknown }).value;
    return typeof value === "string" && value !== "" ? value : undefined;
  } catch {
    return undefined;
  }
}
