import { type ComposeCommand, composeUpCommand, outputTail } from './compose-cli.js';
import {
  type OverrideFile,
  type OverridePin,
  ownerUpCommand,
  readOverride,
  renderOverride,
  writeOverride,
} from './compose-override.js';
import { announce, type ExecContext } from '../exec-context.js';
import { HELM_LABEL } from '../../docker/helm-labels.js';
import { type ComposeTarget, runCompose } from './compose-target.js';

/** Pinning a release's image in Helm's override file, and `up` for the one service. */

export type UpResult = { ok: true; command: ComposeCommand } | { ok: false; failure: string };

/**
 * Pins `pin` for the service in Helm's override (the other services' pins stay as they are), then
 * `up` for that one service. Each is announced first.
 */
export async function pinAndUp(
  t: ComposeTarget,
  pin: OverridePin,
  steps: { pin: string; up: string },
  note?: string,
): Promise<UpResult> {
  const { ctx } = t;
  const current: OverrideFile = (await readOverride(t.overrideFile)) ?? { version: null, pins: {} };
  // Keyed by the compose service key: compose merges the override into the owner's service by it.
  const key = t.composeService;
  const next: OverrideFile = { version: t.version, pins: { ...current.pins, [key]: pin } };
  const text = renderOverride(t.project, next, ownerUpCommand(t.cli, t.project, t.overrideFile), {
    ...(await overrideNotes(ctx, next, { [key]: t.service })),
    ...(note ? { [key]: note } : {}),
  });
  await announce(ctx, steps.pin, {
    file: t.overrideFile,
    service: t.service,
    compose_service: key,
    image: pin.image,
  });
  await writeOverride(t.overrideFile, text);

  const command = composeUpCommand(t.cli, t.project, t.overrideFile, key, t.replicas);
  await announce(ctx, steps.up, { command: [command.file, ...command.args] });
  const r = await runCompose(ctx, command, t.project);
  if (r.code === 0) return { ok: true, command };
  const why = r.error ?? `exit code ${r.code}`;
  return {
    ok: false,
    failure: ctx.redactor.redact(`${t.cli.name} up failed (${why}): ${outputTail(r) || 'no output'}`),
  };
}

/**
 * One comment line per pinned service in the override: "release r2: helm-test/web:2 (sha256:…)".
 * `helmNames` maps a compose key to Helm's name for it where they differ (the others are looked up
 * by their key; an unknown one gets just its release id).
 */
async function overrideNotes(
  ctx: ExecContext,
  file: OverrideFile,
  helmNames: Readonly<Record<string, string>>,
): Promise<Record<string, string>> {
  const notes: Record<string, string> = {};
  for (const [key, pin] of Object.entries(file.pins)) {
    const id = pin.labels[HELM_LABEL.release];
    if (!id) continue;
    const r = await ctx.releases.getRelease(helmNames[key] ?? key, id).catch(() => null);
    notes[key] = r
      ? `release ${id}: ${r.image} (${r.image_id})${r.artifact_id ? `, artifact ${r.artifact_id}` : ''}`
      : `release ${id}`;
  }
  return notes;
}
