import { proxyActivities, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { LifeboatActivities } from '../activities/types';
import type { ConsistencyCheckInput, ConsistencyReport } from '../lib/consistency';
import { ACTIVITY_PROFILES } from './activity-profiles';
import { surfaceFailure } from './failures';
import { trackProgress } from './progress';
import { SA } from './search-attributes';

const streaming = proxyActivities<LifeboatActivities>(ACTIVITY_PROFILES.streaming);

/**
 * `lifeboat check`: the configured consistency links checked against the live stores (or the given
 * targets). Disagreements are the check's answer, not a failure: the report (also stored in the
 * repository) says `ok: false` and names each one; the CLI exits non-zero.
 */
export async function consistencyCheckWorkflow(input: ConsistencyCheckInput = {}): Promise<ConsistencyReport> {
  const t = trackProgress('checking');
  upsertSearchAttributes([{ key: SA.kind, value: 'consistency' }]);
  let report: ConsistencyReport;
  try {
    report = await streaming.checkConsistency.executeWithOptions(
      { summary: `Check ${input.links?.length ? input.links.join(', ') : 'every consistency link'}` },
      [
        {
          ...(input.links?.length ? { links: input.links } : {}),
          ...(input.targets ? { targets: input.targets } : {}),
        },
      ],
    );
  } catch (e) {
    t.phase('failed');
    throw surfaceFailure(e);
  }
  for (const l of report.links) t.source(l.link, l.ok ? 'consistent' : 'disagrees', l.problems[0]);
  t.phase(report.ok ? 'consistent' : 'disagreements found');
  setCurrentDetails(
    report.ok
      ? `Consistent: ${report.links.map((l) => l.link).join(', ') || 'no links'} (report ${report.id})`
      : `${report.problems.length} disagreements (report ${report.id}): ${report.problems.slice(0, 3).join('; ')}`,
  );
  return report;
}
