import type { IncomingMessage } from "node:http";

/**
 * The local servers answer only requests addressed to them by a loopback name: a page on
 * another site that re-points its own DNS name at 127.0.0.1 (DNS rebinding) sends its own
 * name as Host, and is refused before any handler runs.
 */

/** True when the Host header names this server: 127.0.0.1 or localhost, on its own port. */
export function isLoopbackHost(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const value = host.toLowerCase();
  return value === `127.0.0.1:${port}` || value === `localhost:${port}`;
}

/** The port a local server was reached on, from the socket (not from anything the client says). */
export function localPortOf(req: IncomingMessage): number {
  return req.socket.localPort ?? 0;
}

/** True when an Origin header is this web server's own (the same loopback name and port). */
export function isOwnOrigin(origin: string, webEndpoint: string): boolean {
  const own = new URL(webEndpoint);
  return (
    origin === `${own.protocol}//127.0.0.1:${own.port}` ||
    origin === `${own.protocol}//localhost:${own.port}`
  );
}
