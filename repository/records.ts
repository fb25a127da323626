/**
 * Records: small encrypted JSON documents kept in the repository beside the recovery points —
 * drill results, disaster-recovery incident reports, consistency reports, audit entries. They
 * outlive Temporal's retention of closed workflows and are encrypted and authenticated like every
 * other object (type byte `record`, the object name bound into the AEAD).
 *
 * Layout: `records/<kind>/<id>`; `kind` and `id` are restricted to `[a-z0-9._-]` so a name can
 * never escape its folder. Prune never touches `records/`.
 */
import { openJson, sealJson } from './envelope';
import { MissingObjectError, InvalidArgumentError } from './errors';
import { V1, OBJECT_TYPES, recordObject, PATHS } from './format';
import type { RepoContext } from './context';

/** Record ids (recovery point ids fit): safe as one path segment on every backend. */
export const RECORD_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Record kinds: lowercase folder names. */
const RECORD_KIND_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** What every record carries besides its own body. */
export interface RecordEnvelope<T> {
  v: number;
  type: 'record';
  kind: string;
  id: string;
  /** ISO time the record was written. */
  time: string;
  body: T;
}

function check(what: 'kind' | 'id', v: string): void {
  const re = what === 'kind' ? RECORD_KIND_RE : RECORD_NAME_RE;
  if (!re.test(v)) throw new InvalidArgumentError(`record ${what}`, `must match ${re}, got ${JSON.stringify(v)}`);
}

export class Records {
  constructor(private readonly ctx: RepoContext) {}

  /**
   * Writes (or, with `overwrite`, replaces) one record. Idempotent for a retried activity: writing the
   * same kind/id again without `overwrite` returns false and leaves the first one.
   */
  async put<T>(kind: string, id: string, body: T, opts: { overwrite?: boolean } = {}): Promise<boolean> {
    check('kind', kind);
    check('id', id);
    const name = recordObject(kind, id);
    const doc: RecordEnvelope<T> = {
      v: V1,
      type: 'record',
      kind,
      id,
      time: new Date().toISOString(),
      body,
    };
    const blob = await sealJson(this.ctx.keys, OBJECT_TYPES.record, name, doc);
    const written = await this.ctx.backend.put(name, blob, { ifAbsent: !opts.overwrite });
    await this.ctx.backend.flush();
    return written;
  }

  /** One record, or undefined when there is none. A damaged record throws CorruptObjectError naming it. */
  async get<T>(kind: string, id: string): Promise<RecordEnvelope<T> | undefined> {
    check('kind', kind);
    check('id', id);
    const name = recordObject(kind, id);
    try {
      return await openJson<RecordEnvelope<T>>(
        this.ctx.keys,
        OBJECT_TYPES.record,
        name,
        await this.ctx.backend.get(name),
        'record',
      );
    } catch (e) {
      if (e instanceof MissingObjectError) return undefined;
      throw e;
    }
  }

  /** Ids of one kind, sorted ascending (name records with a sortable time prefix to list them in order). */
  async ids(kind: string): Promise<string[]> {
    check('kind', kind);
    const prefix = `${PATHS.records}${kind}/`;
    const out: string[] = [];
    for await (const key of this.ctx.backend.listKeys(prefix)) {
      const id = key.slice(prefix.length);
      if (RECORD_NAME_RE.test(id)) out.push(id);
    }
    return out.sort();
  }

  /**
   * Every record of one kind, ascending by id. A damaged record is reported in `damaged` (by object
   * name) and skipped, so one bad object never hides the others.
   */
  async list<T>(kind: string): Promise<{ records: RecordEnvelope<T>[]; damaged: { object: string; error: string }[] }> {
    const records: RecordEnvelope<T>[] = [];
    const damaged: { object: string; error: string }[] = [];
    for (const id of await this.ids(kind)) {
      try {
        const r = await this.get<T>(kind, id);
        if (r) records.push(r);
      } catch (e) {
        damaged.push({ object: recordObject(kind, id), error: (e as Error).message });
      }
    }
    return { records, damaged };
  }

  async delete(kind: string, id: string): Promise<void> {
    check('kind', kind);
    check('id', id);
    await this.ctx.backend.delete(recordObject(kind, id));
  }
}
