/** Appends N audit entries to a repository from its own process (test/security/audit.test.ts, concurrency). */
import { openRepository } from '../../repository';

async function main(): Promise<void> {
  const [url, password, n, tag] = process.argv.slice(2);
  const repo = await openRepository({ url }, password);
  try {
    for (let i = 0; i < Number(n); i++)
      await repo.audit.append({ operation: 'test.append', outcome: 'success', summary: `${tag}-${i}` });
  } finally {
    await repo.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
