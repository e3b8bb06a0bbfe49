import { LABEL } from '../../docker/labels.js';
import { resolveTarget } from '../../docker/target-resolution.js';
import type { ExecResult } from '../../exec-job/exec-job.js';
import { restoreComposeRelease, withContainers, writeComposeDoc } from '../compose/compose-release.js';
import { type ComposeExecContext, prepareComposeTarget } from '../compose/compose-target.js';
import type { ExecContext } from '../exec-context.js';
import type { InterruptedSwitch } from './read-interrupted-switch.js';

/** Whether the interrupted switch is a compose service's (its containers carry the compose project label). */
export function isComposeSwitch(sw: InterruptedSwitch): boolean {
  return [...sw.byId.values()].some((c) => !!c.Config.Labels?.[LABEL.composeProject]);
}

/**
 * An interrupted compose deploy or rollback that changed something goes back through the compose CLI,
 * as the operation's own undo does (compose-release.ts): the release that ran before is pinned again
 * in Helm's override and `up` (recover_compose_pin_restore, recover_compose_up_restore), checked
 * healthy and on that release, recorded with its new containers, and the rollback document written.
 * Compose recreates containers itself, so nothing is renamed or started through the Docker API. The
 * new release is never completed here: `rolled_back`, or `rollback_failed` when it cannot be restored.
 */
export async function undoInterruptedCompose(
  ctx: ExecContext,
  sw: InterruptedSwitch,
  started: number,
): Promise<ExecResult> {
  const { intent, words } = sw;
  const data = {
    recovered: true,
    crashed_at_step: sw.step,
    failed_release: sw.toId,
    restored_release: null as string | null,
  };
  const failed = (why: string): ExecResult => ({
    ok: false,
    code: 'rollback_failed',
    message: ctx.redactor.redact(
      `recovered ${words}: the compose ${intent.action} to ${sw.target} could not be undone: ${why}`,
    ),
    data,
  });
  const previous = sw.fromRecord;
  if (!previous) return failed(`no record of the release that ran before; look at ${sw.name}`);
  const resolved = resolveTarget(sw.name, await ctx.docker.listContainers());
  if (!resolved.ok) return failed(resolved.message);
  const prepared = await prepareComposeTarget(ctx as ComposeExecContext, resolved.service, 'roll back');
  if (!prepared.ok)
    return failed(prepared.outcome.ok ? 'the compose project cannot be used' : prepared.outcome.message);
  const t = prepared.target;
  const restore = await restoreComposeRelease(t, resolved.service, previous, intent.op);
  const now = restore.restored ? await withContainers(t, previous, restore.replicas) : previous;
  await writeComposeDoc(
    t,
    sw.environment,
    `${intent.action} to ${sw.target} interrupted by a crash and undone`,
    now,
  );
  if (!restore.restored) return failed(restore.detail);
  return {
    ok: false,
    code: 'rolled_back',
    message: ctx.redactor.redact(
      `recovered ${words}: the compose ${intent.action} to ${sw.target} was undone: ${previous.id} pinned again and up, healthy (${restore.detail}); recovery took ${Math.round(performance.now() - started)} ms`,
    ),
    data: { ...data, restored_release: previous.id },
  };
}
