import { at, type Checker, duration, int, isAbsent, mapping, str } from './check';
import type { RetentionSettings } from './types';

export const RETENTION_SETTINGS_DEFAULTS: RetentionSettings = {
  timezone: 'UTC',
  safety: { keepWithin: 7 * 86_400_000, keepLast: 1 },
};

function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * The repository-wide part of the top-level `retention` (its rules are read by
 * parsePartialRetention): `timezone` and `safety: { keepWithin, keepLast }`.
 */
export function parseRetentionSettings(c: Checker, raw: unknown): RetentionSettings {
  const d = RETENTION_SETTINGS_DEFAULTS;
  if (isAbsent(raw) || typeof raw !== 'object' || Array.isArray(raw)) return d;
  const o = raw as Record<string, unknown>;
  const p = 'retention';
  const timezone = str(c, o.timezone, at(p, 'timezone'), { hint: 'an IANA time zone such as UTC or Europe/Paris' });
  if (timezone !== undefined && !validTimezone(timezone))
    c.add(
      at(p, 'timezone'),
      `"${timezone}" is not a time zone; use an IANA name such as UTC or Europe/Paris`,
      timezone,
    );
  let safety = d.safety;
  if (!isAbsent(o.safety)) {
    const sp = at(p, 'safety');
    const s = mapping(c, o.safety, sp, ['keepWithin', 'keepLast'], { example: '{ keepWithin: 7d, keepLast: 1 }' });
    if (s) {
      const keepWithin = s.keepWithin === 0 ? 0 : duration(c, s.keepWithin, at(sp, 'keepWithin'));
      const keepLast = int(c, s.keepLast, at(sp, 'keepLast'), 0, 100_000);
      safety = { keepWithin: keepWithin ?? d.safety.keepWithin, keepLast: keepLast ?? d.safety.keepLast };
    }
  }
  return { timezone: timezone && validTimezone(timezone) ? timezone : d.timezone, safety };
}
