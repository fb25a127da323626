import { resolveSecret } from '../config/secrets';
import type { LifeboatConfig } from '../config/types';
import { initRepository, openRepository, type Repository, type RepositoryLocation } from '../repository';

/** The repository location of a config, with S3 keys resolved from their references. */
export async function repositoryLocation(config: LifeboatConfig): Promise<RepositoryLocation> {
  const r = config.repository;
  if (r.kind === 'local') return { url: r.url };
  const { accessKeyId, secretAccessKey, ...rest } = r.s3;
  const credentials =
    accessKeyId && secretAccessKey
      ? { accessKeyId: await resolveSecret(accessKeyId), secretAccessKey: await resolveSecret(secretAccessKey) }
      : undefined;
  return {
    url: r.url,
    s3: {
      ...rest,
      ...(credentials ? { credentials } : {}),
      ...(r.objectLock ? { objectLock: { ...r.objectLock } } : {}),
    },
  };
}

/**
 * Opens the configured repository directly (like restic): listing, showing,
 * forgetting and holding recovery points need no worker.
 */
export async function openConfiguredRepository(config: LifeboatConfig): Promise<Repository> {
  const password = await resolveSecret(config.repository.password);
  return openRepository(await repositoryLocation(config), password);
}

/** Creates the configured repository (fails if one exists there). */
export async function initConfiguredRepository(config: LifeboatConfig): Promise<Repository> {
  const password = await resolveSecret(config.repository.password);
  return initRepository(await repositoryLocation(config), password);
}
