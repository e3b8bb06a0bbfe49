#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from '../config/config.js';
import { deriveKey, loadOrCreateHelmKey } from '../keys/helm-key.js';
import { formatEntryForPeople, mergeRunLogs } from '../runlog/index.js';
import { HELM_VERSION } from '../base/version.js';
import { askInPlainWords, describeAnswer } from './ask-command.js';
import { runDecideCommand } from './decide-command.js';
import { runDoctor } from './doctor.js';
import { cancelPending, describeParked, listPending } from './pending-command.js';
import { describeKeyFiles, generateKeyFiles } from './keys-command.js';
import { listReleases, releasesJson, releasesTable } from './releases-command.js';
import { sendRequest } from './request-command.js';
import { runReadCommand } from './status-command.js';

/** The owner's command line. Every command reads the same environment as Helm itself. */
const program = new Command()
  .name('helm')
  .description("Helm, Ghost's SRE/deploy agent: the owner's tools")
  .version(HELM_VERSION);

program
  .command('doctor')
  .description(
    'check Redis, Docker, the run log, disk space, the heartbeat and the queues other agents consume',
  )
  .action(async () => {
    const checks = await runDoctor(config());
    for (const c of checks) process.stdout.write(`${c.level.padEnd(4)}  ${c.name}: ${c.message}\n`);
    process.exitCode = checks.some((c) => c.level === 'fail') ? 1 : 0;
  });

program
  .command('log')
  .description("print the run log (every process's file, merged by time) and verify its chain")
  .option('--verify', 'only verify; print problems', false)
  .option('--json', 'one JSON object per entry', false)
  .action(async (opts: { verify: boolean; json: boolean }) => {
    const cfg = config();
    const key = deriveKey(await loadOrCreateHelmKey(cfg.memoryDir), 'run-log');
    const merged = await mergeRunLogs(cfg.memoryDir, key);
    if (!opts.verify) {
      for (const e of merged.entries)
        process.stdout.write(`${opts.json ? JSON.stringify(e) : formatEntryForPeople(e)}\n`);
    }
    for (const p of merged.problems)
      process.stderr.write(`chain problem: ${p.file} line ${p.line}: ${p.reason}\n`);
    if (opts.verify && merged.problems.length === 0)
      process.stdout.write(`run log verified: ${merged.entries.length} entries\n`);
    process.exitCode = merged.problems.length > 0 ? 1 : 0;
  });

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
  .action(
    async (
      action: string,
      target: string,
      opts: { environment: string; reason: string; requestId?: string; params?: unknown; timeout: number },
    ) => {
      const request = {
        action,
        target,
        environment: opts.environment,
        reason: opts.reason,
        requested_by: 'owner-cli',
        ...(opts.requestId ? { request_id: opts.requestId } : {}),
        ...(opts.params !== undefined ? { params: opts.params } : {}),
      };
      const result = (await sendRequest(config(), request, {
        timeoutMs: opts.timeout * 1000,
        onProgress: (p) => process.stderr.write(`progress: ${JSON.stringify(p)}\n`),
      })) as { status?: string };
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      process.exitCode = result?.status === 'executed' ? 0 : 1;
    },
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
  .action(async (text: string, opts: { submit: boolean; requestId?: string; timeout: number }) => {
    const answer = await askInPlainWords(config(), text, {
      submit: opts.submit,
      requestId: opts.requestId,
      timeoutMs: opts.timeout * 1000,
    });
    const { text: out, exitCode } = describeAnswer(answer);
    process.stdout.write(out);
    process.exitCode = exitCode;
  });

program
  .command('keys')
  .description("Warden's signing keys")
  .command('generate')
  .description('write an Ed25519 key pair as PEM files (never overwrites) and print its key_id')
  .requiredOption('--out <dir>', 'folder for <name>.key.pem (private, mode 0600) and <name>.pub.pem')
  .option('--name <name>', 'file name stem', 'warden')
  .action(async (opts: { out: string; name: string }) => {
    process.stdout.write(describeKeyFiles(await generateKeyFiles({ dir: opts.out, name: opts.name })));
  });

for (const decision of ['approved', 'denied'] as const) {
  const verb = decision === 'approved' ? 'approve' : 'deny';
  const command = program
    .command(verb)
    .description(
      `sign "${decision}" for a parked request's plan (its hash recomputed) and add it to helm.approvals`,
    )
    .argument('<approval_id>', 'the approval_id of the request')
    .requiredOption('--key <file>', "Warden's private key (PKCS#8 PEM)")
    .option('--approver <name>', 'who decides', 'owner-cli');
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
      opts: { key: string; approver: string; reason?: string; expiresIn?: number },
    ) => {
      const write = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(text);
      process.exitCode = await runDecideCommand(config(), decision, approvalId, opts, {
        stdout: write(process.stdout),
        stderr: write(process.stderr),
      });
    },
  );
}

function parseSeconds(v: string): number {
  if (!/^[1-9][0-9]*$/.test(v)) throw new InvalidArgumentError('a whole number of seconds');
  return Number(v);
}

program
  .command('pending')
  .description('list the requests parked for Warden, with their plans and steps')
  .action(async () => {
    const pending = await listPending(config());
    if (pending.length === 0) process.stdout.write('no request is waiting for Warden\n');
    for (const r of pending) process.stdout.write(`${describeParked(r)}\n`);
  });

program
  .command('cancel')
  .description('cancel a request parked for Warden (it ends as failed, cancelled)')
  .argument('<approval_id>')
  .action(async (approvalId: string) => {
    const outcome = await cancelPending(config(), approvalId);
    process.stdout.write(
      outcome === 'cancelled'
        ? `cancelled ${approvalId}\n`
        : `${approvalId} is not parked (decided, expired, cancelled or unknown)\n`,
    );
    process.exitCode = outcome === 'cancelled' ? 0 : 1;
  });

program
  .command('releases')
  .description('list the releases Helm keeps for a service (newest first; * marks the one running now)')
  .argument('<service>', 'the service, as Helm resolved it')
  .option('--json', 'one JSON object per release, with full ids', false)
  .action(async (service: string, opts: { json: boolean }) => {
    const listing = await listReleases(config(), service);
    const text = opts.json ? releasesJson(listing) : releasesTable(listing);
    if (text) process.stdout.write(`${text}\n`);
    process.exitCode = listing.releases.length > 0 ? 0 : 1;
  });

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
    .option('--json', 'the final result as one JSON document', false)
    .option(
      '-e, --environment <environment>',
      "the request's environment (reads report each container's own)",
      'production',
    )
    .option('--timeout <seconds>', 'how long to wait', (v) => Number(v), 60)
    .action(
      async (service: string | undefined, opts: { json: boolean; environment: string; timeout: number }) => {
        const out = await runReadCommand(config(), verb, service, {
          json: opts.json,
          environment: opts.environment,
          timeoutMs: opts.timeout * 1000,
        });
        process.stdout.write(out.stdout);
        process.stderr.write(out.stderr);
        process.exitCode = out.exitCode;
      },
    );
}

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
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

program.parseAsync().catch((err) => {
  process.stderr.write(`helm: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
