import type { Profile, Retention, Targets } from './types';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export interface Preset {
  readonly targets: Targets;
  readonly retention: Retention;
}

/**
 * Starting points for recovery targets and retention; `targets` and
 * `retention` in the config (globally or per source) override them key by
 * key. Every preset keeps the last 3 recovery points whatever their age, so a
 * burst of manual backups never prunes away the only good one.
 *
 * - dev: one backup a day is enough (RPO 24h), a restore may take 2h; keep the last 3.
 * - staging: RPO 6h, RTO 1h; last 3, 7 daily, 4 weekly.
 * - prod: RPO 1h, RTO 15m; last 3, 24 hourly, 14 daily, 8 weekly, 12 monthly, 3 yearly.
 */
export const PRESETS = {
  dev: {
    targets: { rpo: 24 * HOUR, rto: 2 * HOUR },
    retention: { keepLast: 3, keepHourly: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0 },
  },
  staging: {
    targets: { rpo: 6 * HOUR, rto: HOUR },
    retention: { keepLast: 3, keepHourly: 0, keepDaily: 7, keepWeekly: 4, keepMonthly: 0, keepYearly: 0 },
  },
  prod: {
    targets: { rpo: HOUR, rto: 15 * MINUTE },
    retention: { keepLast: 3, keepHourly: 24, keepDaily: 14, keepWeekly: 8, keepMonthly: 12, keepYearly: 3 },
  },
} as const satisfies Record<Profile, Preset>;

/** Default restore order per source type: Redis metadata before the vector stores that it describes. */
export const DEFAULT_RESTORE_ORDER = { redis: 10, qdrant: 20, faiss: 20, files: 5 } as const;
