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

test('docker-compose: Prometheus scrapes the worker metrics port and loads the alert rules; Grafana gets the dashboard', async () => {
  const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'));
  for (const [k, v] of Object.entries(compose.services.worker.environment as Record<string, string>))
    process.env[k] = v;
  const config = await loadConfig(path.join(root, 'deploy', 'lifeboat.compose.yaml'));
  const listen = config.observability.metrics!.listen;
  const port = listen.slice(listen.lastIndexOf(':') + 1);
  assert.equal(listen.slice(0, listen.lastIndexOf(':')), '0.0.0.0', 'the worker serves metrics beyond its container');
  const prom = compose.services.prometheus;
  const mounts = prom.volumes as string[];
  assert.ok(mounts.includes('./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro'));
  assert.ok(mounts.includes('./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro'));
  const promCfg = parse(readFileSync(path.join(root, 'deploy/prometheus/prometheus.yml'), 'utf8'));
  assert.deepEqual(promCfg.rule_files, ['/etc/prometheus/alerts.yml']);
  const job = promCfg.scrape_configs.find((j: { job_name: string }) => j.job_name === 'lifeboat-worker');
  assert.ok(job, 'job lifeboat-worker (the alert rules select it)');
  assert.deepEqual(job.static_configs[0].targets, [`worker:${port}`]);
  const grafana = compose.services.grafana;
  const gmounts = grafana.volumes as string[];
  assert.ok(gmounts.includes('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro'));
  assert.ok(gmounts.includes('./deploy/grafana/lifeboat.json:/var/lib/grafana/dashboards/lifeboat.json:ro'));
  const provider = parse(readFileSync(path.join(root, 'deploy/grafana/provisioning/dashboards/lifeboat.yml'), 'utf8'));
  assert.equal(provider.providers[0].options.path, '/var/lib/grafana/dashboards');
  const dsCfg = parse(readFileSync(path.join(root, 'deploy/grafana/provisioning/datasources/prometheus.yml'), 'utf8'));
  const dashboard = JSON.parse(readFileSync(path.join(root, 'deploy/grafana/lifeboat.json'), 'utf8'));
  const uids = new Set(dashboard.panels.map((p: { datasource: { uid: string } }) => p.datasource.uid));
  assert.deepEqual([...uids], [dsCfg.datasources[0].uid], 'every panel uses the provisioned datasource');
  assert.equal(new URL(dsCfg.datasources[0].url).host, `prometheus:${(prom.ports as string[])[0].split(':')[1]}`);
});
