// @ts-check
/**
 * ELK in a worker thread, started by graph-layout.ts. A first layout takes most of a second
 * (ELK is compiled Java, warming up); on the control plane's own thread that would hold up
 * every running execution. Plain JavaScript, like function-worker.mjs: no type stripper to
 * start in the thread.
 *
 * Protocol:
 *   parent → worker  { id, graph }              an ELK graph (JSON)
 *   worker → parent  { id, graph } | { id, error }
 */
import { parentPort } from "node:worker_threads";
import ELK from "elkjs/lib/elk.bundled.js";

const port = parentPort;
if (!port) throw new Error("layout-worker.mjs runs in a worker thread started by graph-layout.ts");
const elk = new ELK();

port.on(
  "message",
  async (/** @type {{ id: number, graph: import("elkjs").ElkNode }} */ message) => {
    try {
      port.postMessage({ id: message.id, graph: await elk.layout(message.graph) });
    } catch (error) {
      port.postMessage({
        id: message.id,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  },
);
