import { proxyActivities, upsertSearchAttributes, defineQuery, setHandler } from '@temporalio/workflow';
import type { RoundTripActivities, ProbeRecord } from '../activities/roundtrip';

/** Input of {@link roundTripWorkflow}: only an id; where to write is the worker's configuration. */
export interface RoundTripInput {
  probeId: string;
}

export interface RoundTripResult {
  written: ProbeRecord;
  readBack: ProbeRecord;
}

export const roundTripProgressQuery = defineQuery<string>('progress');

const { writeProbe, readProbe } = proxyActivities<RoundTripActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 5, initialInterval: '200 ms' },
});

/**
 * Smoke test of a whole deployment: a worker reaches Redis and the object
 * store, writes a probe to both, reads it back. Used by the demo and tests.
 */
export async function roundTripWorkflow(input: RoundTripInput): Promise<RoundTripResult> {
  let step = 'writing probe';
  setHandler(roundTripProgressQuery, () => step);
  upsertSearchAttributes({ LifeboatKind: ['roundtrip'] });
  const written = await writeProbe(input.probeId);
  step = 'reading probe back';
  const readBack = await readProbe(input.probeId);
  step = 'done';
  return { written, readBack };
}
