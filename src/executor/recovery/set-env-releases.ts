import { HELM_LABEL } from '../../docker/helm-labels.js';
import type { ExecContext } from '../exec-context.js';
import { createdBy, type RecoveringIntent, serviceContainers } from './interrupted-state.js';

/**
 * A set_env's intent names no releases: the new release id is chosen when it runs (the plan names
 * none). What it created says both: its containers carry `helm.release` (the new release) and
 * `helm.previous` (the one it replaces). Nothing created yet: the new release is unknown (nothing of
 * it exists), and the one before is the release this op adopted, else the current one.
 * Any other intent is returned as it is.
 */
export async function withSwitchReleases(
  ctx: Pick<ExecContext, 'docker' | 'releases'>,
  intent: RecoveringIntent,
  startedAt: Date | null,
): Promise<RecoveringIntent> {
  if (intent.action !== 'set_env' || intent.to_release) return intent;
  const made = (await serviceContainers(ctx, intent)).find((c) => createdBy(c, intent, startedAt));
  const labels = made?.Config.Labels ?? {};
  const to = labels[HELM_LABEL.release] || null;
  const from = labels[HELM_LABEL.previous] || (await releaseBefore(ctx, intent));
  return { ...intent, to_release: to, from_release: from };
}

/** Nothing created yet: the release this op adopted (containers found without a record), else the current one. */
async function releaseBefore(
  ctx: Pick<ExecContext, 'releases'>,
  intent: RecoveringIntent,
): Promise<string | null> {
  const all = await ctx.releases.listReleases(intent.service);
  const adopted = all.find((r) => r.adopted && r.op_id === intent.op);
  return adopted?.id ?? (await ctx.releases.currentRelease(intent.service))?.id ?? null;
}
