import { describe, expect, it } from "vitest";
import { WORKFLOW_FUNCTIONS, type WorkflowFunctionKey } from "./function-catalog.ts";
import { substituteFunctionArns } from "./workflow.ts";

const keys = Object.keys(WORKFLOW_FUNCTIONS) as WorkflowFunctionKey[];
const arns = Object.fromEntries(
  keys.map((key) => [
    key,
    `arn:aws:lambda:eu-west-1:123456789012:function:gantry-${WORKFLOW_FUNCTIONS[key]}`,
  ]),
) as Record<WorkflowFunctionKey, string>;

/** An ASL-like text that uses every placeholder, some of them twice. */
function aslUsing(names: readonly string[]): string {
  return JSON.stringify({
    States: Object.fromEntries(
      names.map((name) => [name, { Type: "Task", Resource: `\${${name}FunctionArn}` }]),
    ),
    Comment: `Validate runs first: \${ValidateInputFunctionArn}`,
  });
}

describe("substituteFunctionArns", () => {
  it("replaces every placeholder, including repeated ones, with its ARN", () => {
    const text = substituteFunctionArns(aslUsing(keys), arns);
    expect(text).not.toMatch(/\$\{[A-Za-z]+FunctionArn\}/);
    const parsed = JSON.parse(text) as {
      States: Record<string, { Resource: string }>;
      Comment: string;
    };
    for (const key of keys) expect(parsed.States[key]?.Resource).toBe(arns[key]);
    expect(parsed.Comment).toBe(`Validate runs first: ${arns.ValidateInput}`);
  });

  it("leaves text that is not a placeholder alone", () => {
    const asl = `${aslUsing(keys)} \${Other} $.rollout.nextCheckAt`;
    expect(substituteFunctionArns(asl, arns).endsWith(` \${Other} $.rollout.nextCheckAt`)).toBe(
      true,
    );
  });

  it("throws on a placeholder that has no ARN", () => {
    const asl = aslUsing([...keys, "Renamed"]);
    expect(() => substituteFunctionArns(asl, arns)).toThrow(
      new TypeError(`no ARN for placeholder \${RenamedFunctionArn}`),
    );
  });

  it("throws on a placeholder whose ARN is empty", () => {
    expect(() => substituteFunctionArns(aslUsing(keys), { ...arns, Deploy: "" })).toThrow(
      new TypeError(`no ARN for placeholder \${DeployFunctionArn}`),
    );
  });

  it("throws on ARNs no placeholder uses, naming them", () => {
    const asl = aslUsing(keys.filter((k) => k !== "Canary" && k !== "Promote"));
    expect(() => substituteFunctionArns(asl, arns)).toThrow(
      new TypeError("ARNs given for functions the ASL does not use: Canary, Promote"),
    );
  });
});
