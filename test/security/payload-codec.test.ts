/**
 * Temporal payload encryption, end to end on the real dev server: a worker and the typed client
 * built from a config with `temporal.payloadEncryption` run a backup and a failing backup; the raw
 * histories (read with a client that has no codec) hold no plaintext of a known input nor of a
 * known error message; `lifeboat codec-server` decodes them for the UI; rotated keys still decrypt.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { createLifeboatClient } from '../../client';
import { parseConfig, type LifeboatConfig } from '../../config';
import { startRedis, type RedisServer } from '../servers/redis';
import { freePort } from '../servers/process';
import { createCodecServer } from '../../runtime/codec-server';
import {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  loadPayloadCodec,
  parsePayloadKey,
} from '../../runtime/payload-codec';
import { initRepository } from '../../repository';
import { runWorker } from '../../workers/main';
import { makeTestConfig } from '../harness/config';
import { scratchDir } from '../harness/env';
import { seedRedis } from '../workflows/helpers';

const te = new TextEncoder();
const json = (v: unknown): Payload => ({
  metadata: { encoding: te.encode('json/plain') },
  data: te.encode(JSON.stringify(v)),
});
const text = (p: Payload) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8');

test('codec: round trip, key id in metadata, rotation keeps old payloads readable, an unknown id is named', async () => {
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);
  const old = new AesGcmPayloadCodec('2026-06', new Map([['2026-06', k1]]));
  const [enc] = await old.encode([json({ secret: 'canary-rotation' })]);
  assert.equal(Buffer.from(enc!.metadata![KEY_ID_METADATA]!).toString(), '2026-06');
  assert.equal(Buffer.from(enc!.metadata!.encoding!).toString(), ENCRYPTED_ENCODING);
  assert.ok(!Buffer.from(enc!.data!).toString('latin1').includes('canary-rotation'));

  const rotated = new AesGcmPayloadCodec(
    '2026-12',
    new Map([
      ['2026-12', k2],
      ['2026-06', k1],
    ]),
  );
  assert.equal(text((await rotated.decode([enc!]))[0]!), JSON.stringify({ secret: 'canary-rotation' }));
  const [fresh] = await rotated.encode([json(1)]);
  assert.equal(Buffer.from(fresh!.metadata![KEY_ID_METADATA]!).toString(), '2026-12');

  const newOnly = new AesGcmPayloadCodec('2026-12', new Map([['2026-12', k2]]));
  await assert.rejects(newOnly.decode([enc!]), /encrypted with key "2026-06", which is not configured.*previousKeys/);

  // Relabelling a payload to another key id, or flipping a byte, is detected.
  const relabelled = { ...enc!, metadata: { ...enc!.metadata, [KEY_ID_METADATA]: te.encode('2026-12') } };
  await assert.rejects(rotated.decode([relabelled]), /does not decrypt with key "2026-12"/);
  const flipped = Buffer.from(enc!.data!);
  flipped[20]! ^= 1;
  await assert.rejects(rotated.decode([{ ...enc!, data: flipped }]), /does not decrypt with key "2026-06"/);

  // Payloads that were never encrypted (history from before encryption was enabled) pass through.
  assert.equal(text((await rotated.decode([json('plain')]))[0]!), '"plain"');
});

test('payload keys: a passphrase or a short key is refused with the command that makes a good one', () => {
  assert.equal(parsePayloadKey(randomBytes(32).toString('base64'), 'k').length, 32);
  assert.equal(parsePayloadKey(randomBytes(32).toString('hex') + '\n', 'k').length, 32);
  assert.throws(() => parsePayloadKey('correct horse battery staple', 'the key file'), /openssl rand -base64 32/);
  assert.throws(() => parsePayloadKey(randomBytes(16).toString('base64'), 'k'), /not a 32-byte key/);
});

test('config: payloadEncryption parses keys by reference and reports every problem at once', () => {
  const base = {
    repository: { url: '/tmp/x', password: { env: 'PW' } },
    sources: [{ name: 'meta', type: 'redis', url: 'redis://127.0.0.1:6379' }],
  };
  const ok = parseConfig({
    ...base,
    temporal: {
      payloadEncryption: {
        keyId: '2026-12',
        key: { file: '/etc/lifeboat/payload-key' },
        previousKeys: [{ keyId: '2026-06', key: { env: 'OLD_KEY' } }],
        codecServer: { token: { env: 'CODEC_TOKEN' }, origins: ['https://ui.example.com/'] },
      },
    },
  });
  assert.deepEqual(ok.temporal.payloadEncryption, {
    current: { id: '2026-12', key: { file: '/etc/lifeboat/payload-key' } },
    previous: [{ id: '2026-06', key: { env: 'OLD_KEY' } }],
    codecServer: { token: { env: 'CODEC_TOKEN' }, origins: ['https://ui.example.com'] },
  });
  assert.throws(
    () =>
      parseConfig({
        ...base,
        temporal: {
          payloadEncryption: {
            key: 'literal-key-in-config',
            previousKeys: [{ keyId: 'a b', key: { env: 'X' } }],
          },
        },
      }),
    (e: Error) =>
      /temporal\.payloadEncryption\.keyId.*is required/s.test(e.message) &&
      /temporal\.payloadEncryption\.key.*literal secret/s.test(e.message) &&
      /previousKeys\[0\]\.keyId/.test(e.message) &&
      !e.message.includes('literal-key-in-config'),
  );
});

let redis: RedisServer;
before(async () => {
  redis = await startRedis(path.join(scratchDir('codec'), 'redis'));
  await seedRedis(redis.url, 'codec');
});
after(async () => redis?.stop());

/** Every byte string of a raw history, as latin1 text, for plaintext searches. */
function rawText(history: unknown): string {
  return JSON.stringify(history, (_k, v) =>
    v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : typeof v === 'bigint' ? String(v) : v,
  );
}

/** The payloads of a raw history, in the JSON shape the Temporal UI posts to a codec server. */
function payloadsOf(history: unknown): { metadata: Record<string, string>; data: string }[] {
  const out: { metadata: Record<string, string>; data: string }[] = [];
  const walk = (v: unknown): void => {
    if (!v || typeof v !== 'object' || v instanceof Uint8Array) return;
    const o = v as Record<string, unknown>;
    if (o.metadata && typeof o.metadata === 'object' && o.data instanceof Uint8Array) {
      const md = o.metadata as Record<string, Uint8Array>;
      out.push({
        metadata: Object.fromEntries(Object.entries(md).map(([k, b]) => [k, Buffer.from(b).toString('base64')])),
        data: Buffer.from(o.data).toString('base64'),
      });
      return;
    }
    for (const x of Object.values(o)) walk(x);
  };
  walk(history);
  return out;
}

test('worker, typed client and codec server: no plaintext of a known input or error in the raw history; the codec server decodes it', async () => {
  const cfg = makeTestConfig({ sources: [{ name: 'meta', type: 'redis', url: redis.url, db: 0 }] });
  const password = Object.values(cfg.env)[0]!;
  await (await initRepository({ url: cfg.config.repository.url }, password)).close();
  const keyFile = path.join(cfg.dir, 'payload-key');
  writeFileSync(keyFile, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
  const tokenEnv = `LIFEBOAT_TEST_CODEC_${randomUUID().slice(0, 6).toUpperCase()}`;
  process.env[tokenEnv] = `tok-${randomUUID()}`;
  const config: LifeboatConfig = {
    ...cfg.config,
    temporal: {
      ...cfg.config.temporal,
      payloadEncryption: {
        current: { id: 'test-1', key: { file: keyFile } },
        previous: [],
        codecServer: { token: { env: tokenEnv }, origins: ['http://localhost:8233'] },
      },
    },
  };
  const stop = new AbortController();
  const worker = runWorker(config, { signal: stop.signal, preferBundle: false });
  const lb = createLifeboatClient(config);
  const plain = new Client({
    connection: await Connection.connect({ address: config.temporal.address }),
    namespace: config.temporal.namespace,
  });
  const server = createCodecServer({
    codec: await loadPayloadCodec(config.temporal.payloadEncryption!),
    origins: config.temporal.payloadEncryption!.codecServer.origins,
    token: process.env[tokenEnv],
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const canary = `canary-${randomUUID()}`;
    const op = await lb.backup({ tags: [canary], trigger: `trigger-${canary}` });
    const result = await op.result();
    assert.ok(result.recoveryPointId, 'the backup committed a recovery point');

    const history = await plain.workflow.getHandle(op.workflowId).fetchHistory();
    const raw = rawText(history);
    assert.ok(!raw.includes(canary), 'the known input appears in clear in the raw history');
    assert.ok(!raw.includes(result.recoveryPointId), 'the result appears in clear in the raw history');
    const payloads = payloadsOf(history);
    const encodings = payloads.map((p) => Buffer.from(p.metadata.encoding ?? '', 'base64').toString());
    assert.ok(payloads.length >= 3, `payloads in the history: ${payloads.length}`);
    // Search attributes are indexed by the server and cannot be encrypted; everything else must be.
    const clear = payloads.filter((_, i) => encodings[i] !== ENCRYPTED_ENCODING);
    for (const p of clear)
      assert.ok(!Buffer.from(p.data, 'base64').toString().includes(canary), 'a clear payload holds the input');

    // The Temporal UI's request: preflight from its origin, then POST /decode with the bearer token.
    const pre = await fetch(`${base}/decode`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://localhost:8233',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,x-namespace',
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'http://localhost:8233');
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /X-Namespace/);
    const evil = await fetch(`${base}/decode`, { method: 'OPTIONS', headers: { Origin: 'https://evil.example' } });
    assert.equal(evil.status, 403);
    assert.equal(evil.headers.get('access-control-allow-origin'), null);

    const body = JSON.stringify({ payloads: payloads.filter((_, i) => encodings[i] === ENCRYPTED_ENCODING) });
    const noToken = await fetch(`${base}/decode`, { method: 'POST', body });
    assert.equal(noToken.status, 401);
    const res = await fetch(`${base}/decode`, {
      method: 'POST',
      body,
      headers: {
        'Content-Type': 'application/json',
        'X-Namespace': 'default',
        Origin: 'http://localhost:8233',
        Authorization: `Bearer ${process.env[tokenEnv]}`,
      },
    });
    assert.equal(res.status, 200);
    const decoded = (await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    const clearText = decoded.payloads.map((p) => Buffer.from(p.data, 'base64').toString()).join('\n');
    assert.ok(clearText.includes(canary), 'the codec server decodes the input');
    assert.ok(clearText.includes(result.recoveryPointId), 'the codec server decodes the result');
    // Decoded back to the SDK's own encodings (a workflow returning nothing has a binary/null result).
    assert.ok(
      decoded.payloads.every((p) =>
        ['json/plain', 'binary/null'].includes(Buffer.from(p.metadata.encoding!, 'base64').toString()),
      ),
    );

    // A failure: its message (which names the unreachable address) is encrypted too, yet the client reads it.
    const port = await freePort();
    const failing: LifeboatConfig = {
      ...config,
      sources: [{ ...config.sources[0]!, name: 'gone', url: `redis://127.0.0.1:${port}` } as never],
    };
    const stop2 = new AbortController();
    const failingQueue = `${config.temporal.taskQueue}-f`;
    const failingCfg: LifeboatConfig = { ...failing, temporal: { ...failing.temporal, taskQueue: failingQueue } };
    const worker2 = runWorker(failingCfg, { signal: stop2.signal, preferBundle: false });
    const lb2 = createLifeboatClient(failingCfg);
    try {
      const bad = await lb2.backup({});
      const err = await bad.result().then(
        () => assert.fail('the backup of an unreachable Redis should fail'),
        (e: unknown) => e,
      );
      let msgs = '';
      for (let c = err as { message?: string; cause?: unknown } | undefined; c; c = c.cause as typeof c)
        msgs += `${c.message}\n`;
      assert.ok(err instanceof WorkflowFailedError || msgs.includes(`127.0.0.1:${port}`), msgs);
      assert.match(msgs, new RegExp(`127\\.0\\.0\\.1:${port}`), 'the client decodes the failure');
      const rawBad = rawText(await plain.workflow.getHandle(bad.workflowId).fetchHistory());
      // The address itself may appear in a workflow id (target locks are named by target; ids are never
      // encrypted, see docs/security.md), so look for the failure's own wording.
      const leak = rawBad.search(/is unreachable|ECONNREFUSED/);
      assert.ok(
        leak < 0,
        `the error message is in clear in the raw history: ...${rawBad.slice(Math.max(0, leak - 600), leak + 100)}`,
      );
      assert.ok(rawBad.includes('Encoded failure'), 'failures carry the SDK placeholder message');
    } finally {
      await lb2.close();
      stop2.abort();
      await worker2;
    }
  } finally {
    server.close();
    await lb.close();
    await plain.connection.close();
    stop.abort();
    await worker;
  }
});
