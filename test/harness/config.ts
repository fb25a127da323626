import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { parseConfig, type LifeboatConfig } from '../../config';
import { scratchDir, testEnv } from './env';

export interface TestConfigOptions {
  /** Raw YAML `sources` entries. */
  sources: Record<string, unknown>[];
  /** Repository URL. @default a fresh local folder */
  repositoryUrl?: string;
  /** Extra top-level keys merged into the raw config. */
  extra?: Record<string, unknown>;
  /** Name of the env var holding the repository password. @default a unique one, set in this process */
  passwordEnv?: string;
  password?: string;
}

export interface TestConfig {
  config: LifeboatConfig;
  /** YAML file for CLI / worker processes. */
  file: string;
  /** Env vars a child process needs (the repository password). */
  env: Record<string, string>;
  taskQueue: string;
  dir: string;
}

/**
 * A Lifeboat config for one test: the shared Temporal dev server, a unique
 * task queue, a fresh local repository, and the given sources. The password
 * lives in an env var, as in production.
 */
export function makeTestConfig(opts: TestConfigOptions): TestConfig {
  const dir = scratchDir('cfg');
  const taskQueue = `lifeboat-test-${randomUUID().slice(0, 8)}`;
  const passwordEnv = opts.passwordEnv ?? `LIFEBOAT_TEST_PW_${randomUUID().slice(0, 8).toUpperCase()}`;
  const password = opts.password ?? `pw-${randomUUID()}`;
  process.env[passwordEnv] = password;
  const repoDir = path.join(dir, 'repo');
  mkdirSync(path.join(dir, 'scratch'), { recursive: true });
  const raw = {
    profile: 'dev',
    temporal: { address: testEnv().temporal.address, namespace: testEnv().temporal.namespace, taskQueue },
    repository: { url: opts.repositoryUrl ?? repoDir, password: { env: passwordEnv } },
    sources: opts.sources,
    worker: { scratchDir: path.join(dir, 'scratch') },
    // Many workers run at once in a test run: none takes the default metrics port (tests that
    // scrape start their own server on a free port).
    observability: { metrics: false },
    ...opts.extra,
  };
  const file = path.join(dir, 'lifeboat.yaml');
  writeFileSync(file, stringify(raw));
  return { config: parseConfig(raw, file), file, env: { [passwordEnv]: password }, taskQueue, dir };
}
