/**
 * aws-local-stepfunctions sleeps until a Wait state's timestamp with setTimeout; when the
 * timestamp has already passed (a scaled wait shorter than the step before it), Node warns about
 * a negative timeout and uses 1 ms, which is exactly right. Only that warning is silenced.
 */
export function silenceNegativeTimeoutWarnings(): void {
  const listeners = process.listeners("warning");
  process.removeAllListeners("warning");
  process.on("warning", (warning) => {
    if (warning.name === "TimeoutNegativeWarning") return;
    for (const listener of listeners) listener(warning);
  });
}
