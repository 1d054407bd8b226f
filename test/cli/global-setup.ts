/**
 * The cli suite runs the built command, so it builds it first (as `npm install` does through
 * the "prepare" script): the tests always exercise the current sources.
 */
import { buildCli } from "@gantry/cli/build";

export default async function setup(): Promise<void> {
  await buildCli();
}
