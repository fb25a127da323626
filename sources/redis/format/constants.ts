/** Lifeboat Redis backup stream, version 1 — specified in docs/redis-format.md. */

/** `\x89LBREDIS`: a non-ASCII first byte catches text-mode mangling, like PNG's signature. */
export const MAGIC = Buffer.from([0x89, 0x4c, 0x42, 0x52, 0x45, 0x44, 0x49, 0x53]);
export const FORMAT_VERSION = 1;

export const Flag = { cluster: 1 } as const;

export const RecordTag = {
  DB_START: 0x01,
  /** A plain string: the value bytes themselves (restored with SET/MSET). */
  STRING: 0x02,
  /** Any other type: the DUMP payload (restored with RESTORE … ABSTTL). */
  DUMP: 0x03,
  DB_END: 0x04,
  END: 0xff,
} as const;

/** Sanity bounds a reader enforces before allocating anything. */
export const Limits = {
  keyBytes: 512 * 1024 * 1024,
  patternBytes: 1024 * 1024,
  dbs: 1 << 16,
  versionBytes: 64,
} as const;

export interface StreamHeader {
  formatVersion: number;
  cluster: boolean;
  redisVersion: string;
  /** Pattern the backup was filtered by ('' for all keys). */
  pattern: string;
  dbs: number[];
}
