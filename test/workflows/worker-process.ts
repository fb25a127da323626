import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../servers/tools';

/** A `lifeboat worker` in its own process, so a test can SIGKILL it like a crashed machine. */
export interface WorkerProcess {
  child: ChildProcess;
  log: string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function spawnWorker(configFile: string, env: Record<string, string>, logFile: string): WorkerProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(projectRoot, 'client', 'cli.ts'), 'worker', '--config', configFile],
    {
      cwd: projectRoot,
      env: { ...process.env, ...env, LIFEBOAT_LOG_LEVEL: 'WARN' },
      stdio: ['ignore', fd, fd],
    },
  );
  closeSync(fd);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    log: logFile,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export const readLog = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};
