import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidLocationError } from '../errors';
import type { RepositoryLocation } from '../types';
import { LocalBackend } from './local';
import { S3Backend } from './s3';
import type { Backend } from './types';

/** The backend for a location: `file:///abs`, `/abs`, or `s3://bucket/prefix`. Bad input throws InvalidLocationError. */
export function openBackend(loc: RepositoryLocation): Backend {
  const url = loc?.url;
  if (typeof url !== 'string' || !url.trim()) throw new InvalidLocationError(String(url), 'it is empty');
  if (url.startsWith('s3://')) {
    const rest = url.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const prefix = slash < 0 ? '' : rest.slice(slash + 1);
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
      throw new InvalidLocationError(url, `"${bucket}" is not a valid bucket name`);
    if (prefix.split('/').some((p) => p === '..' || p === '.'))
      throw new InvalidLocationError(url, 'the prefix may not contain . or .. segments');
    return new S3Backend(bucket, prefix, loc.s3);
  }
  if (loc.s3) throw new InvalidLocationError(url, 's3 options were given for a location that is not s3://');
  let p: string;
  if (url.startsWith('file://')) {
    try {
      p = fileURLToPath(url);
    } catch (e) {
      throw new InvalidLocationError(url, (e as Error).message);
    }
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new InvalidLocationError(url, `the scheme ${url.split(':')[0]}:// is not supported`);
  } else {
    p = url;
  }
  if (!path.isAbsolute(p)) throw new InvalidLocationError(url, 'a local path must be absolute');
  return new LocalBackend(path.resolve(p));
}
