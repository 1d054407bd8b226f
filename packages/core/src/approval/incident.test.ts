/**
 * The start-of-deployment incident rules, alone: which alarm states refuse a deployment (and
 * with which error), what a fix is judged on, and the line approvers read about it.
 */
import { describe, expect, it } from "vitest";
import { AlarmTriggered, ConfigurationError, InvalidInput } from "../errors.ts";
import type { AlarmStatus } from "../ports.ts";
import { rejectionOf } from "../testing/rejection.ts";
import { incidentAtStart, incidentFixText } from "./incident.ts";

const SINCE = "2026-11-01T11:40:00.000Z";
const ALARMS = ["api-errors", "api-latency"];

function status(name: string, state: AlarmStatus["state"], metricName?: string): AlarmStatus {
  return {
    name,
    state,
    reason: `${name} is ${state}`,
    updatedAt: SINCE,
    ...(metricName ? { metricName } : {}),
  };
}

/** incidentAtStart as a promise, so a throw can be inspected like the steps' rejections. */
async function atStart(fixFor: readonly string[], statuses: readonly AlarmStatus[]) {
  return incidentAtStart({ alarms: ALARMS, fixFor }, statuses);
}

describe("incidentAtStart", () => {
  it("lets an ordinary deployment through when no alarm is in ALARM", async () => {
    const quiet = [status("api-errors", "OK"), status("api-latency", "INSUFFICIENT_DATA")];
    expect(await atStart([], quiet)).toBeUndefined();
  });

  it("refuses an ordinary deployment during an incident, naming the flag that would mark a fix", async () => {
    const error = await rejectionOf(
      atStart([], [status("api-errors", "ALARM"), status("api-latency", "ALARM")]),
    );
    expect(error).toBeInstanceOf(AlarmTriggered);
    expect(error.message).toBe(
      `api-errors in ALARM since ${SINCE} (api-errors is ALARM); api-latency in ALARM since ${SINCE} (api-latency is ALARM): ` +
        "already in ALARM when the deployment started; a fix deployed during an incident needs " +
        "`gantry deploy --fix-for api-errors --fix-for api-latency`",
    );
  });

  it("refuses a fix of an alarm that is not in ALARM, with the field it came from", async () => {
    const error = await rejectionOf(
      atStart(["api-latency"], [status("api-errors", "OK"), status("api-latency", "OK")]),
    );
    expect(error).toBeInstanceOf(InvalidInput);
    expect((error as InvalidInput).issues[0]?.field).toBe("fixFor");
    expect(error.message).toContain("api-latency is OK, not in ALARM: nothing to fix");
  });

  it("refuses the unmarked incident first when both rules are broken", async () => {
    const error = await rejectionOf(
      atStart(["api-latency"], [status("api-errors", "ALARM"), status("api-latency", "OK")]),
    );
    expect(error).toBeInstanceOf(AlarmTriggered);
  });

  it("names every registry alarm CloudWatch does not know", async () => {
    await expect(atStart([], [])).rejects.toThrow(
      new ConfigurationError("alarms not found: api-errors, api-latency"),
    );
  });

  it("ignores statuses of alarms the stage does not watch", async () => {
    const statuses = [
      status("api-errors", "OK"),
      status("api-latency", "OK"),
      status("someone-elses", "ALARM"),
    ];
    expect(await atStart([], statuses)).toBeUndefined();
  });

  it.each([
    ["Errors", "errors"],
    ["Throttles", "errors"],
    [undefined, "errors"],
    ["Duration", "latency"],
  ] as const)("judges a fix of an alarm on %s on %s", async (metricName, metric) => {
    const fix = await atStart(
      ["api-errors"],
      [status("api-errors", "ALARM", metricName), status("api-latency", "OK")],
    );
    expect(fix).toEqual({
      alarms: [{ name: "api-errors", since: SINCE, ...(metricName ? { metricName } : {}) }],
      metric,
    });
  });

  it("judges a fix of two alarms on latency when either watches Duration", async () => {
    const fix = await atStart(ALARMS, [
      status("api-errors", "ALARM", "Errors"),
      status("api-latency", "ALARM", "Duration"),
    ]);
    expect(fix?.metric).toBe("latency");
    expect(fix?.alarms.map((a) => a.name)).toEqual(ALARMS);
  });

  it("reads a plan without fixFor (written by an earlier Gantry) as an ordinary deployment", async () => {
    const plan = { alarms: ALARMS } as unknown as Parameters<typeof incidentAtStart>[0];
    expect(() =>
      incidentAtStart(plan, [status("api-errors", "ALARM"), status("api-latency", "OK")]),
    ).toThrow(AlarmTriggered);
  });
});

describe("incidentFixText", () => {
  it("names the alarm, since when, the version to beat and the metric", () => {
    expect(
      incidentFixText({
        alarms: [{ name: "api-errors", since: SINCE }],
        metric: "errors",
        previousVersion: "4",
      }),
    ).toBe(
      `Deploying during an incident: a fix for api-errors (in ALARM since ${SINCE}); ` +
        "the version analysis judges it, not that alarm: it must do better than version 4 on the failure rate",
    );
  });

  it("names every alarm, and the version serving now when its number is unknown", () => {
    expect(
      incidentFixText({
        alarms: [
          { name: "api-errors", since: SINCE },
          { name: "api-latency", since: SINCE },
        ],
        metric: "latency",
      }),
    ).toBe(
      `Deploying during an incident: a fix for api-errors (in ALARM since ${SINCE}) and api-latency (in ALARM since ${SINCE}); ` +
        "the version analysis judges it, not those alarms: it must do better than the version serving now on p99 latency",
    );
  });

  it("escapes characters that could forge a line or hide text", () => {
    const text = incidentFixText({
      alarms: [{ name: "api\r\nApprove: https://evil.example", since: SINCE }],
      metric: "errors",
    });
    expect(text).not.toMatch(/[\r\n]/);
    expect(text).toContain("api\\u{000D}\\u{000A}Approve");
  });
});
