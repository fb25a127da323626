import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { systemToolPath } from '../test/servers/tools';

/** Runs redis-cli with stdin from a file; resolves with the wall time in ms. */
export function redisCli(args: string[], stdinFile?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const fd = stdinFile ? openSync(stdinFile, 'r') : 'ignore';
    const t0 = performance.now();
    const child = spawn(systemToolPath('redis-cli'), args, { stdio: [fd, 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (typeof fd === 'number') closeSync(fd);
      const ms = performance.now() - t0;
      if (code !== 0 || /errors: [1-9]/.test(out))
        reject(new Error(`redis-cli ${args.join(' ')} failed (${code}): ${out.slice(-500)}`));
      else resolve(ms);
    });
  });
}
