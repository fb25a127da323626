/**
 * Which test files need no server: those that do not reach test/harness/env.ts (the servers' addresses)
 * through their relative imports. Computed from the source, so a new test file is classified without
 * a list to keep up to date. `npm run test:unit` runs these, with no server started.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const IMPORT_RE = /(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
const ENV_MODULE = path.join(__dirname, 'env.ts');

function resolveTs(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  for (const c of [base, `${base}.ts`, path.join(base, 'index.ts')]) if (c.endsWith('.ts') && existsSync(c)) return c;
  return undefined;
}

/** Whether `file` (transitively, through relative imports) uses the servers of a test run. */
export function needsServers(file: string, memo = new Map<string, boolean>()): boolean {
  const abs = path.resolve(file);
  if (abs === ENV_MODULE) return true;
  const known = memo.get(abs);
  if (known !== undefined) return known;
  memo.set(abs, false); // import cycles: assume no until proven
  const src = readFileSync(abs, 'utf8');
  // A test that starts its own servers (test/servers/) or reads the run's env needs the harness too.
  let needs = src.includes('LIFEBOAT_TEST_ENV');
  for (const m of src.matchAll(IMPORT_RE)) {
    if (needs) break;
    const dep = resolveTs(abs, m[1] ?? m[2]);
    if (dep && (dep.includes(`${path.sep}test${path.sep}servers${path.sep}`) || needsServers(dep, memo))) needs = true;
  }
  memo.set(abs, needs);
  return needs;
}
