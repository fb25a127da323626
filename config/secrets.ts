import { open } from 'node:fs/promises';
import { SECRET_FAILURES, SecretError, describeSecretRef } from './errors';
import type { SecretRef } from './types';

/** Secret files are passwords and keys; anything bigger is the wrong file, and is not read into memory. */
const MAX_SECRET_FILE_BYTES = 64 * 1024;

export interface ResolvedSecret {
  readonly value: string;
  /** The file can be read by its group or by everyone: someone else on the host may read the secret. */
  readonly insecurePermissions: boolean;
  /** What to do about it, when `insecurePermissions`. */
  readonly warning?: string;
}

/**
 * Reads a secret from its environment variable or file. File contents lose
 * their trailing newlines (editors and `echo` add one); nothing else is
 * trimmed, since spaces can be part of a password.
 * @throws SecretError naming the reference (never the value) when the variable
 * is unset or empty, or the file is missing, unreadable, empty, too large, or readable by its
 * group or others (unless the reference says `allowInsecurePermissions: true`, then a warning).
 */
export async function readSecret(ref: SecretRef): Promise<ResolvedSecret> {
  if (ref.env !== undefined) {
    const value = process.env[ref.env];
    if (value === undefined)
      throw new SecretError(
        ref,
        SECRET_FAILURES.envUnset,
        `is not set; export ${ref.env}=... in the worker's environment (or use { file: PATH })`,
      );
    if (value === '') throw new SecretError(ref, SECRET_FAILURES.empty, 'is set but empty; give it the secret');
    return { value, insecurePermissions: false };
  }
  const file = ref.file;
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES'
          ? "cannot be read by the worker's user (permission denied)"
          : `cannot be opened (${code ?? String(e)})`;
    throw new SecretError(ref, SECRET_FAILURES.unreadable, `${why}; create it with the secret and chmod 600`, {
      cause: e,
    });
  }
  try {
    const st = await handle.stat();
    if (!st.isFile())
      throw new SecretError(
        ref,
        SECRET_FAILURES.notAFile,
        'is not a regular file; point file: at the file holding the secret',
      );
    if (st.size > MAX_SECRET_FILE_BYTES)
      throw new SecretError(
        ref,
        SECRET_FAILURES.tooLarge,
        `is ${st.size} bytes, more than a secret (${MAX_SECRET_FILE_BYTES} bytes at most); is it the right file?`,
      );
    const buf = Buffer.alloc(Math.min(st.size + 1, MAX_SECRET_FILE_BYTES + 1));
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    if (bytesRead > MAX_SECRET_FILE_BYTES)
      throw new SecretError(
        ref,
        SECRET_FAILURES.tooLarge,
        `is more than ${MAX_SECRET_FILE_BYTES} bytes; is it the right file?`,
      );
    const value = buf
      .subarray(0, bytesRead)
      .toString('utf8')
      .replace(/(\r?\n)+$/, '');
    if (value === '') throw new SecretError(ref, SECRET_FAILURES.empty, 'is empty; write the secret into it');
    // Windows has no POSIX mode bits worth checking.
    const insecurePermissions = process.platform !== 'win32' && (st.mode & 0o044) !== 0;
    const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
    // Refused, not only warned about: another account on the host could read the secret.
    if (insecurePermissions && ref.allowInsecurePermissions !== true)
      throw new SecretError(
        ref,
        SECRET_FAILURES.insecurePermissions,
        `is readable by its group or by everyone (mode ${mode}); run chmod 600 ${file}, or, if that group is trusted (e.g. a Kubernetes secret volume), add allowInsecurePermissions: true to this reference`,
      );
    return {
      value,
      insecurePermissions,
      ...(insecurePermissions
        ? {
            warning: `secret ${describeSecretRef(ref)} is readable by its group or by everyone (mode ${mode}); run chmod 600 ${file}`,
          }
        : {}),
    };
  } finally {
    await handle.close();
  }
}

export interface ResolveSecretOptions {
  /**
   * Called when the secret file's permissions are too open.
   * @default process.emitWarning, once per file per process
   */
  onWarning?: (message: string) => void;
}

const warnedFiles = new Set<string>();

function defaultWarn(ref: SecretRef, message: string): void {
  if (ref.file === undefined || warnedFiles.has(ref.file)) return;
  warnedFiles.add(ref.file);
  process.emitWarning(message, { code: 'LIFEBOAT_SECRET_PERMISSIONS' });
}

/**
 * The secret a reference points to. Call it where the secret is used (in
 * the worker), never to put a secret into a workflow input.
 * @throws SecretError naming the reference, never the value.
 */
export async function resolveSecret(ref: SecretRef, opts: ResolveSecretOptions = {}): Promise<string> {
  const s = await readSecret(ref);
  if (s.warning) (opts.onWarning ?? ((m) => defaultWarn(ref, m)))(s.warning);
  return s.value;
}

/** Whether `v` has the shape of a secret reference (validation is parseConfig's job). */
export function isSecretRef(v: unknown): v is SecretRef {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (typeof o.env === 'string') !== (typeof o.file === 'string');
}
