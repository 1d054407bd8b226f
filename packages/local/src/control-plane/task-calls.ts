import { AsyncLocalStorage } from "node:async_hooks";
import type { TaskHandler } from "../engine/workflow-engine.ts";
import type { TaskInvocation } from "./history.ts";

/** What the Task wrapper reports about the function calls of the execution it runs in. */
export interface CallObserver {
  invoked(functionArn: string, input: unknown): TaskInvocation;
  settled(call: TaskInvocation, outcome: NonNullable<TaskInvocation["outcome"]>): void;
}

/**
 * Which execution a Task's function call belongs to. A state machine's engine, and so its Task
 * handlers, are shared by all its executions; only the function call knows the input it was given
 * and what it returned or threw, and that belongs in the history of the execution that made it.
 * Each execution's engine runs in its own async context, and the wrapped handlers report to it.
 */
export class TaskCallRouter {
  readonly #current = new AsyncLocalStorage<CallObserver>();

  /** Runs `start` (an execution's engine) so that every Task call it makes reports to `observer`. */
  within<T>(observer: CallObserver, start: () => T): T {
    return this.#current.run(observer, start);
  }

  /** The handlers, each reporting its calls to the execution it runs in. */
  observed(handlers: Readonly<Record<string, TaskHandler>>): Record<string, TaskHandler> {
    const observed: Record<string, TaskHandler> = {};
    for (const [functionArn, handler] of Object.entries(handlers)) {
      observed[functionArn] = async (input) => {
        const observer = this.#current.getStore();
        const call = observer?.invoked(functionArn, input);
        try {
          const output = await handler(input);
          if (call) observer?.settled(call, { ok: true, output });
          return output;
        } catch (error) {
          if (call) observer?.settled(call, { ok: false, error });
          throw error;
        }
      };
    }
    return observed;
  }
}
