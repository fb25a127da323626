import os from 'node:os';
import { readFile } from 'node:fs/promises';
import { Client, Connection, type ConnectionOptions, type DataConverter } from '@temporalio/client';
import { resolveSecret } from '../config/secrets';
import { lifeboatDataConverter } from '../lib/payload-codec';
import type { TemporalConfig } from '../config/types';
import { UsageError, TemporalUnreachableError } from './errors';

export interface TemporalConnectOptions {
  /** How long to wait for the frontend before giving up. @default 10000 */
  connectTimeoutMs?: number;
  /** Data converter. @default the config's payload encryption (lib/payload-codec.ts), else the SDK's JSON converter */
  dataConverter?: DataConverter;
  /** Shown in the Temporal UI as who started or changed things. @default 'lifeboat-cli@<host>' */
  identity?: string;
}

export interface TemporalHandle {
  readonly connection: Connection;
  readonly client: Client;
  readonly namespace: string;
  readonly address: string;
}

async function readTlsFile(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    throw new UsageError(
      `temporal.tls.${what} ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}); fix the path in the config`,
      `temporal.tls.${what}`,
    );
  }
}

/** Connection options from the config's `temporal:` section: TLS files read, API key resolved from its reference. */
export async function temporalConnectionOptions(
  cfg: TemporalConfig,
  opts: TemporalConnectOptions = {},
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

/**
 * Connects to the configured Temporal frontend and namespace.
 * @throws TemporalUnreachableError naming the address when the server cannot be reached
 * @throws UsageError when a TLS file cannot be read; SecretError when the API key reference cannot be resolved
 */
export async function connectTemporal(cfg: TemporalConfig, opts: TemporalConnectOptions = {}): Promise<TemporalHandle> {
  const options = await temporalConnectionOptions(cfg, opts);
  // Every client (CLI, typed client, webhook) encrypts exactly as the worker does, from the same config.
  const dataConverter = opts.dataConverter ?? (await lifeboatDataConverter(cfg));
  let connection: Connection;
  try {
    connection = await Connection.connect(options);
  } catch (e) {
    throw new TemporalUnreachableError(cfg.address, cfg.namespace, e);
  }
  const client = new Client({
    connection,
    namespace: cfg.namespace,
    identity: opts.identity ?? `lifeboat-cli@${os.hostname()}`,
    ...(dataConverter ? { dataConverter } : {}),
  });
  return { connection, client, namespace: cfg.namespace, address: cfg.address };
}
