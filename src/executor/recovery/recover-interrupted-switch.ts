import type { ExecResult } from '../../exec-job/exec-job.js';
import type { ExecContext } from '../exec-context.js';
import { routeAfterRecovery, routeBeforeUndo } from '../start-first-route-recovery.js';
import { completeInterruptedSwitch } from './complete-interrupted-switch.js';
import {
  newReleaseIsUp,
  readInterruptedSwitch,
  type InterruptedSwitch,
  type SwitchRecoveryInput,
  wasUndoing,
} from './read-interrupted-switch.js';
import { isComposeSwitch, undoInterruptedCompose } from './undo-interrupted-compose.js';
import { undoInterruptedSwitch } from './undo-interrupted-switch.js';

/**
 * Recovery of an interrupted deploy or rollback (a release switch), from what Docker shows
 * (read-interrupted-switch.ts):
 *  - the new release is up: every replica name runs a container of the new release, none of the
 *    replaced containers runs, and the operation was not already undoing a failure. Then its health
 *    gate runs again (health check and the stability window) and, as the operation itself would,
 *    Docker must show the containers carrying the service's identity on the new release
 *    (verify-release-identity.ts); passing both, the release is recorded as executed (record
 *    current, Helm's tag, rollback document), exactly as the deploy would have. Failing, it goes back.
 *    (complete-interrupted-switch.ts)
 *  - anything else goes back to what ran before: the containers this operation created are stopped
 *    and removed (a rollback's kept containers are stopped and renamed back to their kept names),
 *    and the replaced containers are renamed back, their restart policy restored, started (when
 *    this operation had stopped them) and health-checked. A replaced container that is gone is
 *    created again from its release record. In production, only the release the signed plan names
 *    is restored (its preconditions, or the intent's from_release); nothing else is improvised.
 *    (undo-interrupted-switch.ts, restore-previous-release.ts)
 * Nothing of the new release is ever created here: the same operation is never applied twice.
 * A compose service's switch is undone through the compose CLI instead (undo-interrupted-compose.ts).
 */
export async function recoverSwitch(ctx: ExecContext, input: SwitchRecoveryInput): Promise<ExecResult> {
  const started = performance.now();
  const sw = await readInterruptedSwitch(ctx, input);
  // Compose recreates containers itself: its changes are undone through the compose CLI.
  if (isComposeSwitch(sw)) return undoInterruptedCompose(ctx, sw, started);
  const up = newReleaseIsUp(sw);
  let failure: string;
  if (up && !unverifiedEnvChange(sw)) {
    const completed = await completeInterruptedSwitch(ctx, sw, started);
    if ('result' in completed) return routeAfterRecovery(ctx, sw.name, completed.result);
    failure = completed.failure;
  } else if (up) {
    failure = `${sw.target} was up, but Helm had not verified and recorded its environment when it stopped`;
  } else if (wasUndoing(sw)) {
    failure = `Helm had already found ${sw.target} failing and was rolling it back`;
  } else {
    failure = `${sw.target} was not up when Helm stopped`;
  }
  // A routed service (issue 11): the route leaves what the undo removes, and follows what it restores.
  await routeBeforeUndo(ctx, sw.name, sw.intent.op);
  return routeAfterRecovery(ctx, sw.name, await undoInterruptedSwitch(ctx, sw, failure, started));
}

/**
 * A set_env is completed only once it recorded its release (it had checked, read back, every
 * variable asked): recovery cannot check secret values it does not hold, so before that it undoes.
 */
function unverifiedEnvChange(sw: InterruptedSwitch): boolean {
  return sw.intent.action === 'set_env' && sw.toRecord === null;
}
