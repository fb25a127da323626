import { openRepository, type Repository } from '../repository';
import { resolveSecret, type LifeboatConfig } from '../config';

/**
 * Opens the configured repository once per worker and shares it between
 * activities; the password is resolved here, from its env var or file, and
 * never leaves the worker.
 */
export class RepositoryProvider {
  private opening?: Promise<Repository>;

  constructor(private readonly config: LifeboatConfig) {}

  get(): Promise<Repository> {
    this.opening ??= (async () => {
      const { url, s3, password } = this.config.repository;
      return openRepository({ url, s3 }, await resolveSecret(password));
    })();
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
