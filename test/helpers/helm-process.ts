// Helm as a real process (the same entry the owner runs), for kill -9 and signal tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

export interface HelmProcess {
  child: ChildProcess;
  output(): string;
  kill9(): Promise<void>;
  terminate(): Promise<number | null>;
}

export function spawnHelm(env: Record<string, string>): HelmProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  child.stderr?.on('data', (d) => {
    out += String(d);
  });
  const exited = once(child, 'exit') as Promise<[number | null]>;
  return {
    child,
    output: () => out,
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async terminate() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const [code] = await exited;
      return code;
    },
  };
}
