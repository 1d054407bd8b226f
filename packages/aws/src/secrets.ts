import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  ConfigurationError,
  type SecretSource,
  type SigningKeys,
  signingKeysFrom,
  TransientError,
} from "@gantry/core";
import { isTransient } from "./errors.ts";

/** How long a key set read from Secrets Manager is reused before it is read again. */
export const KEY_CACHE_SECONDS = 300;

/** The two key sets a stage keeps in Secrets Manager, and the setting that names each secret. */
export const KEY_SECRETS = {
  /** HMAC keys of approval links (approval-gate signs, approval-http verifies). */
  links: { setting: "GANTRY_LINK_KEYS_SECRET", what: "the approval link signing key" },
  /** HMAC keys of decision records (the approval path seals, VerifyApproval checks). */
  decisions: { setting: "GANTRY_DECISION_KEYS_SECRET", what: "the approval decision key" },
} as const;

/**
 * A key set kept in AWS Secrets Manager as JSON `{"current": "...", "previous": "..."}` (the
 * stack writes it from the SST secrets; `previous` is set only during a rotation), read at run
 * time with Powertools Parameters and cached for {@link KEY_CACHE_SECONDS}. Keys never travel as
 * environment variables, which anyone allowed `lambda:GetFunctionConfiguration` could read; the
 * environment names only the secret.
 *
 * @example
 * ```ts
 * const secrets = secretsManagerKeys("links");
 * const { current } = await secrets.signingKeys();
 * ```
 */
export function secretsManagerKeys(
  which: keyof typeof KEY_SECRETS,
  options: { client?: SecretsManagerClient; env?: NodeJS.ProcessEnv } = {},
): SecretSource {
  const { setting, what } = KEY_SECRETS[which];
  let provider: SecretsProvider | undefined;
  return {
    async signingKeys(): Promise<SigningKeys> {
      const secretId = (options.env ?? process.env)[setting];
      if (!secretId) throw new ConfigurationError(`${setting} is not set`);
      provider ??= new SecretsProvider({
        awsSdkV3Client: options.client ?? new SecretsManagerClient({}),
      });
      let stored: unknown;
      try {
        stored = await provider.get(secretId, { maxAge: KEY_CACHE_SECONDS, transform: "json" });
      } catch (error) {
        // Powertools wraps the SDK's error; the SDK's is what says transient or not.
        const cause = (error as { cause?: unknown }).cause ?? error;
        const name = (cause as Error).name;
        if (isTransient(cause))
          throw new TransientError(`${what}: reading ${setting}'s secret failed (${name})`);
        // Name the secret and the setting; never echo a value.
        throw new ConfigurationError(
          `${what}: could not read the secret named by ${setting} (${name})`,
        );
      }
      const keys = stored as { current?: unknown; previous?: unknown } | undefined;
      const text = (value: unknown) => (typeof value === "string" ? value : undefined);
      try {
        return signingKeysFrom(text(keys?.current), text(keys?.previous), what);
      } catch (error) {
        // Not kept: once the secret is fixed, the next invocation reads it again.
        provider.clearCache();
        throw new ConfigurationError(`${setting}: ${(error as Error).message}`);
      }
    },
  };
}
