/**
 * The error a promise rejected with, for tests that inspect more than its message; fails the
 * test if the promise resolved or rejected with something that is not an Error.
 *
 * @example
 * const error = await rejectionOf(store.copy(source, target));
 * expect(error.name).toBe("ArtifactChecksumMismatch");
 */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error("expected the promise to reject with an Error");
  return error;
}
