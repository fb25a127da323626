/** The report's period from the command line: `--since 30d` (a duration back from now) or a date/time. */
import { parseDuration } from '../../config/duration';
import { UsageError } from '../errors';
import type { ReportPeriod } from './compute';

const DATE_RE = /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;

function instant(value: string, option: string, now: Date): Date {
  const v = value.trim();
  if (DATE_RE.test(v)) {
    // A date or a time without a zone is UTC, like every time Lifeboat prints.
    const t = Date.parse(/[T ]/.test(v) && !/(Z|[+-]\d{2}:?\d{2})$/.test(v) ? `${v.replace(' ', 'T')}Z` : v);
    if (Number.isFinite(t)) return new Date(t);
  }
  let back: number;
  try {
    back = parseDuration(v);
  } catch {
    throw new UsageError(
      `${option} ${JSON.stringify(value)} is neither a duration back from now ("30d", "12h", "2w") nor a date ("2026-11-01", "2026-11-01T08:00:00Z")`,
      option,
    );
  }
  return new Date(now.getTime() - back);
}

export function parsePeriod(since: string | undefined, until: string | undefined, now: Date): ReportPeriod {
  const end = until === undefined ? now : instant(until, '--until', now);
  const start = instant(since ?? '30d', '--since', end);
  if (start.getTime() >= end.getTime())
    throw new UsageError(
      `the period is empty: --since ${start.toISOString()} is not before --until ${end.toISOString()}`,
      '--since',
    );
  return { since: start, until: end };
}
