/**
 * Repository benchmark (npm run bench:repo): write throughput of a 1 GB stream
 * to a local disk and to MinIO, read-back throughput, dedup ratio of a second
 * backup after 1% of the bytes changed, and peak memory.
 *
 *   npm run bench:repo                      # 1 GiB, local + MinIO
 *   npm run bench:repo -- --size 256        # MiB
 *   npm run bench:repo -- --only local      # or minio
 *   npm run bench:repo -- --json            # also print the figures as JSON
 *
 * Besides wall-clock MB/s it reports CPU per MB, for the whole process and for
 * the JS thread alone, so the figures mean something on a shared machine.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMinio } from '../test/servers/minio';
import { initRepository, type Repository, type RepositoryLocation, type WriteResult } from '../repository';

const MiB = 1024 * 1024;

interface Args {
  sizeMiB: number;
  only?: 'local' | 'minio';
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { sizeMiB: 1024, json: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--size') a.sizeMiB = Number(argv[++i]);
    else if (k === '--only') a.only = argv[++i] as Args['only'];
    else if (k === '--json') a.json = true;
    else if (k === '--help' || k === '-h') {
      console.log('usage: npm run bench:repo -- [--size MiB] [--only local|minio] [--json]');
      process.exit(0);
    } else throw new Error(`unknown argument ${k} (try --help)`);
  }
  if (!Number.isInteger(a.sizeMiB) || a.sizeMiB < 16) throw new Error('--size must be an integer >= 16 (MiB)');
  if (a.only && a.only !== 'local' && a.only !== 'minio') throw new Error('--only must be local or minio');
  return a;
}

/**
 * Incompressible, non-repeating bytes at near-memcpy cost (AES-CTR keystream,
 * native). With `changed`, the 1% of bytes starting in the middle come from
 * another keystream: "1% of the bytes changed in the middle".
 */
async function* stream(size: number, seed: string, changed = false): AsyncGenerator<Buffer> {
  const ks = (s: string) =>
    createCipheriv('aes-128-ctr', createHash('sha256').update(s).digest().subarray(0, 16), Buffer.alloc(16));
  const main = ks(seed);
  const patch = ks(`${seed}/patch`);
  const from = Math.floor(size / 2);
  const to = from + Math.floor(size / 100);
  const zeros = Buffer.alloc(MiB);
  for (let off = 0; off < size; off += MiB) {
    const n = Math.min(MiB, size - off);
    const piece = main.update(zeros.subarray(0, n));
    if (changed && off + n > from && off < to) {
      const a = Math.max(from, off) - off;
      const b = Math.min(to, off + n) - off;
      patch.update(zeros.subarray(0, b - a)).copy(piece, a);
    }
    yield piece;
  }
}

/** CPU ms of the JS (main) thread, from /proc (Linux). */
function jsThreadCpuMs(): number {
  try {
    const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * (1000 / 100);
  } catch {
    return NaN;
  }
}

interface Phase {
  backend: string;
  phase: string;
  mb: number;
  seconds: number;
  mbPerS: number;
  cpuMsPerMB: number;
  jsThreadMsPerMB: number;
  maxRssMiB: number;
  note: string;
}

async function measure(backend: string, phase: string, bytes: number, fn: () => Promise<string>): Promise<Phase> {
  const c0 = process.cpuUsage();
  const j0 = jsThreadCpuMs();
  const t0 = process.hrtime.bigint();
  const note = await fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  const mb = bytes / 1e6;
  return {
    backend,
    phase,
    mb,
    seconds,
    mbPerS: mb / seconds,
    cpuMsPerMB: (cpu.user + cpu.system) / 1000 / mb,
    jsThreadMsPerMB: (jsThreadCpuMs() - j0) / mb,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    note,
  };
}

async function runOn(backend: string, loc: RepositoryLocation, size: number): Promise<Phase[]> {
  const repo: Repository = await initRepository(loc, 'bench-password');
  const out: Phase[] = [];
  try {
    let first!: WriteResult;
    out.push(
      await measure(backend, `write ${size / MiB} MiB`, size, async () => {
        first = await repo.writeArtifact(stream(size, 'bench'), { source: 'bench', kind: 'random', name: 'v1' });
        return `${first.chunks} chunks, avg ${(first.size / Math.max(1, first.chunks) / 1024).toFixed(0)} KiB`;
      }),
    );
    await repo.commitRecoveryPoint({ artifacts: [first] });
    out.push(
      await measure(backend, 'read back', size, async () => {
        const h = createHash('sha256');
        for await (const b of repo.readArtifact(first)) h.update(b);
        if (h.digest('hex') !== first.sha256) throw new Error('read-back sha256 differs');
        return 'sha256 verified';
      }),
    );
    const before = await repo.stats();
    let second!: WriteResult;
    out.push(
      await measure(backend, '2nd write, 1% changed', size, async () => {
        second = await repo.writeArtifact(stream(size, 'bench', true), { source: 'bench', kind: 'random', name: 'v2' });
        const after = await repo.stats();
        const stored = after.bytes - before.bytes;
        return `new ${((100 * second.written.newBytes) / size).toFixed(2)}% (${second.written.newChunks} chunks), stored +${((100 * stored) / size).toFixed(2)}%, dedup ratio ${(size / Math.max(1, stored)).toFixed(1)}:1`;
      }),
    );
    await repo.commitRecoveryPoint({ artifacts: [second] });
  } finally {
    await repo.close();
  }
  return out;
}

function table(rows: Phase[]): string {
  const head = [
    'backend',
    'phase',
    'MB/s',
    'seconds',
    'CPU ms/MB',
    'JS-thread ms/MB',
    'JS-thread MB/s',
    'max RSS MiB',
    'notes',
  ];
  const body = rows.map((r) => [
    r.backend,
    r.phase,
    r.mbPerS.toFixed(0),
    r.seconds.toFixed(1),
    r.cpuMsPerMB.toFixed(2),
    r.jsThreadMsPerMB.toFixed(2),
    (1000 / r.jsThreadMsPerMB).toFixed(0),
    r.maxRssMiB.toFixed(0),
    r.note,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i >= 2 && i <= 7 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  return [
    line(head),
    `|${widths.map((w, i) => (i >= 2 && i <= 7 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`,
    ...body.map(line),
  ].join('\n');
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const args = parseArgs(process.argv.slice(2));
  const size = args.sizeMiB * MiB;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-bench-'));
  const load0 = os.loadavg()[0];
  const rows: Phase[] = [];
  let stopMinio: (() => Promise<void>) | undefined;
  try {
    if (args.only !== 'minio') rows.push(...(await runOn('local disk', { url: path.join(tmp, 'local-repo') }, size)));
    if (args.only !== 'local') {
      const m = await startMinio(path.join(tmp, 'minio'));
      stopMinio = m.stop;
      const s3 = {
        endpoint: m.endpoint,
        region: m.region,
        forcePathStyle: true,
        credentials: { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey },
      };
      rows.push(...(await runOn('MinIO (loopback)', { url: `s3://${m.bucket}/bench`, s3 }, size)));
    }
  } finally {
    await stopMinio?.();
    rmSync(tmp, { recursive: true, force: true });
  }
  const cpus = os.cpus();
  console.log(`\nLifeboat repository benchmark: ${args.sizeMiB} MiB of incompressible data per write`);
  console.log(
    `machine: ${cpus.length} x ${cpus[0]?.model ?? 'cpu'}, node ${process.version}, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}, load average ${load0.toFixed(1)} -> ${os.loadavg()[0].toFixed(1)}\n`,
  );
  console.log(table(rows));
  console.log(
    `\nCPU ms/MB: whole process, all threads (compression and I/O run on libuv threads). JS-thread MB/s: throughput per second of JS-thread CPU.`,
  );
  console.log(
    `Peak RSS over the whole run: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (the data written was ${2 * args.sizeMiB * (args.only ? 1 : 2)} MiB).`,
  );
  if (args.json) console.log(JSON.stringify({ sizeMiB: args.sizeMiB, rows }, null, 2));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
