import type { FaissProbesRun } from './types';

/** What the parent asks the probe child (argv[2], JSON). */
export interface ProbeRequest {
  path: string;
  seed: number;
  queries: number;
  k: number;
}

/**
 * The child's messages: `ready` once faiss-node is loaded (so a crash after
 * it is the index file's doing, before it the install's), then one answer.
 * A crash sends nothing: the parent reads the exit signal instead.
 */
export type ProbeReply = { ready: true } | { ok: true; probes: FaissProbesRun } | { ok: false; message: string };
