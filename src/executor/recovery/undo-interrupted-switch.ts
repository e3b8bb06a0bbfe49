import type { ExecResult } from '../../exec-job/exec-job.js';
import type { ExecContext } from '../exec-context.js';
import { writeServiceRollbackDoc } from '../release-bookkeeping.js';
import { healthWords } from '../outcome-words.js';
import type { InterruptedSwitch } from './read-interrupted-switch.js';
import { type Restored, restorePreviousRelease } from './restore-previous-release.js';

/**
 * An interrupted switch that is not (or no longer) up goes back to what ran before
 * (restore-previous-release.ts); F becomes current again with its rollback document. In production,
 * only the release the signed plan names is restored (its preconditions, or the intent's F); nothing
 * else is improvised. The outcome is `rolled_back`, `rollback_failed`, or (nothing had changed yet)
 * `unavailable` with the request not retried.
 */
export async function undoInterruptedSwitch(
  ctx: ExecContext,
  sw: InterruptedSwitch,
  failure: string,
  started: number,
): Promise<ExecResult> {
  const { intent, name, fromRecord } = sw;
  const restored = await restorePreviousRelease(
    ctx,
    sw,
    sw.environment !== 'production' || sw.preconditionIds.length > 0 || fromRecord !== null,
  );
  if (fromRecord) {
    if ((await ctx.releases.currentRelease(name))?.id !== fromRecord.id)
      await ctx.releases.setCurrent(name, fromRecord.id);
    await writeServiceRollbackDoc(
      ctx,
      name,
      sw.environment,
      `${intent.action} to ${sw.target} interrupted by a crash and undone`,
      fromRecord,
    );
  }
  return undoOutcome(ctx, sw, failure, restored, Math.round(performance.now() - started));
}

function undoOutcome(
  ctx: Pick<ExecContext, 'redactor'>,
  sw: InterruptedSwitch,
  failure: string,
  restored: Restored,
  ms: number,
): ExecResult {
  const { intent, fromRecord, words, target } = sw;
  const before =
    fromRecord?.id ?? intent.from_release ?? `what ran before (${sw.oldIds.map(sw.oldName).join(', ')})`;
  const data = {
    recovered: true,
    crashed_at_step: sw.step,
    failed_release: sw.toId,
    restored_release: restored.problems.length === 0 ? (fromRecord?.id ?? intent.from_release) : null,
    reason: ctx.redactor.redact(failure),
    changes: restored.changes,
    ms,
  };
  if (restored.problems.length > 0)
    return {
      ok: false,
      code: 'rollback_failed',
      message: ctx.redactor.redact(
        `recovered ${words}: ${failure}; restoring ${before} failed: ${restored.problems.join('; ')}`,
      ),
      data,
    };
  const runs =
    sw.oldIds.length === 0
      ? `nothing runs (it was ${sw.name}'s first release)`
      : restored.running.length === 0
        ? `${before} is back, stopped as it was before`
        : `${before} runs and is healthy (${healthWords(restored.running[0]!)})`;
  // Nothing to undo. A request that comes back with its job resumes before this (recover-exec-job.ts):
  // here the job is gone (the start-up sweep) or its plan is not the one that began.
  if (restored.changes.length === 0 && sw.created.length === 0)
    return {
      ok: false,
      code: 'unavailable',
      message: `recovered ${words}: Helm had not changed anything yet; ${runs}. The ${intent.action} to ${target} was not made and is not retried: send the request again`,
      data,
    };
  return {
    ok: false,
    code: 'rolled_back',
    message: ctx.redactor.redact(
      `recovered ${words}: ${failure}; the ${intent.action} was undone (${restored.changes.join('; ')}); ${runs}`,
    ),
    data,
  };
}
