import { describe, expect, it } from "vitest";
import { FUNCTION_CATALOG, WORKFLOW_FUNCTIONS } from "./function-catalog.ts";

describe("the function catalogue", () => {
  it("names each function and each Task key once", () => {
    const files = FUNCTION_CATALOG.map((entry) => entry.file);
    expect(new Set(files).size).toBe(files.length);
    const tasks = FUNCTION_CATALOG.flatMap((entry) => ("task" in entry ? [entry.task] : []));
    expect(new Set(tasks).size).toBe(tasks.length);
    for (const file of files) expect(file).toMatch(/^[a-z][a-z0-9-]*$/);
    for (const task of tasks) expect(task).toMatch(/^[A-Z][A-Za-z]*$/);
  });

  it("derives WORKFLOW_FUNCTIONS from the entries with a Task, in the catalogue's order", () => {
    expect(Object.entries(WORKFLOW_FUNCTIONS)).toEqual(
      FUNCTION_CATALOG.flatMap((entry) => ("task" in entry ? [[entry.task, entry.file]] : [])),
    );
    expect(WORKFLOW_FUNCTIONS).toEqual({
      ValidateInput: "validate-input",
      AcquireLock: "acquire-lock",
      VerifyPreprod: "verify-preprod",
      ApprovalGate: "approval-gate",
      VerifyApproval: "verify-approval",
      CopyArtifact: "copy-artifact",
      Deploy: "deploy",
      Canary: "canary",
      CheckAlarms: "check-alarms",
      Hold: "hold",
      Promote: "promote",
      Rollback: "rollback",
      Finish: "finish",
    });
  });
});
