import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { parseConfig } from '../../config';
import type { LifeboatConfig } from '../../config/types';

export const BIN = path.resolve(__dirname, '..', '..', 'bin', 'lifeboat');

export interface TestConfigOptions {
  repoUrl?: string;
  /** Env var holding the repository password. @default LIFEBOAT_TEST_REPO_PASSWORD */
  passwordEnv?: string;
  address?: string;
  namespace?: string;
  taskQueue?: string;
  schedules?: Record<string, unknown>;
  /** @default one source of each type */
  sources?: Record<string, unknown>[];
}

/** Two Redis sources, one FAISS, one Qdrant: enough to exercise target selection. */
export const DEFAULT_SOURCES = [
  { name: 'sessions', type: 'redis', url: 'redis://127.0.0.1:1' },
  { name: 'features', type: 'redis', url: 'redis://127.0.0.1:2' },
  { name: 'embeddings', type: 'faiss', path: '/var/lib/app/index.faiss' },
  { name: 'docs', type: 'qdrant', url: 'http://127.0.0.1:6333', collection: 'docs' },
];

export function rawTestConfig(o: TestConfigOptions = {}): Record<string, unknown> {
  return {
    temporal: {
      address: o.address ?? '127.0.0.1:7233',
      namespace: o.namespace ?? 'default',
      taskQueue: o.taskQueue ?? 'lifeboat-test',
    },
    repository: {
      url: o.repoUrl ?? '/tmp/lifeboat-test-repo-unused',
      password: { env: o.passwordEnv ?? 'LIFEBOAT_TEST_REPO_PASSWORD' },
    },
    sources: o.sources ?? DEFAULT_SOURCES,
    ...(o.schedules ? { schedules: o.schedules } : {}),
  };
}

export function testConfig(o: TestConfigOptions = {}): LifeboatConfig {
  return parseConfig(rawTestConfig(o), '<test>');
}

/** Writes the config as YAML and returns its path. */
export function writeTestConfig(dir: string, o: TestConfigOptions = {}): string {
  const file = path.join(dir, 'lifeboat.yaml');
  writeFileSync(file, stringify(rawTestConfig(o)), { mode: 0o600 });
  return file;
}

export interface BinResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs bin/lifeboat as a user would, with only the given environment on top of PATH/HOME. */
export function runBin(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<BinResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        TMPDIR: process.env.TMPDIR ?? '/tmp',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`lifeboat ${args.join(' ')} did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Parses stdout as exactly one JSON document (fails on anything else). */
export function singleJson(stdout: string): Record<string, any> {
  const trimmed = stdout.trim();
  if (!trimmed) throw new Error('stdout is empty; expected one JSON document');
  const lines = trimmed.split('\n');
  if (lines.length !== 1)
    throw new Error(`stdout has ${lines.length} lines; expected exactly one JSON document:\n${stdout}`);
  return JSON.parse(trimmed) as Record<string, any>;
}

/** Buffers for runCli in-process. */
export function memoryIo(env: Record<string, string | undefined> = {}) {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: {
      stdout: { write: (s: string) => (out.stdout += s) },
      stderr: { write: (s: string) => (out.stderr += s) },
      env,
    },
  };
}
