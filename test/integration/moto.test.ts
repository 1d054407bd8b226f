import { afterEach, describe, expect, it, vi } from "vitest";
import { startMoto } from "../support/moto.ts";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("the moto helper", () => {
  it("starts a server that answers on 127.0.0.1 and stops it", async () => {
    const moto = await startMoto();
    expect(moto.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${moto.endpoint}/moto-api/`);
    expect(response.status).toBe(200);
    await response.body?.cancel();

    await moto.stop();

    await expect(fetch(`${moto.endpoint}/moto-api/`)).rejects.toThrow();
  });

  it("fails with a clear error (never a skip) when moto_server is not on PATH", async () => {
    vi.stubEnv("PATH", "/nonexistent");
    await expect(startMoto()).rejects.toThrow(/^moto_server not found: install moto\[server\]/);
  });
});
