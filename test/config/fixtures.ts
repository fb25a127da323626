/** A valid raw config (as YAML would give it) touching every section; tests change one thing at a time. */
export function fullRawConfig(): Record<string, any> {
  return {
    profile: 'prod',
    temporal: {
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
    },
    repository: {
      url: 's3://my-bucket/lifeboat/prod/',
      password: { env: 'LIFEBOAT_REPO_PASSWORD' },
      s3: { endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, sse: 'aws:kms', kmsKeyId: 'key-123' },
    },
    sources: [
      {
        name: 'sessions',
        type: 'redis',
        url: 'redis://10.0.0.5:6379',
        password: { env: 'REDIS_PASSWORD' },
        username: 'default',
        db: 3,
        pattern: 'session:*',
        targets: { rpo: '15m' },
      },
      { name: 'features', type: 'redis', cluster: ['10.0.0.5:7000', '10.0.0.6:7000'], tls: true },
      {
        name: 'embeddings',
        type: 'faiss',
        path: '/var/lib/app/index.faiss',
        probe: { maxBytes: '500MB', queries: 4, k: 5 },
      },
      {
        name: 'docs',
        type: 'qdrant',
        url: 'http://qdrant:6333',
        apiKey: { env: 'QDRANT_API_KEY' },
        collections: ['docs', 'faq'],
        mode: 'points',
        retention: { keepYearly: 10 },
      },
    ],
    targets: { rto: '30m' },
    retention: { keepDaily: 30 },
    backup: { parallelism: 3, verify: 'read-data' },
    schedules: {
      backup: { every: '1h' },
      verify: { cron: '30 3 * * *', readData: true, subsetPercent: 10 },
      drill: { cron: '0 4 * * SUN', sources: ['sessions', 'docs'] },
      prune: { cron: '0 5 * * *', timezone: 'Europe/Paris', paused: true },
      catchupWindow: '5m',
    },
    worker: { maxConcurrentActivities: 8, maxConcurrentWorkflows: 50, scratchDir: '/var/lib/lifeboat/tmp' },
  };
}

/** The smallest valid config: one source and a repository. */
export function minimalRawConfig(): Record<string, any> {
  return {
    repository: { url: '/var/lib/lifeboat/repo', password: { env: 'LIFEBOAT_REPO_PASSWORD' } },
    sources: [{ name: 'cache', type: 'redis', url: 'redis://127.0.0.1:6379' }],
  };
}
