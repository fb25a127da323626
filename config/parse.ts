import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  absPath,
  at,
  bool,
  choice,
  Checker,
  hostPort,
  int,
  isAbsent,
  mapping,
  redactUrl,
  secret,
  str,
  url,
} from './check';
import { ConfigError } from './errors';
import { checkRetentionKeepsSomething, parsePartialRetention, parsePartialTargets } from './parse-objectives';
import { parseDr } from './parse-dr';
import { parseReindex } from './parse-reindex';
import { parseObservability } from './parse-observability';
import { parseRetentionSettings } from './parse-retention';
import { parseSchedules } from './parse-schedules';
import { parseDrill } from './parse-drill';
import { parseSources } from './parse-sources';
import { parsePayloadEncryption } from './parse-payload-encryption';
import { parseConsistency } from './parse-consistency';
import { parseObjectLock } from './parse-object-lock';
import { PRESETS } from './presets';
import {
  PROFILES,
  SSE_MODES,
  VERIFY_LEVELS,
  type BackupConfig,
  type LifeboatConfig,
  type RepositoryConfig,
  type S3Options,
  type TemporalConfig,
  type TemporalTlsConfig,
  type WorkerConfig,
} from './types';

const TOP_KEYS = [
  'profile',
  'temporal',
  'repository',
  'sources',
  'targets',
  'retention',
  'backup',
  'schedules',
  'worker',
  'drill',
  'dr',
  'observability',
  'consistency',
  'reindex',
] as const;

/** Default Temporal connection: the local dev server. */
export const TEMPORAL_DEFAULTS = { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'lifeboat' } as const;
export const BACKUP_DEFAULTS: BackupConfig = { parallelism: 2, verify: 'structure' };
export const WORKER_DEFAULTS = { maxConcurrentActivities: 4, maxConcurrentWorkflows: 20 } as const;
/** @returns os.tmpdir()/lifeboat, evaluated when parsing (TMPDIR may change between runs). */
export const defaultScratchDir = (): string => path.join(os.tmpdir(), 'lifeboat');

function parseTemporal(c: Checker, raw: unknown): TemporalConfig {
  const p = 'temporal';
  const out: { -readonly [K in keyof TemporalConfig]: TemporalConfig[K] } = { ...TEMPORAL_DEFAULTS };
  if (isAbsent(raw)) return out;
  const o = mapping(c, raw, p, ['address', 'namespace', 'taskQueue', 'tls', 'apiKey', 'payloadEncryption'], {
    example: '{ address: "127.0.0.1:7233" }',
  });
  if (!o) return out;
  if (hostPort(c, o.address, at(p, 'address'), '127.0.0.1:7233 or temporal.example.com:7233'))
    out.address = String(o.address).trim();
  out.namespace = str(c, o.namespace, at(p, 'namespace')) ?? out.namespace;
  out.taskQueue = str(c, o.taskQueue, at(p, 'taskQueue')) ?? out.taskQueue;
  if (o.tls === true) out.tls = {};
  else if (o.tls !== false && !isAbsent(o.tls)) {
    const tp = at(p, 'tls');
    const t = mapping(c, o.tls, tp, ['serverName', 'caFile', 'certFile', 'keyFile'], {
      example: 'true or { caFile: /etc/lifeboat/ca.pem }',
    });
    if (t) {
      const tls: { -readonly [K in keyof TemporalTlsConfig]: TemporalTlsConfig[K] } = {};
      const serverName = str(c, t.serverName, at(tp, 'serverName'));
      if (serverName !== undefined) tls.serverName = serverName;
      for (const k of ['caFile', 'certFile', 'keyFile'] as const) {
        const f = absPath(
          c,
          t[k],
          at(tp, k),
          `/etc/lifeboat/${k === 'caFile' ? 'ca.pem' : k === 'certFile' ? 'client.pem' : 'client.key'}`,
        );
        if (f !== undefined) tls[k] = f;
      }
      if (isAbsent(t.certFile) !== isAbsent(t.keyFile))
        c.add(
          tp,
          `gives ${isAbsent(t.certFile) ? 'keyFile without certFile' : 'certFile without keyFile'}; a client certificate (mTLS) needs both`,
        );
      out.tls = tls;
    }
  }
  const apiKey = secret(c, o.apiKey, at(p, 'apiKey'), 'TEMPORAL_API_KEY');
  if (apiKey) out.apiKey = apiKey;
  const pe = parsePayloadEncryption(c, o.payloadEncryption, at(p, 'payloadEncryption'));
  if (pe) out.payloadEncryption = pe;
  return out;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REPO_EXAMPLE = 's3://my-bucket/lifeboat, /var/lib/lifeboat/repo or file:///var/lib/lifeboat/repo';

type Location = { kind: 'local'; path: string } | { kind: 's3'; bucket: string; prefix: string };

function parseRepositoryUrl(c: Checker, v: unknown, p: string): { url: string; location: Location } | undefined {
  if (isAbsent(v)) {
    c.add(p, `is required; where backups go: ${REPO_EXAMPLE}`);
    return undefined;
  }
  const s = str(c, v, p, { hint: `e.g. ${REPO_EXAMPLE}` });
  if (s === undefined) return undefined;
  const shown = redactUrl(s);
  if (s.startsWith('s3://')) {
    // Parsed by hand: WHATWG URL would lowercase the bucket and hide a typo.
    const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(s)!;
    if (m[1].includes('@')) {
      c.add(
        p,
        'contains credentials; remove them from the URL and write repository.s3.accessKeyId / secretAccessKey as { env: NAME } references (or rely on the AWS credential chain)',
        shown,
      );
      return undefined;
    }
    if (!BUCKET.test(m[1])) {
      c.add(
        p,
        `"${m[1]}" is not an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens); e.g. s3://my-bucket/lifeboat`,
        s,
      );
      return undefined;
    }
    return {
      url: s,
      location: { kind: 's3', bucket: m[1], prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '').replace(/\/{2,}/g, '/') },
    };
  }
  if (s.startsWith('file:')) {
    if (!s.startsWith('file:///')) {
      c.add(
        p,
        `"${s}" is not an absolute file URL; write file:///absolute/path (three slashes) or just the absolute path`,
        s,
      );
      return undefined;
    }
    try {
      return { url: s, location: { kind: 'local', path: path.normalize(fileURLToPath(s)) } };
    } catch (e) {
      c.add(p, `"${s}" is not a valid file URL (${(e as Error).message}); write the absolute path instead`, s);
      return undefined;
    }
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(s);
  if (scheme) {
    c.add(p, `"${scheme[1]}://" repositories are not supported; use ${REPO_EXAMPLE}`, shown);
    return undefined;
  }
  if (!path.isAbsolute(s)) {
    c.add(
      p,
      `"${s}" is a relative path; give an absolute path (the worker's working directory is not stable), e.g. /var/lib/lifeboat/repo`,
      s,
    );
    return undefined;
  }
  return { url: s, location: { kind: 'local', path: path.normalize(s) } };
}

function parseS3(c: Checker, raw: unknown, p: string): S3Options | undefined {
  const out: { -readonly [K in keyof S3Options]: S3Options[K] } = { region: 'us-east-1', forcePathStyle: false };
  if (isAbsent(raw)) return out;
  const keys = ['endpoint', 'region', 'forcePathStyle', 'sse', 'kmsKeyId', 'accessKeyId', 'secretAccessKey'];
  const o = mapping(c, raw, p, keys, { example: '{ endpoint: "http://127.0.0.1:9000", forcePathStyle: true }' });
  if (!o) return undefined;
  const before = c.problems.length;
  const endpoint = url(
    c,
    o.endpoint,
    at(p, 'endpoint'),
    ['http', 'https'],
    'write accessKeyId / secretAccessKey as { env: NAME } references',
    'http://127.0.0.1:9000',
  );
  if (endpoint) out.endpoint = String(o.endpoint).trim().replace(/\/+$/, '');
  out.region =
    str(c, o.region, at(p, 'region'), { pattern: /^[a-z0-9-]+$/, hint: 'an S3 region such as us-east-1' }) ??
    out.region;
  out.forcePathStyle = bool(c, o.forcePathStyle, at(p, 'forcePathStyle')) ?? false;
  const sse = choice(c, o.sse, at(p, 'sse'), SSE_MODES, 'an S3 server-side encryption mode');
  if (sse) out.sse = sse;
  const kmsKeyId = str(c, o.kmsKeyId, at(p, 'kmsKeyId'));
  if (kmsKeyId !== undefined && !isAbsent(o.sse) && o.sse !== 'aws:kms')
    c.add(
      at(p, 'kmsKeyId'),
      `applies only with sse: aws:kms (sse is ${JSON.stringify(o.sse)}); remove kmsKeyId or set sse: aws:kms`,
    );
  else if (kmsKeyId !== undefined && isAbsent(o.sse))
    c.add(at(p, 'kmsKeyId'), 'applies only with sse: aws:kms; add sse: aws:kms or remove kmsKeyId');
  if (o.sse === 'aws:kms' && isAbsent(o.kmsKeyId))
    c.add(at(p, 'kmsKeyId'), 'is required when sse is aws:kms; give the KMS key id or ARN');
  if (kmsKeyId !== undefined) out.kmsKeyId = kmsKeyId;
  const accessKeyId = secret(c, o.accessKeyId, at(p, 'accessKeyId'), 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = secret(c, o.secretAccessKey, at(p, 'secretAccessKey'), 'AWS_SECRET_ACCESS_KEY');
  if (isAbsent(o.accessKeyId) !== isAbsent(o.secretAccessKey))
    c.add(
      p,
      'gives only one of accessKeyId and secretAccessKey; give both, or neither to use the AWS credential chain',
    );
  if (accessKeyId) out.accessKeyId = accessKeyId;
  if (secretAccessKey) out.secretAccessKey = secretAccessKey;
  return c.problems.length > before ? undefined : out;
}

function parseRepository(c: Checker, raw: unknown): RepositoryConfig | undefined {
  const p = 'repository';
  if (isAbsent(raw)) {
    c.add(
      p,
      'is required; e.g. repository: { url: /var/lib/lifeboat/repo, password: { env: LIFEBOAT_REPO_PASSWORD } }',
    );
    return undefined;
  }
  const o = mapping(c, raw, p, ['url', 'password', 's3', 'objectLock'], {
    example: '{ url: /var/lib/lifeboat/repo, password: { env: LIFEBOAT_REPO_PASSWORD } }',
  });
  if (!o) return undefined;
  const where = parseRepositoryUrl(c, o.url, at(p, 'url'));
  if (isAbsent(o.password))
    c.add(
      at(p, 'password'),
      'is required (it encrypts the backups); write password: { env: LIFEBOAT_REPO_PASSWORD } or password: { file: /etc/lifeboat/repo.password }',
    );
  const password = secret(c, o.password, at(p, 'password'), 'LIFEBOAT_REPO_PASSWORD');
  if (where?.location.kind === 'local' && !isAbsent(o.s3)) {
    c.add(at(p, 's3'), 'applies only to s3:// repositories; remove it, or use url: s3://bucket/prefix');
    return undefined;
  }
  if (where?.location.kind === 'local' && !isAbsent(o.objectLock)) {
    c.add(
      at(p, 'objectLock'),
      'applies only to s3:// repositories (S3 Object Lock); make a local repository append-only with file permissions instead (docs/security.md, "Immutable backups")',
    );
    return undefined;
  }
  const s3 = where?.location.kind === 's3' ? parseS3(c, o.s3, at(p, 's3')) : undefined;
  const objectLock = parseObjectLock(c, o.objectLock, at(p, 'objectLock'));
  if (!where || !password) return undefined;
  if (where.location.kind === 'local') return { kind: 'local', url: where.url, path: where.location.path, password };
  if (!s3 || (!isAbsent(o.objectLock) && !objectLock)) return undefined;
  return {
    kind: 's3',
    url: where.url,
    bucket: where.location.bucket,
    prefix: where.location.prefix,
    password,
    s3,
    ...(objectLock ? { objectLock } : {}),
  };
}

function parseBackup(c: Checker, raw: unknown): BackupConfig {
  if (isAbsent(raw)) return BACKUP_DEFAULTS;
  const o = mapping(c, raw, 'backup', ['parallelism', 'verify'], { example: '{ parallelism: 2, verify: structure }' });
  if (!o) return BACKUP_DEFAULTS;
  return {
    parallelism: int(c, o.parallelism, 'backup.parallelism', 1, 64) ?? BACKUP_DEFAULTS.parallelism,
    verify: choice(c, o.verify, 'backup.verify', VERIFY_LEVELS, 'a verification level') ?? BACKUP_DEFAULTS.verify,
  };
}

function parseWorker(c: Checker, raw: unknown): WorkerConfig {
  const out = { ...WORKER_DEFAULTS, scratchDir: defaultScratchDir() };
  if (isAbsent(raw)) return out;
  const o = mapping(c, raw, 'worker', ['maxConcurrentActivities', 'maxConcurrentWorkflows', 'scratchDir'], {
    example: '{ maxConcurrentActivities: 4 }',
  });
  if (!o) return out;
  return {
    maxConcurrentActivities:
      int(c, o.maxConcurrentActivities, 'worker.maxConcurrentActivities', 1, 1000) ?? out.maxConcurrentActivities,
    maxConcurrentWorkflows:
      int(c, o.maxConcurrentWorkflows, 'worker.maxConcurrentWorkflows', 1, 10_000) ?? out.maxConcurrentWorkflows,
    scratchDir: absPath(c, o.scratchDir, 'worker.scratchDir', '/var/lib/lifeboat/tmp') ?? out.scratchDir,
  };
}

/** Names written in `sources:`, even of sources with other problems, so schedules are not blamed for those. */
function declaredSourceNames(raw: unknown): string[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  const names = raw.flatMap((s) =>
    typeof s === 'object' && s !== null && typeof (s as { name?: unknown }).name === 'string'
      ? [(s as { name: string }).name.trim()]
      : [],
  );
  return [...new Set(names)];
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/**
 * Validates a config object (as read from YAML) and returns it with defaults
 * applied and presets merged, deeply frozen. Every problem in the input is
 * collected first, so one run reports them all.
 * @param origin Where `raw` came from, for messages. @default '<inline>'
 * @throws ConfigError listing every problem with its path, the value (unless
 * a secret) and how to fix it.
 */
export function parseConfig(raw: unknown, origin = '<inline>'): LifeboatConfig {
  const c = new Checker();
  if (isAbsent(raw)) {
    c.add(
      '(top level)',
      'the config is empty; start from lifeboat.example.yaml (a repository and at least one source are required)',
    );
    throw new ConfigError(c.problems, origin);
  }
  const o = mapping(c, raw, '', TOP_KEYS, { example: 'the layout of lifeboat.example.yaml' });
  if (!o) throw new ConfigError(c.problems, origin);

  const profile = choice(c, o.profile, 'profile', PROFILES, 'a profile') ?? 'dev';
  const preset = PRESETS[profile];
  const targets = { ...preset.targets, ...parsePartialTargets(c, o.targets, 'targets') };
  const retention = { ...preset.retention, ...parsePartialRetention(c, o.retention, 'retention', true) };
  const retentionSettings = parseRetentionSettings(c, o.retention);
  if (!isAbsent(o.retention)) checkRetentionKeepsSomething(c, retention, 'retention');
  const temporal = parseTemporal(c, o.temporal);
  const repository = parseRepository(c, o.repository);
  const sources = parseSources(c, o.sources, { targets, retention });
  const schedules = parseSchedules(c, o.schedules, declaredSourceNames(o.sources), sources);
  const backup = parseBackup(c, o.backup);
  const worker = parseWorker(c, o.worker);
  const drill = parseDrill(c, o.drill, sources);
  const dr = parseDr(c, o.dr);
  const observability = parseObservability(c, o.observability);
  const consistency = parseConsistency(c, o.consistency, sources, declaredSourceNames(o.sources));
  const reindex = parseReindex(c, o.reindex);

  if (c.problems.length || !repository || !sources) throw new ConfigError(c.problems, origin);
  return deepFreeze({
    origin,
    profile,
    temporal,
    repository,
    sources,
    targets,
    retention,
    retentionSettings,
    backup,
    schedules,
    worker,
    drill,
    dr,
    observability,
    consistency,
    ...(reindex ? { reindex } : {}),
    warnings: c.warnings,
  });
}
