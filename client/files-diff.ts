import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FilesSourceConfig } from '../config/types';
import type { Repository, RecoveryPoint } from '../repository';
import { filesArtifacts, readManifest, selectionOf } from '../activities/files';
import { diffEntries, liveFiles, type FileEntry, type FilesDiff } from '../sources/files';

/** Largest file whose contents `--show-content` prints (config files are small; a blob is named, not shown). */
const SHOW_MAX = 1 << 20;

export interface FilesDiffReport extends FilesDiff {
  recoveryPointId: string;
  source: string;
  root: string;
  /** With showContent: per path, a line diff (changed), or the whole text (added/removed). */
  content?: Record<string, string>;
}

/**
 * Config drift: the live files of a source (on this machine) against a recovery point's manifest.
 * Contents are read, hashed and compared, never printed unless `showContent`.
 */
export async function diffFilesSource(
  repo: Repository,
  rp: RecoveryPoint,
  s: FilesSourceConfig,
  opts: { showContent?: boolean } = {},
): Promise<FilesDiffReport> {
  const arts = filesArtifacts(rp.artifacts.filter((a) => a.source === s.name));
  const manifest = await readManifest(repo, arts.manifest);
  const live = await liveFiles(selectionOf(s));
  const diff = diffEntries(manifest.entries, live);
  const report: FilesDiffReport = { recoveryPointId: rp.id, source: s.name, root: s.root, ...diff };
  if (!opts.showContent) return report;
  const wanted = new Set([...diff.removed, ...diff.changed.map((c) => c.was)].map((e) => e.path));
  const old = await pointContents(repo, arts.content, manifest.entries, wanted);
  const liveText = async (e: FileEntry) =>
    (e.size ?? 0) > SHOW_MAX ? undefined : readFile(path.join(s.root, ...e.path.split('/')));
  const content: Record<string, string> = {};
  for (const e of diff.added) if (e.type === 'file') content[e.path] = shown(undefined, await liveText(e));
  for (const e of diff.removed) if (e.type === 'file') content[e.path] = shown(old.get(e.path), undefined);
  for (const c of diff.changed)
    if (c.what.includes('content') && c.was.type === 'file' && c.now.type === 'file')
      content[c.path] = shown(old.get(c.path), await liveText(c.now));
  return { ...report, content };
}

/** The point's bytes of the `wanted` files, reading the content artifact once (others are skipped). */
async function pointContents(
  repo: Repository,
  content: Parameters<Repository['readArtifact']>[0],
  entries: FileEntry[],
  wanted: Set<string>,
): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const files = entries.filter((e) => e.type === 'file');
  let i = 0;
  let left = files[0]?.size ?? 0;
  let parts: Buffer[] = [];
  const finish = () => {
    const f = files[i];
    if (f && wanted.has(f.path) && (f.size ?? 0) <= SHOW_MAX) out.set(f.path, Buffer.concat(parts));
    parts = [];
    i++;
    left = files[i]?.size ?? 0;
  };
  while (i < files.length && left === 0) finish();
  for await (let b of repo.readArtifact(content)) {
    while (b.length && i < files.length) {
      const piece = b.subarray(0, Math.min(left, b.length));
      if (wanted.has(files[i].path)) parts.push(piece);
      left -= piece.length;
      b = b.subarray(piece.length);
      while (i < files.length && left === 0) finish();
    }
  }
  return out;
}

const isBinary = (b: Buffer) => b.subarray(0, 8000).includes(0);

/** A readable rendering: a line diff of two texts, one text, or why nothing is shown. */
function shown(was: Buffer | undefined, now: Buffer | undefined): string {
  if ((was && isBinary(was)) || (now && isBinary(now))) return '(binary content differs)';
  if (!was && !now) return '(too large to show)';
  if (!was) return prefixLines(now!.toString('utf8'), '+');
  if (!now) return prefixLines(was.toString('utf8'), '-');
  return lineDiff(was.toString('utf8').split('\n'), now.toString('utf8').split('\n'));
}

const prefixLines = (t: string, p: string) =>
  t
    .split('\n')
    .map((l) => `${p}${l}`)
    .join('\n');

/** Longest-common-subsequence line diff ("-" point, "+" now, " " both); plain listing above 4M cells. */
export function lineDiff(a: string[], b: string[]): string {
  if (a.length * b.length > 4_000_000) return [...a.map((l) => `-${l}`), ...b.map((l) => `+${l}`)].join('\n');
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push(` ${a[i]}`);
      i++;
      j++;
    } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) out.push(`-${a[i++]}`);
    else out.push(`+${b[j++]}`);
  }
  return out.join('\n');
}

/** Text rendering: one line per file (A added, D removed, M changed with what), contents only if asked. */
export function renderFilesDiff(r: FilesDiffReport): string {
  const lines = [`config drift of ${r.source} (${r.root}) since ${r.recoveryPointId}:`];
  const all = [
    ...r.added.map((e) => ({ p: e.path, l: `A ${e.path}` })),
    ...r.removed.map((e) => ({ p: e.path, l: `D ${e.path}` })),
    ...r.changed.map((c) => ({ p: c.path, l: `M ${c.path} (${c.what.join(', ')})` })),
  ].sort((x, y) => (x.p < y.p ? -1 : 1));
  if (!all.length) lines.push('  no changes');
  for (const x of all) {
    lines.push(`  ${x.l}`);
    const c = r.content?.[x.p];
    if (c !== undefined) lines.push(...c.split('\n').map((l) => `      ${l}`));
  }
  return lines.join('\n');
}
