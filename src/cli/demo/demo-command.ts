import { createInterface } from 'node:readline';
import Dockerode from 'dockerode';
import type { Config } from '../../config/config.js';
import { redactUrl } from '../../bus/redis-connection.js';
import { dockerOptions } from '../../docker/dockerode-connection.js';
import { withCommandRedis } from '../cli-redis.js';
import { CliError, jsonDocument, oneLine, type VerbOutput } from '../output.js';
import { findBusybox } from './demo-image.js';
import { demoNames, demoPlanText } from './demo-names.js';
import { type DemoCleanup, DemoRun } from './demo-run.js';
import type { DemoStep } from './demo-steps.js';

/**
 * `helm demo [--yes] [--json]`: checks that Docker and Redis answer (one line and exit 1 otherwise),
 * asks once (unless --yes), runs the walk-through (demo-run.ts) and always cleans up, Ctrl-C
 * included. People see each step as it ends; --json prints one document at the end:
 * `{ ok, run, steps: [{ step, ok, summary, details }], cleanup }`.
 */
export interface DemoCommandOptions {
  yes: boolean;
  json: boolean;
  /** Writes a line for people (stdout); unused with --json. */
  say: (text: string) => void;
  /** Asks a yes/no question; the answer. */
  confirm: (question: string) => Promise<boolean>;
  /**
   * Without --yes, at a terminal: waits for Enter before cleaning up, so that the newcomer can open
   * the status page while the demo's Helm still serves it. Absent: no pause.
   */
  pause?: (message: string) => Promise<void>;
}

export async function demoCommand(owner: Readonly<Config>, opts: DemoCommandOptions): Promise<VerbOutput> {
  const docker = new Dockerode(dockerOptions(owner.dockerHost));
  await docker.ping().catch((err: Error) => {
    throw new CliError(
      'docker_unavailable',
      `Docker at ${owner.dockerHost ?? '/var/run/docker.sock'} does not answer (${err.message}): helm demo needs a Docker engine`,
    );
  });
  await withCommandRedis(owner.redisUrl, 'helm-demo', (r) => r.ping());
  const busybox = await findBusybox();
  const names = demoNames();
  if (!opts.yes && !(await opts.confirm(`${demoPlanText(names, redactUrl(owner.redisUrl))}\nGo on? [y/N] `)))
    throw new CliError('declined', 'not started, nothing was created (helm demo --yes skips the question)');

  const run = new DemoRun(owner, docker, names, busybox);
  const interrupted = (signal: NodeJS.Signals) => {
    if (!opts.json) opts.say(`\n${signal}: cleaning up what the demo created…`);
    void run.cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  let steps: DemoStep[] = [];
  let cleanup: DemoCleanup;
  try {
    if (!opts.json) opts.say(`helm demo (run ${names.run}): a tour of what Helm does, on your own Docker\n`);
    steps = await run.walk((s) => {
      if (!opts.json) opts.say(describeStep(s));
    });
    const page = steps.find((s) => s.step === 'status_page' && s.ok)?.details['url'];
    if (!opts.yes && opts.pause && typeof page === 'string')
      await opts.pause(`\nOpen ${page} now to look around; press Enter to remove everything the demo made. `);
  } finally {
    cleanup = await run.cleanup();
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
  return demoOutput(names.run, steps, cleanup, opts.json);
}

function describeStep(s: DemoStep): string {
  return `${s.ok ? 'ok  ' : 'FAIL'} ${s.step.replace(/_/g, ' ')}: ${s.summary}`;
}

/** What the verb prints: the document (--json) or the cleanup line; exit 0 only when every step passed. */
export function demoOutput(run: string, steps: DemoStep[], cleanup: DemoCleanup, json: boolean): VerbOutput {
  const ok = steps.length > 0 && steps.every((s) => s.ok) && cleanup.problems.length === 0;
  const failed = steps.find((s) => !s.ok);
  const cleaned = `cleaned up: ${cleanup.containers} containers, ${cleanup.images} images, ${cleanup.redis_keys} Redis keys, the temporary folder${cleanup.problems.length ? `; NOT cleaned: ${cleanup.problems.join('; ')}` : ''}`;
  const stderr = ok
    ? ''
    : `helm: ${oneLine(failed ? `demo failed at ${failed.step}: ${failed.summary}` : `demo cleanup incomplete: ${cleanup.problems.join('; ')}`)}\n`;
  if (json) return { stdout: jsonDocument({ ok, run, steps, cleanup }), stderr, exitCode: ok ? 0 : 1 };
  const next = ok
    ? "\nThat was Helm. Run your own with `bash scripts/up.sh`; `npm run helm -- --help` lists the owner's commands.\n"
    : '';
  return { stdout: `${cleaned}\n${next}`, stderr, exitCode: ok ? 0 : 1 };
}

/** Waits for Enter (or the end of input). */
export async function pauseOnTerminal(message: string): Promise<void> {
  await askOnTerminal(message);
}

/**
 * One yes/no question on the terminal (stderr, so stdout stays the verb's). The end of input and
 * Ctrl-C at the question are no (readline takes Ctrl-C from a terminal: without a listener it only
 * pauses).
 */
export function askOnTerminal(question: string): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    let answered = false;
    rl.on('SIGINT', () => rl.close());
    rl.on('close', () => {
      // Typed input ends its own line; piped input (or none) does not.
      if (!process.stdin.isTTY || !answered) process.stderr.write('\n');
      if (!answered) resolve(false);
    });
    rl.question(question, (answer) => {
      answered = true;
      rl.close();
      resolve(/^y(es)?$/i.test(answer.trim()));
    });
  });
}
