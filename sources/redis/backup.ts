import { Readable } from 'node:stream';
import { walkSource, emptyWalkResult } from './walk';
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
    for await (const batch of walkSource(opts, { ...streamOpts, writer }, result)) yield* batch;
  }
  const stream = Readable.from(chunks(), { objectMode: false, highWaterMark: 1 << 20 });
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
