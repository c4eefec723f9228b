/**
 * The calls in progress, for the admin API (routes/live-calls.ts): in a single server its own calls; in a
 * cluster's front door, its local workers' calls, asked over the IPC channel (cluster/ipc-request.ts). A
 * hang-up sends BYE from the process that holds the call. Remote workers (other hosts) are not asked: each
 * serves its own API.
 */
import type { ChildProcess } from 'node:child_process';
import { z } from 'zod';
import type { Call } from '../call/call.js';
import { answerRequests, askWorker } from '../cluster/ipc-request.js';

export const liveCallView = z.object({
  callId: z.string(),
  app: z.string().describe('voicemail, attendant or echo'),
  /** The number dialled. */
  number: z.string(),
  from: z.string(),
  fromName: z.string(),
  /** The address the INVITE came from (the PBX). */
  source: z.string(),
  startedAt: z.string().describe('ISO 8601'),
  /** The local worker that holds it (in a cluster). */
  worker: z.number().optional(),
});
export type LiveCall = z.infer<typeof liveCallView>;

export interface LiveCalls {
  list(): Promise<LiveCall[]>;
  /** Ends the call with BYE; false when no such call is in progress. */
  hangup(callId: string): Promise<boolean>;
}

/** A worker gets this long to answer. */
const ASK_TIMEOUT_MS = 2000;
const LIST = 'live-calls';
const HANGUP = 'hang-up';

function view(call: Call): LiveCall {
  const caller = call.parties.caller;
  return {
    callId: call.callId,
    app: call.service.service,
    number: call.service.number,
    from: caller.number,
    fromName: caller.name,
    source: call.sourceAddress,
    startedAt: new Date(call.startedAt).toISOString(),
  };
}

/** This process's calls. */
export function localLiveCalls(calls: ReadonlySet<Call>): LiveCalls {
  return {
    list: async () => [...calls].filter((c) => !c.ended).map(view),
    async hangup(callId) {
      const call = [...calls].find((c) => c.callId === callId && !c.ended);
      if (!call) return false;
      await call.hangup();
      return true;
    },
  };
}

/** A front door's: every local worker's calls, each marked with its worker. */
export function clusterLiveCalls(workers: () => readonly (ChildProcess | undefined)[]): LiveCalls {
  return {
    async list() {
      const answers = await Promise.all(workers().map((child) => askWorker<LiveCall[]>(child, LIST, undefined, ASK_TIMEOUT_MS)));
      return answers.flatMap((calls, worker) => (calls ?? []).map((c) => ({ ...c, worker })));
    },
    async hangup(callId) {
      const answers = await Promise.all(workers().map((child) => askWorker<boolean>(child, HANGUP, callId, ASK_TIMEOUT_MS)));
      return answers.some((found) => found === true);
    },
  };
}

/** In a worker: answers the front door's live-call questions from this process's calls. */
export function answerLiveCallRequests(local: LiveCalls): () => void {
  const stops = [answerRequests(LIST, () => local.list()), answerRequests(HANGUP, (callId) => (typeof callId === 'string' ? local.hangup(callId) : Promise.resolve(false)))];
  return () => stops.forEach((stop) => stop());
}
