import type { ReleaseRecord } from '../releases/release-store.js';
import type { ExecContext, ExecMeta } from './exec-context.js';
import { NOTHING_CHANGED } from './operation-prelude.js';
import type { ReleaseOutcome } from './release-outcome.js';

/** The release to roll back to: the one asked for, or the one the current release replaced. */
export async function rollbackTarget(
  ctx: Pick<ExecContext, 'releases'>,
  name: string,
  toRelease: string | null,
  current: ReleaseRecord | null,
  meta: ExecMeta,
): Promise<{ ok: true; target: ReleaseRecord } | { ok: false; outcome: ReleaseOutcome }> {
  const refuse = (code: string, message: string) => ({
    ok: false as const,
    outcome: { ok: false as const, code, message: `${message}; ${NOTHING_CHANGED}` },
  });
  const known = (await ctx.releases.listReleases(name)).map((r) => r.id);
  const targetId = toRelease ?? current?.previous ?? null;
  if (!targetId)
    return refuse(
      'rollback_unavailable',
      `${name} has no earlier release to roll back to (${current ? `${current.id} replaced none` : 'no release is recorded'})`,
    );
  const target = await ctx.releases.getRelease(name, targetId);
  if (!target)
    return refuse(
      'rollback_unavailable',
      `${name} has no release ${targetId} (recorded: ${known.join(', ') || 'none'})`,
    );
  if (meta.expectImageId && meta.expectImageId !== target.image_id)
    return refuse(
      'stale_plan',
      `release ${target.id} of ${name} is image ${target.image_id}, not ${meta.expectImageId} as the plan says`,
    );
  return { ok: true, target };
}
