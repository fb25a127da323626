import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../config';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';

const root = path.resolve(__dirname, '..', '..');

// docker-compose.yml cannot run on the build machines; these checks keep it consistent with the code.
test('docker-compose: the worker config parses, and services, ports and search attributes match the code', async () => {
  const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'));
  const worker = compose.services.worker;
  for (const [k, v] of Object.entries(worker.environment as Record<string, string>)) process.env[k] = v;
  const config = await loadConfig(path.join(root, 'deploy', 'lifeboat.compose.yaml'));
  assert.equal(worker.environment.LIFEBOAT_CONFIG, '/etc/lifeboat/lifeboat.yaml');
  assert.ok(worker.volumes.includes('./deploy/lifeboat.compose.yaml:/etc/lifeboat/lifeboat.yaml:ro'));
  assert.equal(config.temporal.address, 'temporal:7233');
  for (const s of config.sources) {
    const host = s.type === 'faiss' ? undefined : new URL((s as { url: string }).url).hostname;
    if (host) assert.ok(compose.services[host], `source ${s.name} points at service ${host}, which compose defines`);
  }
  assert.ok(compose.services.minio && compose.services.qdrant && compose.services.redis && compose.services.temporal);
  const registered = (compose.services.temporal.command as string[])
    .filter((a) => a.startsWith('--search-attribute='))
    .map((a) => a.slice('--search-attribute='.length));
  assert.deepEqual(
    registered.sort(),
    Object.entries(SEARCH_ATTRIBUTES)
      .map(([k, v]) => `${k}=${v}`)
      .sort(),
  );
  assert.ok((compose.services.temporal.ports as string[]).includes('8233:8233'), 'the Temporal UI is published');
});
