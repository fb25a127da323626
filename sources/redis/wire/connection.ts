import net from 'node:net';
import tls from 'node:tls';
import { RespParser, ReplyError, type Reply } from './resp-parser';
import { CommandBuilder } from './command-builder';
import {
  RedisAuthError,
  RedisCommandError,
  RedisConnectionLostError,
  RedisOptionsError,
  RedisUnreachableError,
} from '../errors';

export interface WireParams {
  host: string;
  port: number;
  tls?: boolean;
  username?: string;
  password?: string;
  /** @default 0 */
  db?: number;
  /** @default 10000 */
  connectTimeoutMs?: number;
  signal?: AbortSignal;
}

interface Pending {
  expected: number;
  latin1: boolean;
  replies: Reply[];
  resolve: (r: Reply[]) => void;
  reject: (e: Error) => void;
}

/**
 * One RESP2 connection used for pipelines: a batch of encoded commands goes
 * out in one write and comes back as one promise for all its replies — no
 * per-command promise or object, which is what makes a million-key backup
 * server-bound rather than client-bound (ioredis spends ~10 µs per command).
 * Commands are answered in order, so batches simply queue.
 */
export class RedisWire {
  readonly address: string;
  private readonly parser: RespParser;
  private readonly pending: Pending[] = [];
  private head = 0;
  private failure: Error | undefined;

  private constructor(
    private readonly socket: net.Socket,
    address: string,
  ) {
    this.address = address;
    this.parser = new RespParser((r) => this.onReply(r));
    socket.on('data', (chunk: Buffer) => {
      try {
        this.parser.feed(chunk);
      } catch (e) {
        this.fail(new RedisConnectionLostError(this.address, `unreadable reply: ${(e as Error).message}`));
      }
    });
    socket.on('error', (e) => this.fail(new RedisConnectionLostError(this.address, e.message, { cause: e })));
    socket.on('close', () => this.fail(new RedisConnectionLostError(this.address, 'closed by the server')));
  }

  /** Connects, authenticates and selects the db; errors name the address and never the password. */
  static async connect(p: WireParams): Promise<RedisWire> {
    const address = `${p.host}:${p.port}`;
    p.signal?.throwIfAborted();
    const socket = await openSocket(p, address);
    const wire = new RedisWire(socket, address);
    try {
      if (p.password !== undefined && p.password !== '') {
        const r = await wire.send(
          new CommandBuilder().cmd(...(p.username ? ['AUTH', p.username, p.password] : ['AUTH', p.password])),
        );
        if (r[0] instanceof ReplyError) throw new RedisAuthError(address, p.username, r[0].message);
      }
      const [pong] = await wire.send(new CommandBuilder().cmd('PING'));
      if (pong instanceof ReplyError) {
        if (/^(NOAUTH|WRONGPASS|NOPERM)/.test(pong.message))
          throw new RedisAuthError(address, p.username, pong.message);
        throw new RedisCommandError(address, 'PING', pong.message);
      }
      if (p.db) {
        const [sel] = await wire.send(new CommandBuilder().cmd('SELECT', p.db));
        if (sel instanceof ReplyError)
          throw new RedisOptionsError('db', `db ${p.db} cannot be selected on Redis at ${address} (${sel.message})`);
      }
    } catch (e) {
      wire.close();
      throw e;
    }
    return wire;
  }

  /**
   * Sends the builder's commands; resolves with one reply per command (error
   * replies included, as ReplyError). With `latin1`, bulk strings in the
   * replies are latin1 strings rather than Buffers.
   */
  send(builder: CommandBuilder, opts: { latin1?: boolean } = {}): Promise<Reply[]> {
    const { segments, count } = builder.take();
    if (this.failure) return Promise.reject(this.failure);
    if (count === 0) return Promise.resolve([]);
    return new Promise<Reply[]>((resolve, reject) => {
      const latin1 = !!opts.latin1;
      if (this.head === this.pending.length) this.parser.bulkAsLatin1 = latin1;
      this.pending.push({ expected: count, latin1, replies: new Array<Reply>(), resolve, reject });
      const s = this.socket;
      if (segments.length === 1) s.write(segments[0]);
      else {
        s.cork();
        for (const seg of segments) s.write(seg);
        s.uncork();
      }
    });
  }

  /** One command; an error reply throws a RedisCommandError naming it. */
  async call(...args: (string | number | Buffer)[]): Promise<Reply> {
    const [r] = await this.send(new CommandBuilder().cmd(...args));
    if (r instanceof ReplyError) throw new RedisCommandError(this.address, String(args[0]), r.message);
    return r;
  }

  close(): void {
    this.fail(new RedisConnectionLostError(this.address, 'connection closed by Lifeboat'));
    this.socket.destroy();
  }

  private onReply(r: Reply): void {
    const p = this.pending[this.head];
    if (!p) return;
    p.replies.push(r);
    if (p.replies.length === p.expected) {
      this.pending[this.head++] = undefined as unknown as Pending;
      if (this.head > 1024 && this.head * 2 > this.pending.length) {
        this.pending.splice(0, this.head);
        this.head = 0;
      }
      const next = this.pending[this.head];
      if (next) this.parser.bulkAsLatin1 = next.latin1;
      p.resolve(p.replies);
    }
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    for (let i = this.head; i < this.pending.length; i++) this.pending[i]?.reject(e);
    this.pending.length = 0;
    this.head = 0;
    this.socket.destroy();
  }
}

export function openSocket(p: WireParams, address: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const timeoutMs = p.connectTimeoutMs ?? 10_000;
    const socket: net.Socket = p.tls
      ? tls.connect({ host: p.host, port: p.port, servername: net.isIP(p.host) ? undefined : p.host })
      : net.connect({ host: p.host, port: p.port });
    const done = (err?: Error) => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      p.signal?.removeEventListener('abort', onAbort);
      if (err) {
        socket.destroy();
        reject(err);
      } else resolve(socket);
    };
    const onError = (e: NodeJS.ErrnoException) =>
      done(new RedisUnreachableError(address, e.code ?? e.message, { cause: e }));
    const onAbort = () => done(p.signal!.reason as Error);
    const timer = setTimeout(
      () => done(new RedisUnreachableError(address, `no connection within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once('error', onError);
    p.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once(p.tls ? 'secureConnect' : 'connect', () => {
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 30_000);
      done();
    });
  });
}
