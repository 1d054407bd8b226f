/**
 * @gantry/core/testing: what tests share, for every package's tests and the suites under test/.
 * The in-memory world (the ports with the semantics the real services have, plus fault
 * injection), fixtures (a registry, requests, plans, a fixed clock) and small helpers.
 *
 * Test-only: nothing in @gantry/core (or any product code) imports this entry point; the
 * boundary test (test/unit/boundaries.test.ts) checks that.
 *
 * @example
 * ```ts
 * import { MemoryRecords, fixedClock, testPlan } from "@gantry/core/testing";
 * ```
 */
export * from "./fixtures.ts";
export * from "./holds.ts";
export * from "./id-tokens.ts";
export * from "./memory-world.ts";
export * from "./rejection.ts";
export * from "./verdicts.ts";
export * from "./world.ts";
