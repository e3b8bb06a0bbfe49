// Helm as a real process (the same entry the owner runs), for kill -9 and signal tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

export interface HelmProcess {
  child: ChildProcess;
  output(): string;
  kill9(): Promise<void>;
  terminate(): Promise<number | null>;
}

/**
 * Helm the way a container runs it: pid 1 of a pid namespace of its own (unshare; the namespace dies
 * with it), so that a restarted Helm has its dead predecessor's pid.
 */
export function spawnHelmInPidNamespace(env: Record<string, string>, entry?: string): HelmProcess {
  return spawnHelm(
    env,
    ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child', process.execPath],
    entry,
  );
}

/** `entry`: the script that starts Helm (the owner's src/main.ts, or a test's own, helm-crash-entry.ts). */
export function spawnHelm(
  env: Record<string, string>,
  command = [process.execPath],
  entry = 'src/main.ts',
): HelmProcess {
  const child = spawn(command[0]!, [...command.slice(1), '--import', 'tsx', entry], {
    env: { PATH: process.env.PATH ?? '', HELM_ADVISOR: 'off', HELM_HTTP_ADDR: 'off', ...env },
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
