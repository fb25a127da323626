/**
 * The audit trail: an append-only, hash-chained log of every operation, kept in the repository as
 * records `records/audit/<seq>` (docs/repository-format.md, "Audit trail").
 *
 * Each entry is a record (AES-256-GCM, its name bound into the AEAD, so it cannot be read, edited
 * or moved without the key) and also carries `prev`, the MAC of the entry before it, and its own
 * `mac` (HMAC-SHA256 under a key derived from the master key). So beyond what the AEAD gives, the
 * chain detects an entry removed from the middle (a gap in the sequence, and the next `prev` does
 * not match), entries swapped or reordered (their names no longer authenticate), and an entry
 * rewritten by someone holding the key (its MAC, or the next entry's `prev`, no longer matches)
 * unless they rewrite every later entry too — which is why Object Lock or an external copy of the
 * head MAC (`lifeboat audit --verify` prints it) anchors the end of the chain.
 *
 * Appends from several processes are serialised by compare-and-swap: entry n+1 is written with
 * create-if-absent (`link()` on a local disk, `If-None-Match: *` on S3); the loser of a race
 * re-reads the tail and tries again, so the chain never forks.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import os from 'node:os';
import type { RepoContext } from './context';
import { AuditChainBrokenError, CorruptObjectError, InvalidArgumentError } from './errors';
import { PATHS, recordObject } from './format';
import { osUser } from './keys';
import { Records } from './records';

export const AUDIT_RECORD_KIND = 'audit';
/** `prev` of the first entry. */
export const AUDIT_GENESIS = '0'.repeat(64);
const SEQ_DIGITS = 12;
const SEQ_RE = /^\d{12}$/;
/** How many recent entries a dedupKey is looked for in. */
const DEDUP_WINDOW = 16;

export type AuditOutcome = 'success' | 'failure' | 'cancelled' | 'refused';

/** Who did it. */
export interface AuditActor {
  /** OS user of the process that appended the entry (the worker's user for workflow operations). */
  user: string;
  host: string;
  /** The Temporal workflow of the operation, when it ran as one. */
  workflowId?: string;
  /** The person who approved (DR approve/reject/abort name one). */
  approver?: string;
}

/** What a caller appends; `who.user`/`who.host` default to this process. */
export interface AuditEntryInput {
  /** e.g. backup, restore, verify, drill, prune, dr, forget, hold, unhold, key.add, key.remove, key.passwd, schedules.apply, dr.approve */
  operation: string;
  outcome: AuditOutcome;
  sources?: string[];
  points?: string[];
  summary?: string;
  who?: Partial<AuditActor>;
  /** Small JSON facts (never secrets). */
  details?: Record<string, unknown>;
  /**
   * Idempotency: when one of the last entries carries the same key, append returns it instead of
   * writing another (a retried activity reports once).
   */
  dedupKey?: string;
}

export interface AuditEntry {
  seq: number;
  time: string;
  operation: string;
  outcome: AuditOutcome;
  sources: string[];
  points: string[];
  summary: string;
  who: AuditActor;
  details: Record<string, unknown>;
  dedupKey?: string;
  /** MAC of the previous entry (AUDIT_GENESIS for the first). */
  prev: string;
  /** HMAC-SHA256 of this entry (every field but `mac`, canonical JSON) chained through `prev`. */
  mac: string;
}

export interface AuditVerifyReport {
  ok: boolean;
  entries: number;
  /** The last good entry: record its seq and MAC elsewhere to detect a truncated tail later. */
  head?: { seq: number; mac: string };
  /** The first entry that breaks the chain. */
  broken?: { entry: string; seq: number; problem: string };
}

/** JSON with object keys sorted at every level: the MAC input must not depend on key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

export const auditEntryId = (seq: number) => String(seq).padStart(SEQ_DIGITS, '0');

export class AuditLog {
  private readonly records: Records;
  private readonly macKey: Buffer;

  constructor(ctx: RepoContext) {
    this.records = new Records(ctx);
    // A key of its own (derived, not the id key itself), so audit MACs can never collide with chunk ids.
    this.macKey = createHmac('sha256', ctx.keys.idKey).update('lifeboat-audit-mac/v1').digest();
  }

  private macOf(e: Omit<AuditEntry, 'mac'>): string {
    return createHmac('sha256', this.macKey).update(canonical(e)).digest('hex');
  }

  private async seqs(): Promise<number[]> {
    return (await this.records.ids(AUDIT_RECORD_KIND)).filter((id) => SEQ_RE.test(id)).map(Number);
  }

  /**
   * Appends one entry at the end of the chain. Safe against concurrent appenders (see the module
   * comment). If the tail cannot be read (damaged), the new entry chains to nothing (`prev` =
   * AUDIT_GENESIS): the log keeps recording, and verify still reports the damage.
   */
  async append(input: AuditEntryInput, opts: { attempts?: number } = {}): Promise<AuditEntry> {
    if (!input.operation || typeof input.operation !== 'string')
      throw new InvalidArgumentError('audit operation', 'must be a non-empty string');
    const attempts = opts.attempts ?? 50;
    for (let attempt = 1; ; attempt++) {
      const seqs = await this.seqs();
      const last = seqs.length ? Math.max(...seqs) : 0;
      let prev = AUDIT_GENESIS;
      if (last) {
        const tail = await this.records.get<AuditEntry>(AUDIT_RECORD_KIND, auditEntryId(last)).catch(() => undefined);
        if (tail && typeof tail.body?.mac === 'string') prev = tail.body.mac;
        if (input.dedupKey) {
          if (tail?.body.dedupKey === input.dedupKey) return tail.body;
          for (let s = last - 1; s > 0 && s > last - DEDUP_WINDOW; s--) {
            const e = await this.records.get<AuditEntry>(AUDIT_RECORD_KIND, auditEntryId(s)).catch(() => undefined);
            if (e?.body.dedupKey === input.dedupKey) return e.body;
          }
        }
      }
      const body: Omit<AuditEntry, 'mac'> = {
        seq: last + 1,
        time: new Date().toISOString(),
        operation: input.operation,
        outcome: input.outcome,
        sources: input.sources ?? [],
        points: input.points ?? [],
        summary: input.summary ?? '',
        who: {
          user: input.who?.user ?? osUser(),
          host: input.who?.host ?? os.hostname(),
          ...(input.who?.workflowId ? { workflowId: input.who.workflowId } : {}),
          ...(input.who?.approver ? { approver: input.who.approver } : {}),
        },
        details: input.details ?? {},
        ...(input.dedupKey ? { dedupKey: input.dedupKey } : {}),
        prev,
      };
      const entry: AuditEntry = { ...body, mac: this.macOf(body) };
      if (await this.records.put(AUDIT_RECORD_KIND, auditEntryId(entry.seq), entry)) return entry;
      // Another process appended seq first: read the new tail and chain to it.
      if (attempt >= attempts)
        throw new InvalidArgumentError('audit append', `lost the race for the next entry ${attempts} times; try again`);
      await new Promise((r) => setTimeout(r, Math.random() * 20 * Math.min(attempt, 10)));
    }
  }

  /** Entries in chain order, optionally from `since` on. Damaged entries are left out (verify names them). */
  async list(opts: { since?: Date } = {}): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    for (const seq of (await this.seqs()).sort((a, b) => a - b)) {
      const r = await this.records.get<AuditEntry>(AUDIT_RECORD_KIND, auditEntryId(seq)).catch(() => undefined);
      if (!r) continue;
      if (opts.since && Date.parse(r.body.time) < opts.since.getTime()) continue;
      out.push(r.body);
    }
    return out;
  }

  /** Walks the whole chain; names the first entry that is missing, damaged, moved or does not chain. */
  async verify(): Promise<AuditVerifyReport> {
    const seqs = (await this.seqs()).sort((a, b) => a - b);
    let prev = AUDIT_GENESIS;
    let head: AuditVerifyReport['head'];
    const broken = (seq: number, problem: string): AuditVerifyReport => ({
      ok: false,
      entries: seqs.length,
      ...(head ? { head } : {}),
      broken: { entry: recordObject(AUDIT_RECORD_KIND, auditEntryId(seq)), seq, problem },
    });
    for (let i = 0; i < seqs.length; i++) {
      const expected = i + 1;
      if (seqs[i] !== expected)
        return broken(expected, `entry ${expected} is missing (removed): the log jumps from ${i} to ${seqs[i]}`);
      let doc;
      try {
        doc = await this.records.get<AuditEntry>(AUDIT_RECORD_KIND, auditEntryId(expected));
      } catch (e) {
        const why = e instanceof CorruptObjectError ? e.reason : (e as Error).message;
        return broken(expected, `entry does not authenticate (edited, or moved from another name): ${why}`);
      }
      if (!doc) return broken(expected, 'entry is missing (removed during the check)');
      const { mac, ...rest } = doc.body;
      if (rest.seq !== expected)
        return broken(expected, `entry claims to be number ${rest.seq} (reordered or replayed)`);
      if (typeof mac !== 'string' || !/^[0-9a-f]{64}$/.test(mac)) return broken(expected, 'entry has no MAC');
      const want = this.macOf(rest);
      if (!timingSafeEqual(Buffer.from(want, 'hex'), Buffer.from(mac, 'hex')))
        return broken(expected, 'entry MAC does not match its content (edited)');
      if (rest.prev !== prev)
        return broken(
          expected,
          `entry does not chain to entry ${expected - 1} (its prev MAC differs): an entry before it was removed, replaced or edited`,
        );
      prev = mac;
      head = { seq: expected, mac };
    }
    return { ok: true, entries: seqs.length, ...(head ? { head } : {}) };
  }

  /** verify(), throwing AuditChainBrokenError naming the first bad entry. */
  async verifyOrThrow(): Promise<AuditVerifyReport> {
    const r = await this.verify();
    if (r.broken) throw new AuditChainBrokenError(r.broken.entry, r.broken.problem);
    return r;
  }
}

/** Record ids under records/audit/ (for docs and tests). */
export const AUDIT_PREFIX = `${PATHS.records}${AUDIT_RECORD_KIND}/`;
