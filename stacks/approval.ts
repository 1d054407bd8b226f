/**
 * What the approval step needs besides its functions: the signing key of approval links (an
 * SST Secret, with an optional previous key during a rotation) and the SES identity approval
 * mail is sent from. The approval pages themselves are `functions/approval-http.ts` behind a
 * Function URL (see `functions.ts`): the links are signed, so the URL needs no IAM auth.
 */

/**
 * The signing keys. `ApprovalSigningKeyPrevious` defaults to empty, so it only needs a value
 * while a rotation is under way (docs/deploy.md).
 *
 * @example
 * ```ts
 * const keys = signingKeySecrets(); // npx sst secret set ApprovalSigningKey "$(openssl rand -base64 32)" --stage prod
 * ```
 */
export function signingKeySecrets() {
  return {
    current: new sst.Secret("ApprovalSigningKey"),
    previous: new sst.Secret("ApprovalSigningKeyPrevious", ""),
  };
}

/**
 * How the keys reach the functions that sign or verify links: the `GANTRY_SIGNING_KEY` and
 * `GANTRY_SIGNING_KEY_PREVIOUS` variables `envSigningKeys` (packages/aws/src/secrets.ts) reads.
 * (An SST `link` would put them in the bundle's encrypted resource file, which only the `sst`
 * SDK's `Resource` reads; the functions read the environment.)
 */
export function signingKeyEnvironment(keys: ReturnType<typeof signingKeySecrets>) {
  return {
    GANTRY_SIGNING_KEY: keys.current.value,
    GANTRY_SIGNING_KEY_PREVIOUS: keys.previous.value,
  };
}

/**
 * The SES identity approval mail is sent from (an address, verified by a link SES mails to it,
 * or a domain, verified by the DKIM records in the output). Absent when the stage sends no mail.
 *
 * @example
 * ```ts
 * const sender = senderIdentity("gantry@acme.dev");
 * ```
 */
export function senderIdentity(identity: string | undefined) {
  if (!identity) return undefined;
  return new aws.sesv2.EmailIdentity("ApprovalSender", { emailIdentity: identity });
}
