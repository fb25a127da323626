/**
 * One Lifeboat operation in its own process, for bench/anchors.ts (so its
 * peak RSS and time are those of the operation alone, as restic's are).
 *
 *   node --import tsx bench/anchors-lifeboat.ts init    <location.json>
 *   node --import tsx bench/anchors-lifeboat.ts backup  <location.json> <file> <ref-out.json>
 *   node --import tsx bench/anchors-lifeboat.ts restore <location.json> <ref.json> <out-file>
 *
 * Prints one JSON line: {"seconds": …, "maxRssMiB": …, "newBytes": …}.
 */
import { createReadStream, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { initRepository, openRepository, type RepositoryLocation, type WriteResult } from '../repository';

const PASSWORD = 'bench-password';

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [op, locFile, a, b] = process.argv.slice(2);
  const loc = JSON.parse(readFileSync(locFile, 'utf8')) as RepositoryLocation;
  const t0 = process.hrtime.bigint();
  let newBytes = 0;
  if (op === 'init') {
    await (await initRepository(loc, PASSWORD)).close();
  } else if (op === 'backup') {
    const repo = await openRepository(loc, PASSWORD);
    const r = await repo.writeArtifact(createReadStream(a, { highWaterMark: 1 << 20 }), {
      source: 'bench',
      kind: 'file',
      name: 'data',
    });
    await repo.commitRecoveryPoint({ artifacts: [r] });
    await repo.close();
    newBytes = r.written.newBytes;
    writeFileSync(b, JSON.stringify(r));
  } else if (op === 'restore') {
    const repo = await openRepository(loc, PASSWORD);
    const ref = JSON.parse(readFileSync(a, 'utf8')) as WriteResult;
    // readArtifact checks every chunk's id and the whole stream's sha256 (verified restore).
    await pipeline(repo.readArtifact(ref), createWriteStream(b));
    await repo.close();
  } else throw new Error(`unknown operation ${op}`);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ seconds, maxRssMiB: process.resourceUsage().maxRSS / 1024, newBytes }));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
