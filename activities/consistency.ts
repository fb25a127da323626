import { statSync } from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import {
  resolveSecret,
  type ConsistencyLinkConfig,
  type LifeboatConfig,
  type RedisSourceConfig,
  type SourceConfig,
} from '../config';
import { checkLink, type LinkSpec } from '../consistency';
import { LifeboatError } from '../lib/errors';
import { CONSISTENCY_RECORD_KIND, type CheckConsistencyInput, type ConsistencyReport } from '../lib/consistency';
import type { RestoreTargetOverride } from '../lib/domain';
import type { RedisConnectionOptions } from '../sources/redis';
import { asActivity } from './failures';
import { withHeartbeat } from './heartbeat';
import type { RepositoryProvider } from './repository';
import type { ConsistencyActivities } from './types';

/** Links asked for by name that the config does not declare (or a FAISS folder without `file`). */
export class ConsistencyLinkError extends LifeboatError {
  constructor(message: string) {
    super(message, 'CONSISTENCY_LINK_UNKNOWN');
  }
}

const RECORD_ID = /[^A-Za-z0-9._-]+/g;

async function redisConn(s: RedisSourceConfig, o?: RestoreTargetOverride): Promise<RedisConnectionOptions> {
  const password = s.password ? await resolveSecret(s.password) : undefined;
  const base = { username: s.username, password, tls: s.tls };
  if (o?.redisUrl) return { ...base, url: o.redisUrl, tls: o.redisUrl.startsWith('rediss:') };
  if (s.cluster) return { ...base, cluster: s.cluster.map((n) => ({ host: n.host, port: n.port })) };
  return { ...base, url: s.url };
}

/** A link with every side resolved to where it is checked now (override or configured location). */
async function resolveLink(
  l: ConsistencyLinkConfig,
  config: LifeboatConfig,
  targets: Record<string, RestoreTargetOverride>,
): Promise<LinkSpec> {
  const source = <T extends SourceConfig['type']>(name: string, type: T) => {
    const s = config.sources.find((x) => x.name === name && x.type === type);
    if (!s) throw new ConsistencyLinkError(`link ${l.name} names ${type} source "${name}", which the config lacks`);
    return s as Extract<SourceConfig, { type: T }>;
  };
  const spec: LinkSpec = {
    name: l.name,
    examples: l.examples,
    ...(l.dimension !== undefined ? { dimension: l.dimension } : {}),
    ...(l.compare ? { compare: l.compare } : {}),
  };
  if (l.redis) {
    const s = source(l.redis.source, 'redis');
    const o = targets[s.name];
    const db = o?.redisDb ?? l.redis.db;
    const where = `${o?.redisUrl ?? s.url ?? `cluster ${s.cluster?.map((n) => `${n.host}:${n.port}`).join(',')}`}/${db} keys ${l.redis.pattern}`;
    spec.redis = {
      source: s.name,
      where,
      conn: await redisConn(s, o),
      spec: {
        pattern: l.redis.pattern,
        prefixLatin1: Buffer.from(l.redis.prefix, 'utf8').toString('latin1'),
        db,
        id: l.redis.id,
      },
    };
  }
  if (l.faiss) {
    const s = source(l.faiss.source, 'faiss');
    const base = targets[s.name]?.path ?? s.path;
    let file = l.faiss.file ? path.join(base, l.faiss.file) : base;
    if (!l.faiss.file) {
      let dir = false;
      try {
        dir = statSync(base).isDirectory();
      } catch {
        // Missing: the reader names it (FaissFileNotFoundError).
      }
      if (dir)
        throw new ConsistencyLinkError(
          `link ${l.name}: FAISS source "${s.name}" is a folder (${base}); name the link's index file with faiss.file`,
        );
      file = base;
    }
    spec.faiss = { source: s.name, file, ids: l.faiss.ids };
  }
  if (l.qdrant) {
    const s = source(l.qdrant.source, 'qdrant');
    const collection = targets[s.name]?.collection ?? l.qdrant.collection;
    spec.qdrant = {
      source: s.name,
      where: `${s.url}/collections/${collection}`,
      conn: { url: s.url, apiKey: s.apiKey ? await resolveSecret(s.apiKey) : undefined },
      collection,
      id: l.qdrant.id,
      ...(l.qdrant.vector !== undefined ? { vector: l.qdrant.vector } : {}),
    };
  }
  return spec;
}

/** The links an input selects; unknown names fail with the known ones listed. */
export function selectLinks(config: LifeboatConfig, input: CheckConsistencyInput): readonly ConsistencyLinkConfig[] {
  const all = config.consistency?.links ?? [];
  let links = all;
  if (input.links?.length) {
    const unknown = input.links.filter((n) => !all.some((l) => l.name === n));
    if (unknown.length)
      throw new ConsistencyLinkError(
        `unknown consistency link${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}; ${all.length ? `configured links: ${all.map((l) => l.name).join(', ')}` : 'the config declares none (consistency.links, docs/consistency.md)'}`,
      );
    links = all.filter((l) => input.links!.includes(l.name));
  }
  if (input.sources?.length) {
    const touched = new Set(input.sources);
    const sides = (l: ConsistencyLinkConfig) => [l.redis, l.faiss, l.qdrant].filter((x) => x !== undefined);
    links =
      input.sourcesMatch === 'all'
        ? links.filter((l) => sides(l).every((side) => touched.has(side.source)))
        : links.filter((l) => sides(l).some((side) => touched.has(side.source)));
  }
  return links;
}

export function createConsistencyActivities(deps: {
  config: LifeboatConfig;
  repositories: RepositoryProvider;
}): ConsistencyActivities {
  const { config } = deps;
  return {
    checkConsistency: (input) =>
      asActivity(() =>
        withHeartbeat('consistency check', async (hb) => {
          const started = Date.now();
          const links = selectLinks(config, input);
          const targets = input.targets ?? {};
          const specs = [];
          for (const l of links) specs.push(await resolveLink(l, config, targets));
          const reports = [];
          for (const spec of specs)
            reports.push(
              await checkLink(spec, {
                scratchDir: config.worker.scratchDir,
                signal: hb.signal,
                onProgress: (p) => hb.onProgress({ ...p, label: `link ${spec.name}` } as typeof p),
              }),
            );
          const info = Context.current().info;
          // Stable across retries of this activity (same run, same activity id): a retry replaces its record.
          const id = (
            input.operation
              ? `${input.operation.kind}-${input.operation.id}`
              : `check-${(info.workflowExecution?.runId ?? String(Date.now())).replace(/-/g, '').slice(-12)}-${info.activityId}`
          )
            .replace(RECORD_ID, '-')
            .slice(0, 128);
          const report: ConsistencyReport = {
            id,
            ok: reports.every((r) => r.ok),
            time: new Date(started).toISOString(),
            ...(input.operation ? { operation: input.operation } : {}),
            ...(Object.keys(targets).length ? { targets } : {}),
            links: reports,
            problems: reports.flatMap((r) => r.problems.map((p) => `${r.link}: ${p}`)),
            durationMs: Date.now() - started,
            ...(links.length
              ? {}
              : {
                  note: input.sources?.length
                    ? `no consistency link touches ${input.sources.join(', ')}`
                    : 'the config declares no consistency links',
                }),
          };
          const repo = await deps.repositories.get();
          await repo.records.put(CONSISTENCY_RECORD_KIND, id, report, { overwrite: true });
          return report;
        }),
      ),
  };
}
