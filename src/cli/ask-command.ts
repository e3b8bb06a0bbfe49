// `helm ask "..." [--submit]`: a request in plain words on helm.requests (contract 1.2). The answer is
// the job's return value: the requests Helm derived and submitted (each gated on helm.actions), a
// multi-service plan shown in full (submitted only with --submit), or a question saying what is
// missing. The printing is pure (describeAnswer) so it is tested as data.
import type { Config } from '../config/config.js';
import {
  PLAIN_REQUEST_QUEUE,
  type PlainRequestAnswer,
  PlainRequestAnswerSchema,
} from '../contracts/index.js';
import { sendRequest } from './request-command.js';

export interface AskOptions {
  submit: boolean;
  requestId?: string;
  timeoutMs: number;
  onProgress?: (p: unknown) => void;
}

export async function askInPlainWords(
  config: Readonly<Config>,
  text: string,
  opts: AskOptions,
): Promise<PlainRequestAnswer> {
  const data = {
    text,
    requested_by: 'owner-cli',
    ...(opts.requestId ? { request_id: opts.requestId } : {}),
    ...(opts.submit ? { submit: true } : {}),
  };
  const raw = await sendRequest(config, data, {
    timeoutMs: opts.timeoutMs,
    queue: PLAIN_REQUEST_QUEUE,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  const parsed = PlainRequestAnswerSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`the answer on ${PLAIN_REQUEST_QUEUE} is not a PlainRequestAnswer`);
  return parsed.data;
}

/** The answer for people, and the exit code: 0 submitted or a plan, 2 a question, 1 unavailable. */
export function describeAnswer(answer: PlainRequestAnswer): { text: string; exitCode: number } {
  const by = answer.model === null ? 'no model' : `${answer.model}${answer.escalated ? ' (escalated)' : ''}`;
  const lines = [`${answer.outcome} (${by}): ${answer.summary}`, `note: ${answer.note}`];
  if (answer.question) lines.push(`question: ${answer.question}`);
  if (answer.outcome === 'plan' && answer.requests.some((r) => !r.submitted))
    lines.push('plan (not submitted; run again with --submit to submit each request, gated):');
  for (const r of answer.requests) {
    const state = r.submitted ? `submitted as ${r.request_id}` : `not submitted: ${r.why_not_submitted}`;
    lines.push(`- ${state}`, `  ${JSON.stringify(r.request)}`);
  }
  if (answer.requests.some((r) => r.submitted))
    lines.push(
      'Each submitted request is gated like any other: `helm pending` lists those waiting for Warden.',
    );
  const exitCode = answer.outcome === 'question' ? 2 : answer.outcome === 'unavailable' ? 1 : 0;
  return { text: `${lines.join('\n')}\n`, exitCode };
}
