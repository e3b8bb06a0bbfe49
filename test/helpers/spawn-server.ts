// Spawning a throwaway server of a test's own (redis-server, caddy): its output kept for the error
// message when it will not start, and SIGKILLed when the test process exits without stopping it.
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';

export interface SpawnedServer {
  child: ChildProcess;
  /** The last 4000 characters it wrote (stdout and stderr). */
  output(): string;
  /** Set when the command could not be run at all (not installed). */
  spawnError(): Error | undefined;
  /** It has exited (or been killed). */
  exited(): boolean;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test that forgot destroy(), or a worker that is torn down, must not leave servers behind.
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

export function spawnServer(command: string, args: string[], options: SpawnOptions = {}): SpawnedServer {
  installExitHook();
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  running.add(child);
  child.once('exit', () => running.delete(child));
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  return {
    child,
    output: () => output,
    spawnError: () => spawnError,
    exited: () => child.exitCode !== null || child.signalCode !== null,
  };
}
