import { Readable } from 'node:stream';
import { walkSource, emptyWalkResult } from './walk';
import { walkSnapshot } from './sync/walk-snapshot';
import { RedisSyncRefusedError } from './sync/replication';
import { RecordWriter } from './format/writer';
import type { BackupStream, StreamOptions } from '../types';
import type { RedisBackupInfo, RedisConnectionOptions } from './types';

/**
 * Logical backup of a Redis server or cluster as a byte stream in the format
 * of docs/redis-format.md. Read `stream` to the end, then await `done` for
 * what was recorded (counts, per-db digests). Only key names of the db being
 * read are held in memory; values flow through with the stream's backpressure.
 * Aborting `signal` closes the connections and errors the stream.
 */
export function backupRedis(
  opts: RedisConnectionOptions,
  streamOpts: StreamOptions = {},
): BackupStream<RedisBackupInfo> {
  const startedAt = new Date().toISOString();
  const result = emptyWalkResult();
  const writer = new RecordWriter();
  let settle!: { resolve: (i: RedisBackupInfo) => void; reject: (e: unknown) => void };
  const done = new Promise<RedisBackupInfo>((resolve, reject) => (settle = { resolve, reject }));
  // The caller may only watch the stream; a rejection seen there must not also crash the process.
  done.catch(() => undefined);

  async function* chunks(): AsyncGenerator<Buffer> {
    const mode = opts.capture ?? 'scan';
    if (mode === 'sync' || (mode === 'auto' && !opts.cluster)) {
      const snap = walkSnapshot(opts, { ...streamOpts, writer, scratchDir: opts.scratchDir }, result);
      let first: IteratorResult<Buffer[]> | undefined;
      try {
        // The replication handshake happens before the first batch: a refusal surfaces here, with nothing emitted yet.
        first = await snap.next();
      } catch (e) {
        if (!(mode === 'auto' && e instanceof RedisSyncRefusedError)) throw e;
        result.captureNote = `SYNC and PSYNC refused by the server (${e.reply}); keys read with SCAN`;
      }
      if (first) {
        if (!first.done) yield* first.value;
        for await (const batch of snap) yield* batch;
        return;
      }
    }
    for await (const batch of walkSource(opts, { ...streamOpts, writer }, result)) yield* batch;
  }
  // Object mode keeps the writer's pieces (record groups) apart: a byte stream would join them on read.
  const stream = Readable.from(chunks(), { objectMode: true, highWaterMark: 1024 });
  stream.once('end', () =>
    settle.resolve({
      format: 1,
      redisVersion: result.redisVersion,
      cluster: result.cluster,
      dbs: result.dbs,
      ...(opts.pattern ? { pattern: opts.pattern } : {}),
      keys: result.keys,
      vanished: result.vanished,
      dumped: result.dumped,
      bytes: writer.total,
      expirySource: result.expirySource,
      capture: result.capture,
      ...(result.captureNote || result.captureCommand
        ? { captureNote: result.captureNote ?? `snapshot delivered by ${result.captureCommand}` }
        : {}),
      fingerprint: result.fingerprint,
      ...(Object.keys(result.passedThrough).length ? { passedThrough: result.passedThrough } : {}),
      startedAt,
      finishedAt: new Date().toISOString(),
    }),
  );
  stream.once('error', (e) => settle.reject(e));
  stream.once('close', () => {
    if (!stream.readableEnded) settle.reject(new Error('backup stream was closed before it ended'));
  });
  return { stream, done };
}
