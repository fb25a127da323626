import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, parseConfig, type ConfigProblem, type LifeboatConfig } from '../../config';
import { fullRawConfig, minimalRawConfig } from './fixtures';

const HOUR = 3_600_000;
const MIN = 60_000;

/** Parses `raw`, expecting a ConfigError; returns it. */
function rejects(raw: unknown): ConfigError {
  try {
    parseConfig(raw, 'test.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    assert.equal(e.code, 'CONFIG_INVALID');
    return e;
  }
  assert.fail('parseConfig accepted an invalid config');
}

function problemAt(e: ConfigError, p: string): ConfigProblem {
  const found = e.problems.find((x) => x.path === p);
  assert.ok(found, `no problem at ${p}; problems:\n${e.message}`);
  return found;
}

function withChange(change: (raw: Record<string, any>) => void): Record<string, any> {
  const raw = fullRawConfig();
  change(raw);
  return raw;
}

describe('parseConfig: a valid config', () => {
  test('full example: every field read, durations in ms, sizes in bytes, defaults filled in', () => {
    const c = parseConfig(fullRawConfig(), 'full.yaml');
    assert.equal(c.origin, 'full.yaml');
    assert.equal(c.profile, 'prod');
    assert.deepEqual(c.temporal, {
      address: 'temporal.example.com:7233',
      namespace: 'lifeboat',
      taskQueue: 'lb',
      tls: {
        serverName: 'temporal.example.com',
        caFile: '/etc/lifeboat/ca.pem',
        certFile: '/etc/lifeboat/client.pem',
        keyFile: '/etc/lifeboat/client.key',
      },
      apiKey: { env: 'TEMPORAL_API_KEY' },
    });
    assert.deepEqual(c.repository, {
      kind: 's3',
      url: 's3://my-bucket/lifeboat/prod/',
      bucket: 'my-bucket',
      prefix: 'lifeboat/prod',
      password: { env: 'LIFEBOAT_REPO_PASSWORD' },
      s3: {
        endpoint: 'http://127.0.0.1:9000',
        region: 'us-east-1',
        forcePathStyle: true,
        sse: 'aws:kms',
        kmsKeyId: 'key-123',
      },
    });
    const [sessions, features, embeddings, docs] = c.sources;
    assert.deepEqual(
      { ...sessions, targets: undefined, retention: undefined },
      {
        name: 'sessions',
        type: 'redis',
        url: 'redis://10.0.0.5:6379',
        password: { env: 'REDIS_PASSWORD' },
        username: 'default',
        db: 3,
        pattern: 'session:*',
        tls: false,
        restoreOrder: 10,
        targets: undefined,
        retention: undefined,
      },
    );
    assert.equal(features.type, 'redis');
    if (features.type !== 'redis') return;
    assert.deepEqual(features.cluster, [
      { host: '10.0.0.5', port: 7000 },
      { host: '10.0.0.6', port: 7000 },
    ]);
    assert.equal(features.url, undefined);
    assert.equal(features.db, 0, 'a cluster has only db 0');
    assert.equal(features.tls, true);
    assert.equal(embeddings.type, 'faiss');
    if (embeddings.type !== 'faiss') return;
    assert.deepEqual(embeddings.probe, { maxBytes: 500_000_000, queries: 4, k: 5 });
    assert.equal(embeddings.restoreOrder, 20);
    assert.equal(docs.type, 'qdrant');
    if (docs.type !== 'qdrant') return;
    assert.deepEqual(docs.collections, ['docs', 'faq']);
    assert.equal(docs.mode, 'points');
    assert.equal(docs.url, 'http://qdrant:6333');
    assert.equal(docs.restoreOrder, 20);
    assert.deepEqual(c.backup, { parallelism: 3, verify: 'read-data' });
    assert.deepEqual(c.schedules, {
      catchupWindow: 5 * MIN,
      backup: { every: HOUR, paused: false, timezone: 'UTC' },
      verify: { cron: '30 3 * * *', paused: false, timezone: 'UTC', readData: true, subsetPercent: 10 },
      drill: { cron: '0 4 * * SUN', paused: false, timezone: 'UTC', sources: ['sessions', 'docs'] },
      prune: { cron: '0 5 * * *', paused: true, timezone: 'Europe/Paris' },
    });
    assert.deepEqual(c.worker, {
      maxConcurrentActivities: 8,
      maxConcurrentWorkflows: 50,
      scratchDir: '/var/lib/lifeboat/tmp',
    });
    assert.deepEqual(c.warnings, [
      'schedules.backup.every is 1h, longer than the RPO target of source sessions (15m): backups this rare cannot meet it',
    ]);
  });

  test('minimal config: every default applied (dev profile, local Temporal, worker settings)', () => {
    const c = parseConfig(minimalRawConfig());
    assert.equal(c.origin, '<inline>');
    assert.equal(c.profile, 'dev');
    assert.deepEqual(c.temporal, { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'lifeboat' });
    assert.deepEqual(c.repository, {
      kind: 'local',
      url: '/var/lib/lifeboat/repo',
      path: '/var/lib/lifeboat/repo',
      password: { env: 'LIFEBOAT_REPO_PASSWORD' },
    });
    assert.deepEqual(c.sources[0], {
      name: 'cache',
      type: 'redis',
      url: 'redis://127.0.0.1:6379',
      db: 'all',
      pattern: '*',
      tls: false,
      restoreOrder: 10,
      targets: { rpo: 24 * HOUR, rto: 2 * HOUR },
      retention: { keepLast: 3, keepHourly: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0 },
    });
    assert.deepEqual(c.backup, { parallelism: 2, verify: 'structure' });
    assert.deepEqual(c.schedules, { catchupWindow: 10 * MIN });
    assert.deepEqual(c.worker, {
      maxConcurrentActivities: 4,
      maxConcurrentWorkflows: 20,
      scratchDir: path.join(os.tmpdir(), 'lifeboat'),
    });
    assert.deepEqual(c.warnings, []);
  });

  test('the result is deeply frozen, and the input is left as it was', () => {
    const raw = fullRawConfig();
    const before = structuredClone(raw);
    const c: LifeboatConfig = parseConfig(raw);
    assert.deepEqual(raw, before);
    assert.ok(
      Object.isFrozen(c) &&
        Object.isFrozen(c.sources) &&
        Object.isFrozen(c.sources[0]) &&
        Object.isFrozen(c.sources[0].targets),
    );
    assert.throws(() => {
      (c.backup as { parallelism: number }).parallelism = 99;
    }, TypeError);
    assert.equal(c.backup.parallelism, 3);
  });

  test('a bad config does not touch its input either', () => {
    const raw = withChange((r) => (r.sources[0].type = 'mysql'));
    const before = structuredClone(raw);
    rejects(raw);
    assert.deepEqual(raw, before);
  });

  test('repository URL forms: absolute path, file:///, s3:// with and without prefix', () => {
    const repo = (url: string) =>
      parseConfig({ ...minimalRawConfig(), repository: { url, password: { env: 'P' } } }).repository;
    assert.deepEqual(repo('/srv/backups/../repo'), {
      kind: 'local',
      url: '/srv/backups/../repo',
      path: '/srv/repo',
      password: { env: 'P' },
    });
    const fileUrl = repo('file:///srv/lifeboat%20repo');
    assert.ok(fileUrl.kind === 'local');
    assert.equal(fileUrl.path, '/srv/lifeboat repo');
    const s3 = repo('s3://bucket-1');
    assert.ok(s3.kind === 's3');
    assert.equal(s3.bucket, 'bucket-1');
    assert.equal(s3.prefix, '');
    assert.deepEqual(s3.s3, { region: 'us-east-1', forcePathStyle: false });
  });

  test('rediss:// turns TLS on; qdrant single collection and alias', () => {
    const c = parseConfig({
      ...minimalRawConfig(),
      sources: [
        { name: 'r', type: 'redis', url: 'rediss://cache.example.com:6380' },
        { name: 'q', type: 'qdrant', url: 'https://q.example.com/', collection: 'docs', alias: 'docs-live' },
      ],
    });
    assert.ok(c.sources[0].type === 'redis' && c.sources[0].tls === true);
    const q = c.sources[1];
    assert.ok(q.type === 'qdrant');
    assert.deepEqual(
      [q.url, q.collections, q.alias, q.mode],
      ['https://q.example.com', ['docs'], 'docs-live', 'snapshot'],
    );
  });

  test('temporal tls: true means TLS with system CAs; YAML nulls count as absent', () => {
    const c = parseConfig({
      ...minimalRawConfig(),
      temporal: { tls: true, namespace: null },
      schedules: null,
      worker: null,
    });
    assert.deepEqual(c.temporal, { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'lifeboat', tls: {} });
  });
});

describe('parseConfig: problems', () => {
  test("a bad source name does not hide the same source's other problems (all five reported)", () => {
    const e = rejects({
      repository: { url: '/var/lib/lifeboat/repo', password: { env: 'PW' } },
      sources: [
        { name: 'Bad Name', type: 'redis', url: 'http://x', db: 99 },
        { name: 'v', type: 'faiss', path: 'relative/path' },
        { name: 'q', type: 'qdrant', url: 'nope', collections: ['c'] },
      ],
    });
    assert.deepEqual(
      e.problems.map((p) => p.path),
      ['sources[0].name', 'sources[0].url', 'sources[0].db', 'sources[1].path', 'sources[2].url'],
      e.message,
    );
  });

  test('many bad fields at once: one ConfigError listing each with its path, the value and the fix', () => {
    const raw = withChange((r) => {
      r.profile = 'production';
      r.temporal.address = 'http://temporal:7233';
      r.sources[1].type = 'mysql';
      r.sources[2].path = 'data/index.faiss';
      r.backup.verify = 'full';
      r.backup.parallelism = 0;
      r.worker.maxConcurrentActivities = 'four';
    });
    const e = rejects(raw);
    assert.equal(e.problems.length, 7, e.message);
    assert.equal(e.origin, 'test.yaml');
    assert.match(e.message, /^Lifeboat config test\.yaml has 7 problems:/);
    assert.ok(
      e.message.includes('- sources[1].type: "mysql" is not a source type; use one of redis, faiss, qdrant'),
      e.message,
    );
    assert.deepEqual(problemAt(e, 'sources[1].type').value, 'mysql');
    assert.match(problemAt(e, 'profile').message, /"production" is not a profile; .*use one of dev, staging, prod/);
    assert.match(problemAt(e, 'temporal.address').message, /not host:port .*127\.0\.0\.1:7233/);
    assert.match(problemAt(e, 'sources[2].path').message, /relative path; give an absolute path/);
    assert.match(problemAt(e, 'backup.verify').message, /use one of none, structure, read-data/);
    assert.match(problemAt(e, 'backup.parallelism').message, /whole number from 1 to 64/);
    assert.match(problemAt(e, 'worker.maxConcurrentActivities').message, /whole number from 1 to 1000/);
  });

  test('unknown keys are problems, with the closest known key suggested', () => {
    const e = rejects(
      withChange((r) => {
        r.temporal.namepsace = 'x';
        r.sources[0].pattrn = '*';
        r.schedules.backup.evry = '1h';
        r.retentoin = { keepLast: 1 };
        r.completelyUnrelated = true;
      }),
    );
    assert.equal(problemAt(e, 'temporal.namepsace').message, "unknown option; did you mean 'namespace'?");
    assert.equal(problemAt(e, 'sources[0].pattrn').message, "unknown option; did you mean 'pattern'?");
    assert.equal(problemAt(e, 'schedules.backup.evry').message, "unknown option; did you mean 'every'?");
    assert.equal(problemAt(e, 'retentoin').message, "unknown option; did you mean 'retention'?");
    assert.match(
      problemAt(e, 'completelyUnrelated').message,
      /unknown option; valid options here are profile, temporal, repository, sources/,
    );
  });

  test('an option of another source type says where it belongs', () => {
    const e = rejects(withChange((r) => (r.sources[0].collection = 'docs')));
    assert.match(
      problemAt(e, 'sources[0].collection').message,
      /'collection' is an option of qdrant sources, and this source is type redis/,
    );
  });

  test('a literal password is rejected with the fix, and never repeated', () => {
    const e = rejects(
      withChange((r) => {
        r.repository.password = 'hunter2-very-secret';
        r.sources[0].password = 12345678;
        r.temporal.apiKey = { env: 'not a name: s3cr3t-value' };
      }),
    );
    const p = problemAt(e, 'repository.password');
    assert.ok(
      p.message.includes(
        'put it in an environment variable or a file and write `password: { env: LIFEBOAT_REPO_PASSWORD }`',
      ),
      p.message,
    );
    assert.equal(p.value, undefined);
    assert.match(problemAt(e, 'sources[0].password').message, /literal secret/);
    assert.match(problemAt(e, 'temporal.apiKey.env').message, /not an environment variable name/);
    for (const secret of ['hunter2-very-secret', '12345678', 's3cr3t-value']) {
      assert.ok(!e.message.includes(secret), `the error repeats the secret ${secret}`);
      assert.ok(!JSON.stringify(e.problems).includes(secret), `a problem carries the secret ${secret}`);
    }
  });

  test('secret references: exactly one of env and file, file absolute', () => {
    const e = rejects(
      withChange((r) => {
        r.repository.password = { env: 'A', file: '/x' };
        r.temporal.apiKey = {};
        r.repository.s3.accessKeyId = { file: 'codec.key' };
      }),
    );
    assert.match(problemAt(e, 'repository.password').message, /gives both env and file; write exactly one/);
    assert.match(problemAt(e, 'temporal.apiKey').message, /gives neither env nor file/);
    assert.match(problemAt(e, 'repository.s3.accessKeyId.file').message, /"codec\.key" is a relative path/);
  });

  test('a password inside a redis URL is rejected, redacted, with the fix', () => {
    const e = rejects(withChange((r) => (r.sources[0].url = 'redis://:topsecretpw@10.0.0.5:6379')));
    const p = problemAt(e, 'sources[0].url');
    assert.equal(
      p.message,
      'contains a password; remove it from the URL and write password: { env: SESSIONS_REDIS_PASSWORD }',
    );
    assert.equal(p.value, 'redis://:***@10.0.0.5:6379');
    assert.ok(!e.message.includes('topsecretpw') && !JSON.stringify(e.problems).includes('topsecretpw'));
  });

  test('credentials in qdrant and repository URLs are rejected too', () => {
    const e = rejects(
      withChange((r) => {
        r.sources[3].url = 'http://admin:qpass@qdrant:6333';
        r.repository.url = 's3://AKIA:s3pass@my-bucket/x';
      }),
    );
    assert.match(
      problemAt(e, 'sources[3].url').message,
      /contains a password; .*apiKey: \{ env: DOCS_QDRANT_API_KEY \}/,
    );
    assert.match(problemAt(e, 'repository.url').message, /contains credentials/);
    assert.ok(!e.message.includes('qpass') && !e.message.includes('s3pass'), e.message);
  });

  test('redis URL: db and user belong in their own fields; url XOR cluster', () => {
    const e = rejects({
      ...minimalRawConfig(),
      sources: [
        { name: 'a', type: 'redis', url: 'redis://10.0.0.5:6379/2' },
        { name: 'b', type: 'redis', url: 'redis://app@10.0.0.5:6379' },
        { name: 'c', type: 'redis', url: 'redis://h:6379', cluster: ['h:7000'] },
        { name: 'd', type: 'redis' },
        { name: 'e', type: 'redis', cluster: ['h:7000', 'h:7000', 'nope'], db: 5 },
        { name: 'f', type: 'redis', url: 'http://h:6379' },
        { name: 'g', type: 'redis', url: 'rediss://h:6379', tls: false, db: 16 },
      ],
    });
    assert.match(problemAt(e, 'sources[0].url').message, /remove \/2 from the URL and write db: 2/);
    assert.match(problemAt(e, 'sources[1].url').message, /user name; .*write username: app/);
    assert.match(problemAt(e, 'sources[2]').message, /gives both url and cluster/);
    assert.match(problemAt(e, 'sources[3].url').message, /is required for a redis source/);
    assert.match(problemAt(e, 'sources[4].cluster[1]').message, /listed twice/);
    assert.match(problemAt(e, 'sources[4].cluster[2]').message, /"nope" is not host:port/);
    assert.match(problemAt(e, 'sources[4].db').message, /Redis Cluster has only db 0/);
    assert.match(
      problemAt(e, 'sources[5].url').message,
      /"http:\/\/" is not supported here; use redis:\/\/ or rediss:\/\//,
    );
    assert.match(problemAt(e, 'sources[6].tls').message, /rediss:\/\/ \(always TLS\)/);
    assert.match(problemAt(e, 'sources[6].db').message, /from 0 to 15/);
  });

  test('S3 cross-field rules: kmsKeyId only with aws:kms, s3 block only for s3:// URLs, keys in pairs', () => {
    let e = rejects(withChange((r) => (r.repository.s3 = { sse: 'AES256', kmsKeyId: 'k' })));
    assert.match(problemAt(e, 'repository.s3.kmsKeyId').message, /applies only with sse: aws:kms/);
    e = rejects(withChange((r) => (r.repository.s3 = { sse: 'aws:kms' })));
    assert.match(problemAt(e, 'repository.s3.kmsKeyId').message, /is required when sse is aws:kms/);
    e = rejects(withChange((r) => (r.repository.url = '/var/lib/lifeboat/repo')));
    assert.match(problemAt(e, 'repository.s3').message, /applies only to s3:\/\/ repositories/);
    e = rejects(withChange((r) => (r.repository.s3 = { accessKeyId: { env: 'AWS_ACCESS_KEY_ID' }, sse: 'aes256' })));
    assert.match(problemAt(e, 'repository.s3').message, /only one of accessKeyId and secretAccessKey/);
    assert.match(problemAt(e, 'repository.s3.sse').message, /"aes256" is not .*did you mean "AES256"\?/);
  });

  test('repository URL problems: missing, relative, unsupported scheme, bad bucket, relative file URL', () => {
    const bad = (url: unknown) =>
      problemAt(rejects({ ...minimalRawConfig(), repository: { url, password: { env: 'P' } } }), 'repository.url')
        .message;
    assert.match(bad(undefined), /is required; where backups go/);
    assert.match(bad('backups'), /"backups" is a relative path/);
    assert.match(bad('gs://bucket/x'), /"gs:\/\/" repositories are not supported/);
    assert.match(bad('s3://My_Bucket/x'), /"My_Bucket" is not an S3 bucket name/);
    assert.match(bad('file://relative/path'), /not an absolute file URL; write file:\/\/\/absolute\/path/);
    const e = rejects({ ...minimalRawConfig(), repository: { url: '/r' } });
    assert.match(
      problemAt(e, 'repository.password').message,
      /is required .*password: \{ env: LIFEBOAT_REPO_PASSWORD \}/,
    );
  });

  test('sources: required, unique valid names, type required, type-specific requirements', () => {
    assert.match(
      problemAt(rejects({ repository: minimalRawConfig().repository }), 'sources').message,
      /list at least one source/,
    );
    assert.match(problemAt(rejects({ ...minimalRawConfig(), sources: 'cache' }), 'sources').message, /must be a list/);
    const e = rejects({
      ...minimalRawConfig(),
      sources: [
        { name: 'Docs_1', type: 'qdrant', url: 'http://q:6333', collection: 'a' },
        { name: 'x', type: 'faiss', path: '/i.faiss' },
        { name: 'x', type: 'faiss', path: '/j.faiss' },
        { name: 'y' },
        { type: 'faiss', path: '/k.faiss' },
        { name: 'z', type: 'qdrant', url: 'http://q:6333' },
        { name: 'w', type: 'qdrant', url: 'http://q:6333', collections: ['a', 'b', 'a'], alias: 'al' },
        { name: 'v', type: 'faiss', probe: { maxBytes: '2G' } },
      ],
    });
    assert.match(problemAt(e, 'sources[0].name').message, /"Docs_1" is not valid; use lowercase letters, digits and -/);
    assert.match(
      problemAt(e, 'sources[2].name').message,
      /"x" is already the name of sources\[1\]; source names must be unique/,
    );
    assert.match(problemAt(e, 'sources[3].type').message, /is required; use one of redis, faiss, qdrant/);
    assert.match(problemAt(e, 'sources[4].name').message, /is required/);
    assert.match(problemAt(e, 'sources[5].collection').message, /is required for a qdrant source/);
    assert.match(problemAt(e, 'sources[6].collections[2]').message, /"a" is listed twice/);
    assert.match(problemAt(e, 'sources[6].alias').message, /single collection only/);
    assert.match(problemAt(e, 'sources[7].path').message, /is required for a faiss source/);
    assert.match(problemAt(e, 'sources[7].probe.maxBytes').message, /unknown unit "G"; write "2GiB" or "2GB"/);
  });

  test('temporal: mTLS needs both files; payloadEncryption needs a key id and a key reference', () => {
    const e = rejects(
      withChange((r) => {
        r.temporal.tls = { certFile: '/etc/c.pem' };
        r.temporal.payloadEncryption = {};
        r.temporal.namespace = 42;
      }),
    );
    assert.match(
      problemAt(e, 'temporal.tls').message,
      /certFile without keyFile; a client certificate \(mTLS\) needs both/,
    );
    assert.match(problemAt(e, 'temporal.payloadEncryption.keyId').message, /is required/);
    assert.match(problemAt(e, 'temporal.namespace').message, /must be a string, not the number 42; quote it: "42"/);
  });

  test('empty or non-mapping configs say so', () => {
    assert.match(rejects(null).message, /the config is empty; start from lifeboat\.example\.yaml/);
    assert.match(rejects(['a']).message, /must be a mapping/);
    assert.match(
      problemAt(rejects({ ...minimalRawConfig(), temporal: 'localhost' }), 'temporal').message,
      /must be a mapping/,
    );
  });
});
