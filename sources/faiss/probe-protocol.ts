import type { FaissProbesRun } from './types';

/** What the parent asks the probe child (argv[2], JSON). */
export interface ProbeRequest {
  path: string;
  seed: number;
  queries: number;
  k: number;
}

/** The child's single answer. A crash sends nothing: the parent reads the exit signal instead. */
export type ProbeReply = { ok: true; probes: FaissProbesRun } | { ok: false; message: string };
