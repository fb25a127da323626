import type { Command } from 'commander';
import type { CommandContext, CommandOutcome } from '../cli-context';
import { UsageError } from '../errors';
import type { CommandRunner } from './runner';

export interface CodecServerCommandOptions {
  host: string;
  port: string;
}

/**
 * Serves /encode and /decode for the Temporal UI until SIGINT/SIGTERM. Point the UI at it
 * (Settings → Codec Server, or TEMPORAL_CODEC_ENDPOINT) and operators read workflows in clear.
 */
export async function codecServerCommand(ctx: CommandContext, o: CodecServerCommandOptions): Promise<CommandOutcome> {
  const config = await ctx.config();
  const pe = config.temporal.payloadEncryption;
  if (!pe)
    throw new UsageError(
      'temporal.payloadEncryption is not configured, so there is nothing to decode; add it to the config (docs/security.md)',
      'temporal.payloadEncryption',
    );
  const port = Number(o.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port ${o.port} is not a port number (0-65535)`, '--port');
  const { loadPayloadCodec } = require('../../runtime/payload-codec') as typeof import('../../runtime/payload-codec');
  const { createCodecServer } = require('../../runtime/codec-server') as typeof import('../../runtime/codec-server');
  const { resolveSecret } = require('../../config/secrets') as typeof import('../../config/secrets');
  const codec = await loadPayloadCodec(pe);
  const token = pe.codecServer.token ? await resolveSecret(pe.codecServer.token) : undefined;
  const loopback = ['127.0.0.1', 'localhost', '::1'].includes(o.host);
  if (!token && !loopback)
    throw new UsageError(
      `--host ${o.host} would let anyone on the network decrypt payloads; set temporal.payloadEncryption.codecServer.token or bind to 127.0.0.1`,
      '--host',
    );
  const server = createCodecServer({ codec, origins: pe.codecServer.origins, ...(token ? { token } : {}) });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, o.host, resolve));
  const addr = server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  ctx.log(
    `lifeboat codec-server: http://${o.host}:${actualPort} (keys ${codec.keyIds.join(', ')}; CORS for ${pe.codecServer.origins.join(', ')}${token ? '; bearer token required' : ''}); Ctrl-C stops it`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop).off('SIGTERM', stop);
      server.close(() => resolve());
    };
    process.on('SIGINT', stop).on('SIGTERM', stop);
  });
  return { document: { ok: true, stopped: true }, text: 'codec server stopped' };
}

export function registerCodecServer(program: Command, run: CommandRunner): void {
  program
    .command('codec-server')
    .description('serve /encode and /decode for the Temporal UI (payload encryption), until SIGINT/SIGTERM')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', '8888')
    .action((o: CodecServerCommandOptions, cmd: Command) => run(cmd, (ctx) => codecServerCommand(ctx, o)));
}
