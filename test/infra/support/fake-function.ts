import { pulumi } from "./pulumi-mocks.ts";

/**
 * A stand-in for `sst.aws.Function`, which needs the SST CLI's build server and so cannot run
 * under plain mocks: it records the arguments the app passes and exposes the outputs the app
 * reads (arn, url), shaped like the real ones.
 */
export interface FunctionCall {
  readonly component: string;
  // biome-ignore lint/suspicious/noExplicitAny: SST's FunctionArgs, as passed
  readonly args: any;
}

export function fakeFunctionClass(
  calls: FunctionCall[],
  env: { region: string; accountId: string },
) {
  return class FakeFunction {
    readonly arn: unknown;
    readonly url: unknown;
    // biome-ignore lint/suspicious/noExplicitAny: SST's FunctionArgs, as passed
    constructor(component: string, args: any) {
      calls.push({ component, args });
      this.arn = pulumi.output(
        `arn:aws:lambda:${env.region}:${env.accountId}:function:${args.name}`,
      );
      this.url = pulumi.output(
        args.url ? `https://${args.name}.lambda-url.${env.region}.on.aws/` : undefined,
      );
    }
  };
}
