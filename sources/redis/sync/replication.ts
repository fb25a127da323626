import { open } from 'node:fs/promises';
import type net from 'node:net';
import { openSocket, type WireParams } from '../wire/connection';
import { RedisAuthError, RedisConnectionLostError, RedisSourceError } from '../errors';

/** The server refuses to send its snapshot (SYNC and PSYNC renamed away or denied, as managed services do). */
export class RedisSyncRefusedError extends RedisSourceError {
  constructor(
    readonly address: string,
    readonly reply: string,
  ) {
    super(
      `Redis at ${address} refuses to send its snapshot over the replication protocol (${reply}): use capture: scan (or auto, which falls back to SCAN) for this source`,
      'REDIS_SYNC_REFUSED',
    );
  }
}

/** Reads a socket as a sequence of lines and exact byte counts. */
class SocketReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private waiting: (() => void) | undefined;
  private ended: Error | undefined;

  constructor(
    private readonly socket: net.Socket,
    address: string,
  ) {
    socket.on('data', (c: Buffer) => {
      this.chunks.push(c);
      this.size += c.length;
      // Backpressure: stop reading while we hold a lot (the file write catches up).
      if (this.size > 8 << 20) socket.pause();
      this.wake();
    });
    const end = (why: string) => {
      this.ended ??= new RedisConnectionLostError(address, why);
      this.wake();
    };
    socket.on('error', (e) => end(e.message));
    socket.on('close', () => end('closed by the server during the snapshot transfer'));
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  private async wait(): Promise<void> {
    if (this.ended) throw this.ended;
    this.socket.resume();
    await new Promise<void>((r) => (this.waiting = r));
  }

  private flat(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  async line(): Promise<string> {
    for (;;) {
      const b = this.flat();
      const i = b.indexOf('\n');
      if (i >= 0) {
        this.take(i + 1);
        return b.subarray(0, i).toString('latin1').replace(/\r$/, '');
      }
      await this.wait();
    }
  }

  private take(n: number): Buffer {
    const b = this.flat();
    const out = b.subarray(0, n);
    this.chunks = n < b.length ? [b.subarray(n)] : [];
    this.size -= n;
    return out;
  }

  /** Whatever is buffered, up to `max` bytes (waits for at least one). */
  async some(max: number): Promise<Buffer> {
    while (this.size === 0) await this.wait();
    return Buffer.from(this.take(Math.min(max, this.size)));
  }
}

export interface SyncTransfer {
  /** Which command the server answered. */
  command: 'SYNC' | 'PSYNC';
  bytes: number;
}

/**
 * Asks the server for its RDB snapshot over the replication protocol, as
 * `redis-cli --rdb` does, and writes it to `file`: `REPLCONF rdb-only 1`
 * (the server then sends the snapshot only, no command stream after it) and
 * `capa eof` (it may stream the snapshot diskless, without writing a file of
 * its own), then `SYNC` — or `PSYNC ? -1` when SYNC is unavailable. The reply
 * is `$<length>` and that many bytes, or `$EOF:<40-byte mark>` and bytes up to
 * the mark; newlines before it are keep-alives while the server forks. Memory
 * stays at a few MiB: the socket pauses while the file write catches up.
 */
export async function fetchSnapshot(p: WireParams, file: string, signal?: AbortSignal): Promise<SyncTransfer> {
  const address = `${p.host}:${p.port}`;
  const socket = await openSocket(p, address);
  const onAbort = () => socket.destroy(signal!.reason as Error);
  signal?.addEventListener('abort', onAbort, { once: true });
  const rd = new SocketReader(socket, address);
  const send = (...args: string[]) =>
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  try {
    if (p.password) {
      send(...(p.username ? ['AUTH', p.username, p.password] : ['AUTH', p.password]));
      const r = await rd.line();
      if (r.startsWith('-')) throw new RedisAuthError(address, p.username, r.slice(1));
    }
    send('REPLCONF', 'rdb-only', '1');
    await rd.line(); // older servers answer an error: they send the command stream after the snapshot, which we do not read
    send('REPLCONF', 'capa', 'eof');
    await rd.line();
    let command: SyncTransfer['command'] = 'SYNC';
    send('SYNC');
    let head = await nextReply(rd);
    if (head.startsWith('-')) {
      command = 'PSYNC';
      send('PSYNC', '?', '-1');
      head = await nextReply(rd);
      if (head.startsWith('-')) throw new RedisSyncRefusedError(address, head.slice(1));
      if (head.startsWith('+')) head = await nextReply(rd); // +FULLRESYNC <replid> <offset>
    }
    if (!head.startsWith('$'))
      throw new RedisSyncRefusedError(address, `unexpected reply ${JSON.stringify(head.slice(0, 80))}`);
    const fh = await open(file, 'w', 0o600);
    let bytes = 0;
    try {
      if (head.startsWith('$EOF:')) {
        const mark = Buffer.from(head.slice(5), 'latin1');
        // Hold back the last 40 bytes: they may be the end mark.
        let tail = Buffer.alloc(0);
        for (;;) {
          const chunk = Buffer.concat([tail, await rd.some(1 << 20)]);
          if (chunk.length >= mark.length && chunk.subarray(chunk.length - mark.length).equals(mark)) {
            const body = chunk.subarray(0, chunk.length - mark.length);
            await fh.write(body);
            bytes += body.length;
            break;
          }
          const keep = Math.min(mark.length, chunk.length);
          const body = chunk.subarray(0, chunk.length - keep);
          if (body.length) await fh.write(body);
          bytes += body.length;
          tail = chunk.subarray(chunk.length - keep);
        }
      } else {
        const total = Number(head.slice(1));
        if (!Number.isSafeInteger(total) || total < 0) throw new RedisSyncRefusedError(address, `bad length ${head}`);
        while (bytes < total) {
          const chunk = await rd.some(Math.min(1 << 20, total - bytes));
          await fh.write(chunk);
          bytes += chunk.length;
        }
      }
    } finally {
      await fh.close();
    }
    return { command, bytes };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    socket.destroy();
  }
}

/** The next reply line, skipping the empty keep-alive lines a master sends while it prepares the snapshot. */
async function nextReply(rd: SocketReader): Promise<string> {
  for (;;) {
    const l = await rd.line();
    if (l !== '') return l;
  }
}
