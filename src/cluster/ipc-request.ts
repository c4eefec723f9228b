/**
 * Questions the front door asks its local workers over the fork IPC channel, and their answers: /metrics
 * (metrics/cluster-metrics.ts), the live calls and hanging one up (http/live-calls.ts). A request carries a
 * `type` and an id; the worker's answer carries the id back. A worker that is not running, exits or does not
 * answer in time gives undefined: the caller leaves it out rather than waiting on it.
 */
import type { ChildProcess } from 'node:child_process';

/** Front door → worker. */
export interface IpcRequest {
  type: string;
  id: number;
  /** What the question needs (a call id to hang up, …). */
  args?: unknown;
}

/** Worker → front door. */
export interface IpcReply {
  type: 'reply';
  id: number;
  value: unknown;
}

let nextId = 1;

function isRequest(m: unknown, type: string): m is IpcRequest {
  return typeof m === 'object' && m !== null && (m as Partial<IpcRequest>).type === type && typeof (m as IpcRequest).id === 'number';
}

function isReply(m: unknown): m is IpcReply {
  return typeof m === 'object' && m !== null && (m as Partial<IpcReply>).type === 'reply' && typeof (m as IpcReply).id === 'number';
}

/** Asks one worker; its answer, or undefined when it is not running or does not answer within `timeoutMs`. */
export function askWorker<T>(child: ChildProcess | undefined, type: string, args: unknown, timeoutMs: number): Promise<T | undefined> {
  if (!child?.connected) return Promise.resolve(undefined);
  const id = nextId++;
  return new Promise((resolve) => {
    const done = (value: T | undefined): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(value);
    };
    const onMessage = (m: unknown): void => {
      if (isReply(m) && m.id === id) done(m.value as T);
    };
    const onExit = (): void => done(undefined);
    const timer = setTimeout(() => done(undefined), timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
    try {
      child.send({ type, id, args } satisfies IpcRequest);
    } catch {
      done(undefined);
    }
  });
}

/** In a worker: answers the front door's requests of `type` with `answer`. Returns a function that stops. */
export function answerRequests(type: string, answer: (args: unknown) => Promise<unknown>): () => void {
  const onMessage = (m: unknown): void => {
    if (!isRequest(m, type)) return;
    answer(m.args).then(
      (value) => {
        if (process.connected) process.send?.({ type: 'reply', id: m.id, value } satisfies IpcReply);
      },
      () => undefined, // the front door's timeout covers a worker that cannot answer
    );
  };
  process.on('message', onMessage);
  return () => process.off('message', onMessage);
}
