#!/usr/bin/env node
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from '../config/config.js';
import { deriveKey, loadOrCreateHelmKey } from '../keys/helm-key.js';
import { mergeRunLogs } from '../runlog/index.js';
import { HELM_VERSION } from '../base/version.js';
import { askInPlainWords, describeAnswer } from './ask-command.js';
import { decideCommand } from './decide-wait.js';
import { askOnTerminal, demoCommand, pauseOnTerminal } from './demo/demo-command.js';
import { describeDoctor, runDoctor } from './doctor.js';
import { describeLog } from './log-command.js';
import { CliError, describeFailure, jsonDocument, type VerbOutput } from './output.js';
import { startProgress } from './progress.js';
import { describeCancel, describePending, cancelPending, listPending } from './pending-command.js';
import { describeKeyFiles, generateKeyFiles, keyFilesJson } from './keys-command.js';
import { describeReleases, listReleases } from './releases-command.js';
import { sendRequest } from './request-command.js';
import { describeActionResult, runReadCommand } from './status-command.js';

const JSON_HELP = 'one JSON document on stdout (an error too: { "error": { "code", "message" } })';

/** The owner's command line. Every command reads the same environment as Helm itself. */
const program = new Command()
  .name('helm')
  .description("Helm, Ghost's SRE/deploy agent: the owner's tools")
  .version(HELM_VERSION)
  // Commander's own errors (a missing argument, a bad option) reach the catch at the bottom, so that
  // --json gets its error document there too; subcommands inherit this.
  .exitOverride();

program
  .command('doctor')
  .description(
    'check Redis, Docker, the run log, disk space, the heartbeat and the queues other agents consume',
  )
  .option('--json', JSON_HELP, false)
  .action((opts: { json: boolean }) =>
    report(opts.json, async () => describeDoctor(await runDoctor(config()), opts.json)),
  );

program
  .command('log')
  .description("print the run log (every process's file, merged by time) and verify its chain")
  .option('--verify', 'only verify; print problems', false)
  .option('--json', JSON_HELP, false)
  .action((opts: { verify: boolean; json: boolean }) =>
    report(opts.json, async () => {
      const cfg = config();
      const key = deriveKey(await loadOrCreateHelmKey(cfg.memoryDir), 'run-log');
      return describeLog(await mergeRunLogs(cfg.memoryDir, key), opts);
    }),
  );

program
  .command('request')
  .description('send an action request to helm.actions and wait for its final result')
  .argument(
    '<action>',
    'deploy, restart, stop, scale, health_check, logs, rollback, remove, set_env, prune, status, stats',
  )
  .argument('<target>', 'service or container')
  .requiredOption('-e, --environment <environment>', 'production, staging or dev')
  .requiredOption('-r, --reason <reason>', 'why')
  .option('--request-id <id>', 'a request_id, to make the request idempotent')
  .option('--params <json>', 'the action params as JSON', parseJson)
  .option('--timeout <seconds>', 'how long to wait', (v) => Number(v), 120)
  .option('--json', `the final result on one line; ${JSON_HELP}`, false)
  .action(
    (
      action: string,
      target: string,
      opts: {
        environment: string;
        reason: string;
        requestId?: string;
        params?: unknown;
        timeout: number;
        json: boolean;
      },
    ) =>
      report(opts.json, async () => {
        const request = {
          action,
          target,
          environment: opts.environment,
          reason: opts.reason,
          requested_by: 'owner-cli',
          ...(opts.requestId ? { request_id: opts.requestId } : {}),
          ...(opts.params !== undefined ? { params: opts.params } : {}),
        };
        const progress = startProgress({
          label: `${action} ${target}: waiting`,
          terminal: onTerminal(),
          write: (text) => void process.stderr.write(text),
        });
        try {
          const result = await sendRequest(config(), request, {
            timeoutMs: opts.timeout * 1000,
            onProgress: progress.update,
          });
          return describeActionResult('request', result as Record<string, unknown>, opts.json);
        } finally {
          progress.stop();
        }
      }),
  );

program
  .command('ask')
  .description(
    'a request in plain words on helm.requests: the advisor derives the requests (each gated); a plan touching several services is only shown unless --submit',
  )
  .argument('<text>', 'what to do, e.g. "roll back web in staging"')
  .option('--submit', 'submit a multi-service plan (each request gated)', false)
  .option('--request-id <id>', 'a request_id; the derived requests get <id>:1, <id>:2, …')
  .option('--timeout <seconds>', 'how long to wait', (v) => Number(v), 180)
  .option('--json', `the answer; ${JSON_HELP}`, false)
  .action((text: string, opts: { submit: boolean; requestId?: string; timeout: number; json: boolean }) =>
    report(opts.json, async () => {
      // The advisor may take a while (an escalation model): on a terminal, the elapsed time.
      const progress = startProgress({
        label: 'asking Helm: waiting',
        terminal: onTerminal(),
        write: (t) => void process.stderr.write(t),
      });
      const answer = await askInPlainWords(config(), text, {
        submit: opts.submit,
        requestId: opts.requestId,
        timeoutMs: opts.timeout * 1000,
        onProgress: progress.update,
      }).finally(() => progress.stop());
      const { text: out, exitCode } = describeAnswer(answer);
      return { stdout: opts.json ? jsonDocument(answer) : out, stderr: '', exitCode };
    }),
  );

program
  .command('keys')
  .description("Warden's signing keys")
  .command('generate')
  .description('write an Ed25519 key pair as PEM files (never overwrites) and print its key_id')
  .requiredOption('--out <dir>', 'folder for <name>.key.pem (private, mode 0600) and <name>.pub.pem')
  .option('--name <name>', 'file name stem', 'warden')
  .option('--json', JSON_HELP, false)
  .action((opts: { out: string; name: string; json: boolean }) =>
    report(opts.json, async () => {
      const files = await generateKeyFiles({ dir: opts.out, name: opts.name });
      return { stdout: opts.json ? keyFilesJson(files) : describeKeyFiles(files), stderr: '', exitCode: 0 };
    }),
  );

for (const decision of ['approved', 'denied'] as const) {
  const verb = decision === 'approved' ? 'approve' : 'deny';
  const command = program
    .command(verb)
    .description(
      `sign "${decision}" for a parked request's plan (its hash recomputed) and add it to helm.approvals`,
    )
    .argument('<approval_id>', 'the approval_id of the request')
    .requiredOption('--key <file>', "Warden's private key (PKCS#8 PEM)")
    .option('--approver <name>', 'who decides', 'owner-cli')
    .option('--json', `the decision sent; ${JSON_HELP}`, false)
    .option('--wait', 'then follow the request to its final result, and print that (exit 0: executed)', false)
    .option('--timeout <seconds>', 'with --wait: how long to wait', (v) => Number(v), 600);
  if (decision === 'approved') {
    command
      .option('--reason <text>', 'why')
      .option(
        '--expires-in <seconds>',
        'how long the approval stays valid (capped by the request)',
        parseSeconds,
        600,
      );
  } else {
    command.requiredOption('--reason <text>', 'why');
  }
  command.action(
    async (
      approvalId: string,
      opts: {
        key: string;
        approver: string;
        reason?: string;
        expiresIn?: number;
        json: boolean;
        wait: boolean;
        timeout: number;
      },
    ) => report(opts.json, () => decideCommand(config(), decision, approvalId, opts, onTerminal())),
  );
}

function parseSeconds(v: string): number {
  if (!/^[1-9][0-9]*$/.test(v)) throw new InvalidArgumentError('a whole number of seconds');
  return Number(v);
}

program
  .command('pending')
  .description('list the requests parked for Warden, with their plans and steps')
  .option('--json', `{ pending: [parked records] }; ${JSON_HELP}`, false)
  .action((opts: { json: boolean }) =>
    report(opts.json, async () => describePending(await listPending(config()), opts.json)),
  );

program
  .command('cancel')
  .description('cancel a request parked for Warden (it ends as failed, cancelled)')
  .argument('<approval_id>')
  .option('--json', JSON_HELP, false)
  .action((approvalId: string, opts: { json: boolean }) =>
    report(opts.json, async () =>
      describeCancel(approvalId, await cancelPending(config(), approvalId), opts.json),
    ),
  );

program
  .command('releases')
  .description('list the releases Helm keeps for a service (newest first; * marks the one running now)')
  .argument('<service>', 'the service, as Helm resolved it')
  .option('--json', `{ service, current, releases } with full ids; ${JSON_HELP}`, false)
  .action((service: string, opts: { json: boolean }) =>
    report(opts.json, async () => describeReleases(await listReleases(config(), service), opts.json)),
  );

for (const [verb, what] of [
  [
    'status',
    "each container's state, health, release, image, uptime, restarts, environment and what is in flight",
  ],
  ['stats', "each container's CPU, memory, network and block I/O, and the host's CPU, memory and disks"],
] as const) {
  program
    .command(verb)
    .description(`${what} (a safe read over helm.actions)`)
    .argument('[service]', 'a service or container; without it: everything in scope')
    .option('--json', `the final result; ${JSON_HELP}`, false)
    .option(
      '-e, --environment <environment>',
      "the request's environment (reads report each container's own)",
      'production',
    )
    .option('--timeout <seconds>', 'how long to wait', (v) => Number(v), 60)
    .action((service: string | undefined, opts: { json: boolean; environment: string; timeout: number }) =>
      report(opts.json, () =>
        runReadCommand(config(), verb, service, {
          json: opts.json,
          environment: opts.environment,
          timeoutMs: opts.timeout * 1000,
        }),
      ),
    );
}

program
  .command('demo')
  .description(
    'a guided tour on this machine: builds a tiny image, runs a demo service in staging and one in production, and walks through a deploy, an approval, a rollback and the run log; removes all of it at the end',
  )
  .option('--yes', 'do not ask before starting', false)
  .option('--json', `{ ok, run, steps, cleanup } at the end; ${JSON_HELP}`, false)
  .action((opts: { yes: boolean; json: boolean }) =>
    report(opts.json, () =>
      demoCommand(config(), {
        yes: opts.yes,
        json: opts.json,
        say: (text) => void process.stdout.write(`${text}\n`),
        confirm: askOnTerminal,
        ...(process.stdin.isTTY && onTerminal() ? { pause: pauseOnTerminal } : {}),
      }),
    ),
  );

function parseJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    throw new InvalidArgumentError('not valid JSON');
  }
}

function config() {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError('config', err.message, 2);
    throw err;
  }
}

/** Progress is drawn in place only for a person at a terminal; piped, it stays plain lines. */
function onTerminal(): boolean {
  return Boolean(process.stdout.isTTY && process.stderr.isTTY);
}

/**
 * Runs a verb and prints what it says. A failure is one line on stderr (and the error document with
 * --json); the process then exits at once, as it always has, even if a client is still reconnecting.
 */
async function report(json: boolean, run: () => Promise<VerbOutput>): Promise<void> {
  let failed: VerbOutput | null = null;
  try {
    const out = await run();
    process.stdout.write(out.stdout);
    process.stderr.write(out.stderr);
    process.exitCode = out.exitCode;
  } catch (err) {
    failed = describeFailure(err, json);
  }
  if (failed) {
    process.stdout.write(failed.stdout);
    process.stderr.write(failed.stderr);
    process.exit(failed.exitCode);
  }
}

program.parseAsync().catch((err) => {
  if (err instanceof CommanderError) {
    // Commander printed its one line already; --help and --version end here with 0.
    if (err.exitCode !== 0 && process.argv.includes('--json'))
      process.stdout.write(
        jsonDocument({ error: { code: 'invalid_argument', message: err.message.replace(/^error: /, '') } }),
      );
    process.exit(err.exitCode);
  }
  const failed = describeFailure(err, process.argv.includes('--json'));
  process.stdout.write(failed.stdout);
  process.stderr.write(failed.stderr);
  process.exit(failed.exitCode);
});
