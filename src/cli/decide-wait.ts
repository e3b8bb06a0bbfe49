import type { Config } from '../config/config.js';
import type { Decision } from '../contracts/approval-decision.js';
import { type DecideCommandOptions, runDecideCommand, type SentDecision } from './decide-command.js';
import { CliError, type VerbOutput } from './output.js';
import { startProgress } from './progress.js';
import { followRequest } from './request-command.js';
import { describeActionResult } from './status-command.js';

/**
 * `helm approve|deny` as the CLI runs it. With `--wait` it then follows the decided request on
 * helm.actions to its final result (a production deploy takes a while: progress with the elapsed
 * time on a terminal), and prints that result instead of the decision: one document with --json,
 * exit 0 only when executed.
 */
export async function decideCommand(
  config: Readonly<Config>,
  decision: Decision,
  approvalId: string,
  opts: DecideCommandOptions & { json: boolean; wait: boolean; timeout: number },
  terminal: boolean,
): Promise<VerbOutput> {
  let stdout = '';
  let sent: SentDecision | undefined;
  const exitCode = await runDecideCommand(config, decision, approvalId, opts, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => void process.stderr.write(text),
    sent: (s) => {
      sent = s;
    },
  });
  if (exitCode !== 0 || !opts.wait || !sent) return { stdout, stderr: '', exitCode };
  if (!sent.actionsJobId)
    throw new CliError(
      'not_found',
      `decision sent, but no parked record names the request's job on helm.actions: cannot --wait (\`helm log\` shows its end)`,
    );
  const progress = startProgress({
    label: `${approvalId}: waiting`,
    terminal,
    write: (text) => void process.stderr.write(text),
  });
  try {
    const result = await followRequest(config, sent.actionsJobId, {
      timeoutMs: opts.timeout * 1000,
      onProgress: progress.update,
    });
    return describeActionResult(
      decision === 'approved' ? 'approve' : 'deny',
      result as Record<string, unknown>,
      opts.json,
    );
  } finally {
    progress.stop();
  }
}
