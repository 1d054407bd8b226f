/**
 * How SST bundles every Gantry function (its `nodejs` options). The bundle benchmark
 * (test/bench/bundles.bench.ts) and the bundle test (test/infra/bundles.test.ts) build with these
 * same settings, so what they measure and run is what ships.
 */
export interface NodejsBundling {
  readonly format: "esm";
  readonly minify: boolean;
  readonly splitting: boolean;
  readonly esbuild: { readonly mainFields: string[] };
}

export const NODEJS_BUNDLING: NodejsBundling = {
  format: "esm",
  minify: true,
  // What a function only imports dynamically goes to files of its own, read when it first runs:
  // the SDK's default credential chain carries SSO, INI-file, process and IMDS providers (and
  // their clients) that a Lambda, with credentials in its environment, never loads.
  splitting: true,
  esbuild: {
    // The AWS SDK's ES module builds, which esbuild can tree-shake to the commands a function
    // sends; "main" is the CommonJS build, one file per client with every operation in it.
    mainFields: ["module", "main"],
  },
};
