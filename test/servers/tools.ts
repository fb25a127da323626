import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import versions from '../../scripts/tool-versions.json';
import { ServerStartError } from '../../lib/errors';

/** Project root (the folder holding package.json). */
export const projectRoot = path.resolve(__dirname, '..', '..');

export type ToolName = keyof typeof versions;

/** Path of a Go-built tool installed by scripts/setup into .tools/<name>-<version>/bin. */
export function toolPath(name: ToolName): string {
  const t = versions[name];
  const p = path.join(projectRoot, '.tools', `${name}-${t.version}`, 'bin', t.binary);
  if (!existsSync(p)) {
    throw new ServerStartError(name, `${p} is missing: run scripts/setup (npm test and npm start run it for you)`);
  }
  return p;
}

/** Path of a system binary from Debian's packages, e.g. redis-server. */
export function systemToolPath(binary: string): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/bin', '/usr/sbin'])) {
    const p = path.join(dir, binary);
    if (dir && existsSync(p)) return p;
  }
  throw new ServerStartError(binary, `${binary} not found on PATH: run scripts/setup (installs Debian's redis-server)`);
}

/**
 * The `shared/` folder beside the repository (`../shared` from its root), which
 * CI and some machines provide with extras such as a real Qdrant binary; a
 * fresh clone has none and everything still tests. In a git worktree the main
 * checkout's `../shared` counts too; LIFEBOAT_SHARED_DIR overrides both.
 */
export function sharedDir(): string | undefined {
  if (process.env.LIFEBOAT_SHARED_DIR) return process.env.LIFEBOAT_SHARED_DIR;
  const candidates = [path.join(path.dirname(projectRoot), 'shared')];
  try {
    // A worktree's .git is a file "gitdir: <main>/.git/worktrees/<name>".
    const gitFile = readFileSync(path.join(projectRoot, '.git'), 'utf8');
    const gitdir = /^gitdir:\s*(.+)$/m.exec(gitFile)?.[1]?.trim();
    const main = gitdir && /^(.*)[\\/]\.git[\\/]worktrees[\\/][^\\/]+$/.exec(gitdir)?.[1];
    if (main) candidates.push(path.join(path.dirname(main), 'shared'));
  } catch {
    // .git is a folder (a plain clone) or absent (an export): only the first candidate applies.
  }
  return candidates.find((c) => existsSync(c));
}
