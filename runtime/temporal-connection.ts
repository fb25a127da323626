/**
 * Temporal connection options from the config's `temporal:` section, shared by the worker and the
 * client (both sit above this layer, so neither imports the other).
 */
import { readFile } from 'node:fs/promises';
import type { ConnectionOptions } from '@temporalio/client';
import { resolveSecret } from '../config/secrets';
import type { TemporalConfig } from '../config/types';
import { ConfigError } from '../config/errors';

async function readTlsFile(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    throw new ConfigError(
      [
        {
          path: `temporal.tls.${what}`,
          message: `${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}); fix the path in the config`,
        },
      ],
      'the loaded config',
    );
  }
}

/** Connection options from the config's `temporal:` section: TLS files read, API key resolved from its reference. */
export async function temporalConnectionOptions(
  cfg: TemporalConfig,
  opts: { connectTimeoutMs?: number } = {},
): Promise<ConnectionOptions> {
  const options: ConnectionOptions = { address: cfg.address, connectTimeout: opts.connectTimeoutMs ?? 10_000 };
  if (cfg.tls) {
    const { serverName, caFile, certFile, keyFile } = cfg.tls;
    options.tls = {
      ...(serverName ? { serverNameOverride: serverName } : {}),
      ...(caFile ? { serverRootCACertificate: await readTlsFile(caFile, 'caFile') } : {}),
      ...(certFile && keyFile
        ? {
            clientCertPair: {
              crt: await readTlsFile(certFile, 'certFile'),
              key: await readTlsFile(keyFile, 'keyFile'),
            },
          }
        : {}),
    };
  }
  if (cfg.apiKey) {
    options.apiKey = await resolveSecret(cfg.apiKey);
    // Temporal Cloud only accepts API keys over TLS; the SDK turns TLS on when given {}.
    options.tls ??= {};
  }
  return options;
}
