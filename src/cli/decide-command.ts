// `helm approve` and `helm deny`: the owner acting as Warden (in development), and the tests' Warden.
// Warden decides on the plan alone, so the decision is bound to the plan's hash as recomputed here,
// never to the plan_hash the request claims: a request whose claim does not match its plan is
// refused, and nothing is signed for it.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { signDecision } from '../approval/sign-decision.js';
import { QUEUE } from '../bus/queue-names.js';
import { makeCommandConnection } from '../bus/redis-connection.js';
import { makeParkedStore, type ParkedRecord } from '../gate/parked-store.js';
import type { Config } from '../config/config.js';
import type { ApprovalDecision, Decision } from '../contracts/approval-decision.js';
import { type ApprovalRequest, ApprovalRequestSchema } from '../contracts/approval-request.js';
import { CanonicalJsonError, canonicalJson, hashCanonical } from '../contracts/canonical.js';
import { PlanSchema } from '../contracts/plan.js';
import { UUID_V4_PATTERN } from '../contracts/primitives.js';
import { formatRfc3339Utc, parseRfc3339Utc } from '../contracts/rfc3339.js';
import { describeIssues, plainWordsErrorMap } from '../contracts/validation-errors.js';

export const DEFAULT_APPROVER = 'owner-cli';
export const DEFAULT_EXPIRES_IN_S = 600;
/** A decision outliving a day is a mistake: the request's own deadline (default 1 h) caps it anyway. */
export const MAX_EXPIRES_IN_S = 86_400;

/** Why nothing was signed or sent; the CLI prints the message and exits 1. */
export type DecisionErrorCode =
  | 'invalid_option'
  | 'bad_key'
  | 'not_found'
  | 'ambiguous'
  | 'malformed_request'
  | 'plan_mismatch'
  | 'expired'
  | 'ended';

export class DecisionError extends Error {
  constructor(
    readonly code: DecisionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = this.constructor.name;
  }
}

export interface DecisionOptions {
  approvalId: string;
  /** Warden's Ed25519 private key, PKCS#8 PEM. */
  keyPem: string;
  decision: Decision;
  reason?: string;
  /** Default `owner-cli`. */
  approver?: string;
  /** Seconds the decision stays valid, capped by the request's expires_at; default 600. */
  expiresInS?: number;
  /** The clock, for tests; default now. */
  now?: Date;
}

export interface SentDecision {
  decision: ApprovalDecision;
  /** The decision's job id on helm.approvals. */
  jobId: string;
  /** The ApprovalRequest decided on. */
  request: ApprovalRequest;
  /** Where it was found: Helm's parked record, or (without one) a job on warden.requests. */
  foundIn: 'parked' | 'warden.requests';
  /** The request's job on helm.actions, when Helm's parked record names it. */
  actionsJobId: string | null;
}

/** An Ed25519 private key from PKCS#8 PEM, or a DecisionError saying what the text is instead. */
export function privateKeyFromPem(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new DecisionError('bad_key', 'the key is not a PEM private key (expected Warden\'s "PRIVATE KEY")');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new DecisionError(
      'bad_key',
      `the key is a ${key.asymmetricKeyType ?? 'unknown'} key: Warden keys are Ed25519`,
    );
  }
  return key;
}

/**
 * The signed decision on `request` (an ApprovalRequest as found on warden.requests), or a
 * DecisionError. Checks, in order: the plan is a valid plan; the request's plan_hash is the plan's
 * hash; the rest of the request is what Helm sends; it names `approvalId`; it has not expired.
 */
export function buildDecision(request: unknown, options: DecisionOptions): ApprovalDecision {
  const expiresInS = options.expiresInS ?? DEFAULT_EXPIRES_IN_S;
  if (!Number.isSafeInteger(expiresInS) || expiresInS < 1 || expiresInS > MAX_EXPIRES_IN_S) {
    throw new DecisionError(
      'invalid_option',
      `expires-in must be a whole number of seconds, 1 to ${MAX_EXPIRES_IN_S}`,
    );
  }
  const key = privateKeyFromPem(options.keyPem);
  const id = options.approvalId;
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw new DecisionError('malformed_request', `approval request ${id} is not a JSON object`);
  }
  const received = request as Record<string, unknown>;
  const plan = PlanSchema.safeParse(received['plan'], { error: plainWordsErrorMap });
  if (!plan.success) {
    throw new DecisionError(
      'malformed_request',
      `approval request ${id} carries no valid plan: ${describeIssues(plan.error.issues, received['plan']).join('; ')}`,
    );
  }
  // The hash of the plan as received: what Helm hashed, and what Warden judges.
  let planHash: string;
  try {
    planHash = hashCanonical(received['plan']);
  } catch (error) {
    if (!(error instanceof CanonicalJsonError)) throw error;
    throw new DecisionError(
      'malformed_request',
      `approval request ${id}: plan cannot be hashed: ${error.message}`,
    );
  }
  if (received['plan_hash'] !== planHash) {
    throw new DecisionError(
      'plan_mismatch',
      `approval request ${id} claims plan_hash ${JSON.stringify(received['plan_hash'])} but its plan hashes to ${planHash}: nothing signed`,
    );
  }
  const checked = ApprovalRequestSchema.safeParse(received, { error: plainWordsErrorMap });
  if (!checked.success) {
    throw new DecisionError(
      'malformed_request',
      `approval request ${id} is not one Helm would send: ${describeIssues(checked.error.issues, received).join('; ')}`,
    );
  }
  if (checked.data.approval_id !== id) {
    throw new DecisionError(
      'malformed_request',
      `the request found names approval_id ${checked.data.approval_id}, not ${id}`,
    );
  }
  const now = (options.now ?? new Date()).getTime();
  const requestExpires = parseRfc3339Utc(checked.data.expires_at) as number; // checked by the schema
  if (now >= requestExpires) {
    throw new DecisionError(
      'expired',
      `approval request ${id} expired at ${checked.data.expires_at}: nothing to decide`,
    );
  }
  return signDecision(
    {
      approval_id: id,
      decision: options.decision,
      plan_hash: planHash,
      approver: options.approver ?? DEFAULT_APPROVER,
      decided_at: formatRfc3339Utc(now),
      // Never after the request's own deadline (to the millisecond, which can only close it early).
      expires_at: formatRfc3339Utc(Math.min(now + expiresInS * 1000, requestExpires)),
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
    },
    key,
  );
}

/** The job states an ApprovalRequest can be in while Helm may still act on it (and after). */
const REQUEST_STATES = ['waiting', 'prioritized', 'active', 'completed', 'delayed', 'failed'] as const;
const PAGE = 200;

/**
 * Every job on warden.requests whose data names `approvalId`, page by page. Until the gate keeps
 * parked requests where the CLI can read them, this is where a request's plan is found.
 */
export async function findApprovalRequestJobs(
  queue: Queue,
  approvalId: string,
): Promise<Array<{ jobId: string; data: unknown }>> {
  const found: Array<{ jobId: string; data: unknown }> = [];
  const seen = new Set<string>();
  for (let start = 0; ; start += PAGE) {
    // The range applies to each state, so a page is empty only when every state is done.
    const ids = await queue.getRanges([...REQUEST_STATES], start, start + PAGE - 1, true);
    if (ids.length === 0) return found;
    for (const id of ids) {
      if (seen.has(id)) continue;
      seen.add(id);
      const data: unknown = (await queue.getJob(id))?.data; // undefined when removed meanwhile
      if (
        typeof data === 'object' &&
        data !== null &&
        (data as { approval_id?: unknown }).approval_id === approvalId
      ) {
        found.push({ jobId: id, data });
      }
    }
  }
}

/** The one request named `approvalId`; several with different contents are refused, not guessed at. */
export function pickApprovalRequest(
  approvalId: string,
  jobs: ReadonlyArray<{ jobId: string; data: unknown }>,
): { jobId: string; data: unknown } {
  const first = jobs[0];
  if (!first) {
    throw new DecisionError('not_found', `no approval request ${approvalId} on ${QUEUE.wardenRequests}`);
  }
  const texts = new Set(jobs.map((j) => stableText(j.data)));
  if (texts.size > 1) {
    throw new DecisionError(
      'ambiguous',
      `${jobs.length} different approval requests claim approval_id ${approvalId} (jobs ${jobs.map((j) => j.jobId).join(', ')}): someone else writes to ${QUEUE.wardenRequests}; nothing signed`,
    );
  }
  return first;
}

function stableText(data: unknown): string {
  try {
    return canonicalJson(data);
  } catch {
    return JSON.stringify(data);
  }
}

/**
 * The request to decide on. Helm's parked record comes first: Helm wrote it, and under the shipped
 * ACLs no other agent can. A user that may not read Helm's keys (an agent's, NOPERM), or a Redis
 * without the record, falls back to the jobs on warden.requests.
 */
async function findRequest(
  redis: Redis,
  requests: Queue,
  prefix: string,
  approvalId: string,
): Promise<{ data: unknown; foundIn: SentDecision['foundIn']; actionsJobId: string | null }> {
  let record: ParkedRecord | null = null;
  try {
    record = await makeParkedStore(redis, prefix).get(approvalId);
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw new DecisionError('malformed_request', `Helm's parked record of ${approvalId} is not JSON`);
    }
    if (!/^NOPERM/.test((error as Error).message)) throw error;
  }
  if (record) {
    if (record.status !== 'parked') {
      const when = record.ended_at ? ` at ${record.ended_at}` : '';
      throw new DecisionError(
        'ended',
        `approval request ${approvalId} has ended (${record.status}${when}): nothing to decide`,
      );
    }
    return { data: record.approval_request, foundIn: 'parked', actionsJobId: record.job_id };
  }
  const found = pickApprovalRequest(approvalId, await findApprovalRequestJobs(requests, approvalId));
  return { data: found.data, foundIn: 'warden.requests', actionsJobId: null };
}

/**
 * Find the ApprovalRequest `approvalId` (Helm's parked record, else warden.requests), sign a
 * decision on its plan with `keyPem`, and add it to helm.approvals (job name `decision`). Throws
 * DecisionError when nothing was sent.
 */
export async function sendDecision(
  config: Readonly<Pick<Config, 'redisUrl' | 'queuePrefix'>>,
  options: DecisionOptions,
): Promise<SentDecision> {
  if (!UUID_V4_PATTERN.test(options.approvalId)) {
    throw new DecisionError(
      'invalid_option',
      `approval id ${JSON.stringify(options.approvalId)} is not a lowercase UUID v4`,
    );
  }
  privateKeyFromPem(options.keyPem); // a bad key fails before Redis is touched
  const connection = makeCommandConnection(config.redisUrl, 'helm-cli-decide');
  // With Redis down the failing command says so once; ioredis would print every reconnect.
  connection.on('error', () => undefined);
  // A client must not rewrite the queues' settings (the events bound is Helm's): skipMetasUpdate.
  const queueOptions = { connection, prefix: config.queuePrefix, skipMetasUpdate: true };
  const requests = new Queue(QUEUE.wardenRequests, queueOptions);
  const approvals = new Queue(QUEUE.approvals, queueOptions);
  for (const q of [requests, approvals]) q.on('error', () => undefined);
  try {
    const found = await findRequest(connection, requests, config.queuePrefix, options.approvalId);
    const decision = buildDecision(found.data, options);
    const job = await approvals.add('decision', decision);
    return {
      decision,
      jobId: job.id as string,
      request: found.data as ApprovalRequest,
      foundIn: found.foundIn,
      actionsJobId: found.actionsJobId,
    };
  } finally {
    await requests.close();
    await approvals.close();
    connection.disconnect();
  }
}

/** How `helm approve` / `helm deny` read their options (commander's camel-cased names). */
export interface DecideCommandOptions {
  key: string;
  approver?: string;
  reason?: string;
  expiresIn?: number;
  /** One JSON document on stdout: `{ decision, job_id, found_in }`, or `{ error: { code, message } }`. */
  json?: boolean;
}

/**
 * The CLI's side: read the key file, send the decision, print it (stdout: the decision as JSON;
 * stderr: one line for people). Returns the exit code: 0 sent, 1 nothing sent.
 */
export async function runDecideCommand(
  config: Readonly<Pick<Config, 'redisUrl' | 'queuePrefix'>>,
  decision: Decision,
  approvalId: string,
  options: DecideCommandOptions,
  io: { stdout: (text: string) => void; stderr: (text: string) => void; sent?: (sent: SentDecision) => void },
): Promise<number> {
  let keyPem: string;
  try {
    const file = await stat(options.key);
    if ((file.mode & 0o077) !== 0) {
      io.stderr(
        `warning: ${options.key} is readable by others (mode ${(file.mode & 0o777).toString(8)}): chmod 600 it\n`,
      );
    }
    keyPem = await readFile(options.key, 'utf8');
  } catch (error) {
    return failed(
      io,
      options,
      'key_file',
      `cannot read the key file ${options.key}: ${(error as Error).message}`,
    );
  }
  try {
    const sent = await sendDecision(config, {
      approvalId,
      keyPem,
      decision,
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
      ...(options.approver !== undefined ? { approver: options.approver } : {}),
      ...(options.expiresIn !== undefined ? { expiresInS: options.expiresIn } : {}),
    });
    io.sent?.(sent);
    const { plan } = sent.request;
    io.stdout(
      options.json
        ? `${JSON.stringify({ decision: sent.decision, job_id: sent.jobId, found_in: sent.foundIn })}\n`
        : `${JSON.stringify(sent.decision, null, 2)}\n`,
    );
    io.stderr(
      `${decision} ${approvalId}: ${plan.action} ${plan.service} in ${plan.environment} (plan ${sent.decision.plan_hash}), ` +
        `valid until ${sent.decision.expires_at}; added to ${QUEUE.approvals} as job ${sent.jobId}\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof DecisionError) return failed(io, options, error.code, error.message);
    throw error;
  }
}

/** Nothing sent: one line on stderr, the error document with --json, exit 1. */
function failed(
  io: { stdout: (text: string) => void; stderr: (text: string) => void },
  options: DecideCommandOptions,
  code: string,
  message: string,
): number {
  io.stderr(`helm: ${message}\n`);
  if (options.json) io.stdout(`${JSON.stringify({ error: { code, message } })}\n`);
  return 1;
}
