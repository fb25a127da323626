/**
 * The shape of a validated Lifeboat config, as `parseConfig` returns it:
 * defaults applied, presets merged, durations in milliseconds, sizes in bytes,
 * deeply frozen. Secrets appear only as references ({@link SecretRef}); the
 * worker resolves them with `resolveSecret` at the last moment, so a config
 * object is safe to log or pass around.
 */

export const PROFILES = ['dev', 'staging', 'prod'] as const;
/** A preset for RPO/RTO targets and retention. */
export type Profile = (typeof PROFILES)[number];

import type { VerifyLevel } from '../lib/domain';
export { SOURCE_TYPES, VERIFY_LEVELS, type SourceType, type VerifyLevel } from '../lib/domain';

export const QDRANT_MODES = ['snapshot', 'points'] as const;
/** `snapshot`: Qdrant's native snapshots (fast, same version). `points`: portable scroll/upsert export. */
export type QdrantMode = (typeof QDRANT_MODES)[number];

export const SSE_MODES = ['AES256', 'aws:kms'] as const;
/** S3 server-side encryption, on top of Lifeboat's own client-side encryption. */
export type SseMode = (typeof SSE_MODES)[number];

/**
 * Where a secret comes from: the name of an environment variable or the path
 * of a file. Never the secret itself, so configs, logs and workflow inputs
 * can carry it safely.
 */
export type SecretRef =
  | { readonly env: string; readonly file?: undefined; readonly allowInsecurePermissions?: undefined }
  | {
      readonly file: string;
      readonly env?: undefined;
      /** Accept a file its group or everyone may read (refused otherwise; issue 14). @default false */
      readonly allowInsecurePermissions?: boolean;
    };

/** Recovery objectives, in milliseconds. */
export interface Targets {
  /** Recovery point objective: the newest verified recovery point must never be older than this. */
  readonly rpo: number;
  /** Recovery time objective: a restore (and a drill) must finish within this. */
  readonly rto: number;
}

/**
 * Grandfather-father-son retention, as in restic's `forget`: a recovery point
 * is kept when any rule keeps it. 0 turns a rule off.
 */
export interface Retention {
  /** The newest N recovery points, whatever their age. */
  readonly keepLast: number;
  /** The newest recovery point of each of the last N hours that have one. */
  readonly keepHourly: number;
  readonly keepDaily: number;
  readonly keepWeekly: number;
  readonly keepMonthly: number;
  readonly keepYearly: number;
  /** Every point newer than this (ms) before the source's newest point, e.g. 30d. @default 0 (off) */
  readonly keepWithin?: number;
  /** Every point carrying one of these tags. @default [] */
  readonly keepTags?: readonly string[];
}

/** Repository-wide retention settings (top-level `retention` only). */
export interface RetentionSettings {
  /** IANA zone in which retention's hours, days, weeks, months and years begin. @default 'UTC' */
  readonly timezone: string;
  /** Restore safety backups (tag `safety`): kept while younger than `keepWithin`, and the newest `keepLast`. @default { keepWithin: 7d, keepLast: 1 } */
  readonly safety: { readonly keepWithin: number; readonly keepLast: number };
}

export interface TemporalTlsConfig {
  /** Server name for SNI and certificate checks. @default the host of `address` */
  readonly serverName?: string;
  /** CA bundle for the server's certificate. @default the system's trusted CAs */
  readonly caFile?: string;
  /** Client certificate for mTLS; needs `keyFile`. */
  readonly certFile?: string;
  /** Client key for mTLS; needs `certFile`. */
  readonly keyFile?: string;
}

export interface TemporalConfig {
  /** host:port of the Temporal frontend. @default '127.0.0.1:7233' */
  readonly address: string;
  /** @default 'default' */
  readonly namespace: string;
  /** @default 'lifeboat' */
  readonly taskQueue: string;
  /** TLS to the frontend; absent means plaintext. `tls: true` in YAML gives `{}`. */
  readonly tls?: TemporalTlsConfig;
  /** API key (Temporal Cloud). */
  readonly apiKey?: SecretRef;
  /** Encrypts every workflow payload (inputs, results, heartbeats, queries, failures) before it reaches Temporal. */
  readonly payloadEncryption?: PayloadEncryptionConfig;
}

/** A payload key by reference: the id written into each payload's metadata, and where the 32-byte key is. */
export interface PayloadKeyRef {
  readonly id: string;
  /** 32 random bytes, base64 (44 characters) or hex (64 characters): `openssl rand -base64 32`. */
  readonly key: SecretRef;
}

export interface PayloadEncryptionConfig {
  /** The key new payloads are encrypted with. */
  readonly current: PayloadKeyRef;
  /** Retired keys: still decrypt what they encrypted (histories, schedules), never encrypt. @default [] */
  readonly previous: readonly PayloadKeyRef[];
  /** `lifeboat codec-server`: what the Temporal UI needs to show payloads in clear. */
  readonly codecServer: {
    /** Required as `Authorization: Bearer <token>` when set. @default none (bind to loopback then) */
    readonly token?: SecretRef;
    /** Origins allowed by CORS (the Temporal UI's URL). @default ['http://localhost:8233', 'http://127.0.0.1:8233'] */
    readonly origins: readonly string[];
  };
}

export interface S3Options {
  /** Custom endpoint (MinIO, Ceph, R2...). @default AWS for `region` */
  readonly endpoint?: string;
  /** @default 'us-east-1' */
  readonly region: string;
  /** Path-style URLs (needed by most S3-compatible servers). @default false */
  readonly forcePathStyle: boolean;
  /** Server-side encryption. @default none (Lifeboat encrypts on the client anyway) */
  readonly sse?: SseMode;
  /** KMS key for `sse: aws:kms`. */
  readonly kmsKeyId?: string;
  /** Static access key. @default the AWS SDK's credential chain (env, profile, instance role) */
  readonly accessKeyId?: SecretRef;
  /** Static secret key; needs `accessKeyId`. */
  readonly secretAccessKey?: SecretRef;
}

interface RepositoryCommon {
  /** The URL as written (trimmed): an absolute path, file:///path or s3://bucket/prefix. */
  readonly url: string;
  /** The repository password, from which the encryption key is derived. */
  readonly password: SecretRef;
}

export interface LocalRepositoryConfig extends RepositoryCommon {
  readonly kind: 'local';
  /** Absolute folder path. */
  readonly path: string;
  readonly s3?: undefined;
}

/** `repository.objectLock`: S3 Object Lock retention set on every immutable object at upload. */
export interface ObjectLockConfig {
  readonly mode: 'governance' | 'compliance';
  readonly retentionMs: number;
}

export interface S3RepositoryConfig extends RepositoryCommon {
  readonly kind: 's3';
  /** @default none */
  readonly objectLock?: ObjectLockConfig;
  readonly bucket: string;
  /** Key prefix inside the bucket, without leading or trailing slash ('' for the bucket root). */
  readonly prefix: string;
  readonly s3: S3Options;
}

export type RepositoryConfig = LocalRepositoryConfig | S3RepositoryConfig;

interface SourceCommon {
  /** Unique, `[a-z0-9][a-z0-9-]*`: appears in workflow ids and repository paths. */
  readonly name: string;
  /** Effective targets: source override, else global `targets`, else the profile's. */
  readonly targets: Targets;
  /** Effective retention: source override, else global `retention`, else the profile's. */
  readonly retention: Retention;
  /** Lower restores first. @default redis 10, qdrant 20, faiss 20 (metadata before vector stores) */
  readonly restoreOrder: number;
}

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

export interface RedisSourceConfig extends SourceCommon {
  readonly type: 'redis';
  /** redis:// or rediss:// URL without credentials and without a db path; absent for a cluster. */
  readonly url?: string;
  /** Seed nodes of a Redis Cluster; absent for a single instance. */
  readonly cluster?: readonly RedisNode[];
  readonly username?: string;
  readonly password?: SecretRef;
  /** One db, or every non-empty db. A cluster has only db 0. @default 'all' */
  readonly db: number | 'all';
  /** SCAN MATCH pattern. @default '*' */
  readonly pattern: string;
  /** @default true for rediss:// URLs, else false */
  readonly tls: boolean;
  /**
   * How a backup reads the keys: `sync` the server's RDB snapshot over SYNC/PSYNC (point in time),
   * `scan` SCAN + DUMP, `auto` sync where allowed, else scan. @default 'auto'
   */
  readonly capture?: RedisCapture;
}

export const REDIS_CAPTURES = ['auto', 'sync', 'scan'] as const;
export type RedisCapture = (typeof REDIS_CAPTURES)[number];

export interface FaissProbeOptions {
  /** Indexes larger than this are not loaded for probe queries. @default 2 GiB */
  readonly maxBytes: number;
  /** Probe queries recorded at backup and compared after restore; 0 turns probing off. @default 8 */
  readonly queries: number;
  /** Neighbours per probe query. @default 10 */
  readonly k: number;
}

export interface FaissSourceConfig extends SourceCommon {
  readonly type: 'faiss';
  /** Absolute path of an index file, or of a directory of index files. */
  readonly path: string;
  readonly probe: FaissProbeOptions;
  /** For a directory: globs of relative paths to back up (default: names ending .index or .faiss). */
  readonly include?: readonly string[];
  /** For a directory: globs of relative paths never backed up. */
  readonly exclude?: readonly string[];
}

export interface QdrantSourceConfig extends SourceCommon {
  readonly type: 'qdrant';
  /** http(s) URL of Qdrant's REST API, without credentials. */
  readonly url: string;
  readonly apiKey?: SecretRef;
  /** From `collection` or `collections`; at least one, unique. */
  readonly collections: readonly string[];
  /** @default 'snapshot' */
  readonly mode: QdrantMode;
  /** Restore into a new collection, then switch this alias to it (single collection only). */
  readonly alias?: string;
}

/**
 * Configuration files (`.env`, compose files, redis.conf...): paths and globs below `root`, kept with
 * mode, owner, mtime and symlinks (docs/operations.md).
 */
export interface FilesSourceConfig extends SourceCommon {
  readonly type: 'files';
  /** Absolute folder the selection is relative to; a restore elsewhere (`--to-dir`) puts it below that folder. @default '/' */
  readonly root: string;
  /** Globs relative to `root` (from `paths`); a folder includes everything below it. */
  readonly include: readonly string[];
  /** Globs relative to `root` never backed up (a folder excludes everything below it). */
  readonly exclude: readonly string[];
}

export type SourceConfig = RedisSourceConfig | FaissSourceConfig | QdrantSourceConfig | FilesSourceConfig;

export interface BackupConfig {
  /** Sources backed up at once. @default 2 */
  readonly parallelism: number;
  /** @default 'structure' */
  readonly verify: VerifyLevel;
}

/** When a schedule fires: exactly one of `cron` and `every`. */
export type ScheduleTrigger =
  { readonly cron: string; readonly every?: undefined } | { readonly every: number; readonly cron?: undefined };

export type ScheduleConfig = ScheduleTrigger & {
  /** Created paused. @default false */
  readonly paused: boolean;
  /** IANA time zone for `cron`. @default 'UTC' */
  readonly timezone: string;
};

export type SourceScheduleConfig = ScheduleConfig & {
  /** Sources this schedule covers. @default every source */
  readonly sources?: readonly string[];
};

export type VerifyScheduleConfig = ScheduleConfig & {
  /** Read back and decrypt the data, not just the structure. @default false */
  readonly readData: boolean;
  /** With readData: the share of the data read per run (1-100). @default 100 */
  readonly subsetPercent: number;
};

export interface SchedulesConfig {
  readonly backup?: SourceScheduleConfig;
  readonly verify?: VerifyScheduleConfig;
  readonly drill?: SourceScheduleConfig;
  readonly prune?: ScheduleConfig;
  /** How far back missed runs are caught up after an outage (Temporal minimum 10s). @default 10 minutes */
  readonly catchupWindow: number;
}

export interface WorkerConfig {
  /** @default 4 */
  readonly maxConcurrentActivities: number;
  /** @default 20 */
  readonly maxConcurrentWorkflows: number;
  /** Temp files (staged downloads, restores). @default os.tmpdir()/lifeboat */
  readonly scratchDir: string;
}

/** Where a drill restores one source instead of the default scratch target. */
export interface DrillTargetConfig {
  /** A spare Redis instance (no credentials in the URL; the source's are used). @default a throw-away redis-server */
  readonly redisUrl?: string;
  /** A db of the spare instance the source does not use. */
  readonly redisDb?: number;
  /** FAISS: folder under which the drill's scratch folders are made. @default worker.scratchDir/drills */
  readonly path?: string;
}

/** A user's application check run after a drill's restore (SureBackup's application test). */
export interface DrillCheckConfig {
  readonly name: string;
  /** Program and arguments (a string is run with sh -c). The scratch targets' addresses are in its environment. */
  readonly command: readonly string[];
  /** @default 5 minutes */
  readonly timeout: number;
}

export interface DrillConfig {
  /** Per source name. */
  readonly targets: Readonly<Record<string, DrillTargetConfig>>;
  readonly checks: readonly DrillCheckConfig[];
  /** redis-server binary for throw-away scratch servers. @default redis-server on PATH */
  readonly redisServer?: string;
}

/** `dr:` — disaster recovery (see docs/disaster-recovery.md). */
export interface DrConfig {
  readonly approval: {
    /** How long a plan waits for approval before `onTimeout`. @default 30 minutes */
    readonly timeout: number;
    /** `escalate`: notify and keep waiting; `abort`: end the incident, nothing changed. @default 'escalate' */
    readonly onTimeout: 'escalate' | 'abort';
    /** Severities whose plan is approved by policy (the history shows "policy:auto-approve"). @default none */
    readonly autoApprove: readonly ('sev1' | 'sev2' | 'sev3' | 'sev4')[];
  };
  readonly webhook: {
    /** host:port `lifeboat webhook` listens on. @default '127.0.0.1:8787' */
    readonly listen: string;
    /** Bearer token every request must carry (`Authorization: Bearer …`). */
    readonly token?: SecretRef;
    /** HMAC-SHA256 key: `X-Lifeboat-Signature: sha256=<hex of the body>`. */
    readonly hmacSecret?: SecretRef;
    /** PagerDuty V3 webhook signing secret (`X-PagerDuty-Signature: v1=<hex>`). */
    readonly pagerdutySecret?: SecretRef;
    /** Temporal UI base URL for links in responses. */
    readonly uiUrl?: string;
    /** Severity when an alert names none. @default 'sev2' */
    readonly defaultSeverity: 'sev1' | 'sev2' | 'sev3' | 'sev4';
  };
}

export const NOTIFICATION_KINDS = ['webhook', 'slack', 'pagerduty'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
/** What a notification can be about; `<operation>.failed` fire on failure, `.succeeded` only with `onSuccess`. */
export const NOTIFICATION_EVENTS = [
  'backup.failed',
  'backup.succeeded',
  'verify.failed',
  'verify.succeeded',
  'restore.failed',
  'restore.succeeded',
  'drill.failed',
  'drill.succeeded',
  'prune.failed',
  'prune.succeeded',
  'dr.phase',
  'dr.failed',
  'dr.succeeded',
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

interface NotificationCommon {
  /** Shown in logs and metrics. @default the kind */
  readonly name: string;
  /** Events delivered here. @default every event */
  readonly events: readonly NotificationEvent[];
  /** Also deliver `*.succeeded` events. @default false */
  readonly onSuccess: boolean;
  /** Per attempt (3 attempts); a slow receiver is retried like a failing one. @default 10 s */
  readonly timeoutMs: number;
}

export type NotificationConfig =
  | (NotificationCommon & {
      readonly kind: 'webhook' | 'slack';
      /** The webhook URL (it carries its token), by reference. */
      readonly url: SecretRef;
      /** Extra non-secret headers (webhook only). */
      readonly headers?: Readonly<Record<string, string>>;
    })
  | (NotificationCommon & {
      readonly kind: 'pagerduty';
      /** Events API v2 integration (routing) key, by reference. */
      readonly routingKey: SecretRef;
      /** Override of https://events.pagerduty.com/v2/enqueue (tests, EU service region), by reference. */
      readonly url?: SecretRef;
    });

export interface ObservabilityConfig {
  /** Prometheus /metrics; `metrics: false` turns it off. @default { listen: '127.0.0.1:9464', temporalMetrics: true } */
  readonly metrics?: {
    readonly listen: string;
    /** Also export the Temporal SDK's worker metrics (temporal_*) on the same endpoint. @default true */
    readonly temporalMetrics: boolean;
  };
  /** OpenTelemetry traces over OTLP/HTTP; absent means tracing is off. */
  readonly tracing?: {
    /** Full traces URL (`/v1/traces` appended when only the collector's base URL is given). */
    readonly otlpEndpoint: string;
    /** @default 'lifeboat-worker' */
    readonly serviceName: string;
  };
  readonly notifications: readonly NotificationConfig[];
}

/** `reindex:` — rebuilding a Qdrant collection or FAISS index from Redis records (docs/operations.md). */
export interface ReindexConfig {
  /** SCAN pattern of the record hashes. @default '*' */
  readonly keys: string;
  /** Hash field with the text to embed. */
  readonly textField: string;
  /** Hash field with the record id: a whole number (FAISS: the label order) or a UUID (Qdrant). */
  readonly idField: string;
  /** Hash fields copied into the Qdrant payload. @default [] */
  readonly payloadFields: readonly string[];
  /** An OpenAI-compatible embedding API: POST {url}/embeddings (…/v1 added when the URL has no path). */
  readonly embedding: {
    readonly url: string;
    readonly model: string;
    readonly apiKey?: SecretRef;
    /** Per request. @default 60 s */
    readonly timeoutMs: number;
  };
  /** Records per embedding request. @default 64 */
  readonly batchSize: number;
  /** Embedding requests in flight at once. @default 2 */
  readonly concurrency: number;
  /** Embedding requests per second at most; 0 = no limit. @default 0 */
  readonly requestsPerSecond: number;
  /** Batches (of batchSize × concurrency records) per workflow run before continue-as-new. @default 50 */
  readonly batchesPerRun: number;
  /** Records searched in the new index before it goes live (each must find itself first). @default 5 */
  readonly probes: number;
}

export interface LifeboatConfig {
  /** Where the config came from (file path or '<inline>'), for messages. */
  readonly origin: string;
  /** @default 'dev' */
  readonly profile: Profile;
  readonly temporal: TemporalConfig;
  readonly repository: RepositoryConfig;
  readonly sources: readonly SourceConfig[];
  /** Effective global targets: `targets` over the profile's. */
  readonly targets: Targets;
  /** Effective global retention: `retention` over the profile's. */
  readonly retention: Retention;
  /** `retention.timezone` and `retention.safety`; absent in hand-built configs (then the defaults apply). */
  readonly retentionSettings?: RetentionSettings;
  readonly backup: BackupConfig;
  readonly schedules: SchedulesConfig;
  readonly worker: WorkerConfig;
  /** Restore drills: scratch targets and checks. */
  readonly drill: DrillConfig;
  readonly dr: DrConfig;
  /** Metrics, traces and notifications (docs/observability.md). */
  readonly observability: ObservabilityConfig;
  /** Cross-store consistency links (docs/consistency.md). @default { links: [] } */
  readonly consistency?: ConsistencyConfig;
  /** Rebuilding a vector store from Redis (`lifeboat reindex`); absent when not configured. */
  readonly reindex?: ReindexConfig;
  /** Things that are valid but probably not what you want (e.g. a backup interval longer than the RPO). */
  readonly warnings: readonly string[];
}

/** One problem found while validating; `path` is like `sources[1].type`. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
  /** The offending value, when it is not a secret. */
  readonly value?: unknown;
  /** 1-based line in the YAML file, when loaded from a file. */
  readonly line?: number;
}

/** How a Redis record's id is read (docs/consistency.md). */
export type ConsistencyRedisId =
  | { readonly from: 'key-suffix' }
  | { readonly from: 'hash-field'; readonly field: string }
  | { readonly from: 'json-field'; readonly field: string };

export interface ConsistencyRedisSide {
  /** A redis source's name. */
  readonly source: string;
  /** SCAN MATCH glob of the link's records, e.g. "chimera-vectors:*". */
  readonly pattern: string;
  /** The literal start of `pattern` (up to its first glob character): what key-suffix strips. */
  readonly prefix: string;
  readonly id: ConsistencyRedisId;
  /** @default the source's db when it names one, else 0 */
  readonly db: number;
}

export interface ConsistencyFaissSide {
  readonly source: string;
  /** For a directory source: the index file, relative to it. */
  readonly file?: string;
  /** `positions`: the n-th vector has id n. `idmap`: the ids an IndexIDMap (or IVF lists) stores. */
  readonly ids: 'positions' | 'idmap';
}

export interface ConsistencyQdrantSide {
  readonly source: string;
  /** @default the source's only collection */
  readonly collection: string;
  /** Point ids, or a payload field holding the id. */
  readonly id: { readonly from: 'point-id' } | { readonly from: 'payload-field'; readonly field: string };
  /** Named vector to check. @default the unnamed vector (or the only named one) */
  readonly vector?: string;
}

/** One named link: the stores that describe the same things, with their ids. */
export interface ConsistencyLinkConfig {
  readonly name: string;
  readonly redis?: ConsistencyRedisSide;
  readonly faiss?: ConsistencyFaissSide;
  readonly qdrant?: ConsistencyQdrantSide;
  /** Expected vector dimension of FAISS and Qdrant. @default not checked against a number (only FAISS vs Qdrant) */
  readonly dimension?: number;
  /** Sampled FAISS-vs-Qdrant vector comparison (needs both). @default off */
  readonly compare?: { readonly sample: number; readonly tolerance: number };
  /** Examples kept per finding. @default 10 */
  readonly examples: number;
}

export interface ConsistencyConfig {
  readonly links: readonly ConsistencyLinkConfig[];
}
