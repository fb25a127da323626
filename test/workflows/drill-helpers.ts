/** What the drill tests check after a drill: nothing of it is left running or lying around. */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import type { QdrantClient } from '@qdrant/js-client-rest';
import type { LifeboatConfig } from '../../config';
import { DRILL_RECORD_KIND, drillCollectionPrefix, type DrillRecord } from '../../lib/drill';
import { openConfiguredRepository } from '../../runtime/configured-repository';

/** Every process whose command line or working directory mentions `needle`. */
export function processesMentioning(needle: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      // A redis-server runs in its --dir: its working directory tells too.
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cmd.includes(needle) || cwd.includes(needle)) out.push(`${pid}: ${cmd} (in ${cwd})`);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** The loopback ports of a drill's throw-away redis-servers, from its record's targets. */
export const scratchRedisPorts = (r: DrillRecord): number[] =>
  r.sources
    .filter((s) => s.type === 'redis')
    .flatMap((s) => [...s.target.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1])));

export const drillDir = (config: LifeboatConfig, drillId: string) =>
  path.join(config.worker.scratchDir, 'drills', drillId);

/** Temporary collections of a drill still on the Qdrant server. */
export async function drillCollections(qdrant: QdrantClient, drillId: string): Promise<string[]> {
  const { collections } = await qdrant.getCollections();
  return collections.map((c) => c.name).filter((n) => n.startsWith(drillCollectionPrefix(drillId)));
}

/** Nothing of the drill is left: no process, no folder, no temporary collection. */
export async function assertNothingLeft(
  config: LifeboatConfig,
  drillId: string,
  opts: { ports?: number[]; qdrant?: QdrantClient } = {},
) {
  const dir = drillDir(config, drillId);
  assert.equal(existsSync(dir), false, `scratch folder ${dir} was removed`);
  assert.deepEqual(processesMentioning(dir), [], 'no process of the drill is left running');
  // redis-server retitles itself "redis-server 127.0.0.1:<port>": look for the scratch port too.
  for (const port of opts.ports ?? [])
    assert.deepEqual(processesMentioning(`127.0.0.1:${port}`), [], `no scratch redis-server on port ${port}`);
  if (opts.qdrant)
    assert.deepEqual(await drillCollections(opts.qdrant, drillId), [], 'no temporary collection is left');
}

export async function storedDrillRecord(config: LifeboatConfig, drillId: string): Promise<DrillRecord | undefined> {
  const repo = await openConfiguredRepository(config);
  try {
    return (await repo.records.get<DrillRecord>(DRILL_RECORD_KIND, drillId))?.body;
  } finally {
    await repo.close();
  }
}
