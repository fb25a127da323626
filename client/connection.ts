import os from 'node:os';
import { Client, Connection, type DataConverter, type WorkflowClientInterceptor } from '@temporalio/client';
import type { TemporalConfig } from '../config/types';
import { TemporalUnreachableError } from './errors';
import { temporalConnectionOptions } from '../runtime/temporal-connection';

export { temporalConnectionOptions };

export interface TemporalConnectOptions {
  /** How long to wait for the frontend before giving up. @default 10000 */
  connectTimeoutMs?: number;
  /** Data converter (payload codec for encryption). @default the SDK's JSON converter */
  dataConverter?: DataConverter;
  /** Shown in the Temporal UI as who started or changed things. @default 'lifeboat-cli@<host>' */
  identity?: string;
  /** Workflow client interceptors (OpenTelemetry: the start span whose context the workflow continues). */
  workflowInterceptors?: WorkflowClientInterceptor[];
}

export interface TemporalHandle {
  readonly connection: Connection;
  readonly client: Client;
  readonly namespace: string;
  readonly address: string;
}

/**
 * Connects to the configured Temporal frontend and namespace.
 * @throws TemporalUnreachableError naming the address when the server cannot be reached
 * @throws UsageError when a TLS file cannot be read; SecretError when the API key reference cannot be resolved
 */
export async function connectTemporal(cfg: TemporalConfig, opts: TemporalConnectOptions = {}): Promise<TemporalHandle> {
  const options = await temporalConnectionOptions(cfg, opts);
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
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
    ...(opts.workflowInterceptors?.length ? { interceptors: { workflow: opts.workflowInterceptors } } : {}),
  });
  return { connection, client, namespace: cfg.namespace, address: cfg.address };
}
