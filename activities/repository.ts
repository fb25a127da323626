import type { Repository } from '../repository';
import type { LifeboatConfig } from '../config';
import { openConfiguredRepository } from '../runtime/configured-repository';

/**
 * Opens the configured repository once per worker and shares it between
 * activities; the password (and any S3 keys) are resolved here, from their
 * env vars or files, and never leave the worker.
 */
export class RepositoryProvider {
  private opening?: Promise<Repository>;

  constructor(private readonly config: LifeboatConfig) {}

  get(): Promise<Repository> {
    this.opening ??= openConfiguredRepository(this.config);
    // A failed open (repository down, wrong password) is retried on the next call.
    this.opening.catch(() => (this.opening = undefined));
    return this.opening;
  }

  async close(): Promise<void> {
    const r = this.opening;
    this.opening = undefined;
    if (r) await (await r.catch(() => undefined))?.close();
  }
}
