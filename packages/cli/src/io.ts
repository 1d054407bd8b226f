/**
 * What a command may touch of its process: its output streams, environment, working directory
 * and clock. `main.ts` passes the real ones; tests pass their own.
 */
export interface OutputStream {
  write(text: string): unknown;
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

export interface Io {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Milliseconds since the epoch. */
  now(): number;
  /** Waits; tests may make it instant. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Aborted when the user interrupts (Ctrl-C): a command that follows an execution stops following. */
  readonly interrupted?: AbortSignal | undefined;
}

/** A sleep that ends early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** The process's own streams, environment and clock. */
export function processIo(interrupted?: AbortSignal): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    now: () => Date.now(),
    sleep,
    interrupted,
  };
}
