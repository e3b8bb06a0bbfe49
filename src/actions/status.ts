import type { ContainerStatus } from '../contracts/index.js';
import { DockerNotFoundError } from '../docker/docker-errors.js';
import type { ContainerInspect } from '../docker/docker-objects.js';
import { HELM_LABEL } from '../docker/helm-labels.js';
import type { ResolvedService } from '../docker/target-resolution.js';
import { lookAtContainer } from '../health/container-health.js';
import { environmentOf } from '../policy/environment-of.js';
import type { ActionContext, ActionHandler, InFlightReads } from './action-types.js';
import { containers, keepFirstWithin } from './fit-data.js';

type InFlight = ContainerStatus['in_flight'];

/**
 * A safe read, the design card's `docker ps` (CONTRACT decisions 80–82): each container of the
 * target, or of every service in scope for `*`, with its state, health, release, image, uptime,
 * restart count, real environment and what is in flight for its service. Stopped containers stay in.
 */
export const status: ActionHandler = async (ctx) => {
  // Intents and parked requests are read once for all services; the lease once per service.
  const underWay = ctx.inFlight
    ? await Promise.all([ctx.inFlight.intents(), ctx.inFlight.parked()])
    : ([[], []] as const);
  const perService = await Promise.all(ctx.services.map((s) => statusOfService(ctx, s, underWay)));
  const { kept, truncated } = keepFirstWithin(perService.flat());
  const running = kept.filter((c) => c.running).length;
  const changing = new Set(kept.filter((c) => c.in_flight.change).map((c) => c.service)).size;
  const waiting = new Set(kept.flatMap((c) => c.in_flight.approvals.map((a) => a.approval_id))).size;
  const target = ctx.request.target;
  const notes = [
    `${running} running`,
    ...(kept.length > running ? [`${kept.length - running} not running`] : []),
    ...(changing > 0 ? [`a change in flight for ${changing}`] : []),
    ...(waiting > 0 ? [`${waiting} awaiting Warden`] : []),
  ];
  return {
    ok: true,
    outcome: `${containers(kept.length)} of ${target === '*' ? 'everything in scope' : target}: ${notes.join(', ')}${truncated ? '; more cut to fit 64 KiB' : ''}`,
    data: { containers: kept, truncated },
  };
};

type UnderWay = readonly [
  Awaited<ReturnType<InFlightReads['intents']>>,
  Awaited<ReturnType<InFlightReads['parked']>>,
];

async function statusOfService(
  ctx: ActionContext,
  service: ResolvedService,
  underWay: UnderWay,
): Promise<ContainerStatus[]> {
  const [inFlight, rows] = await Promise.all([
    inFlightFor(ctx, service.name, underWay),
    Promise.all(
      service.containers.map(async (c) => {
        const info = await ctx.docker.inspectContainer(c.id).catch((err: unknown) => {
          // Removed since the list was read: no longer there to report.
          if (err instanceof DockerNotFoundError) return null;
          throw err;
        });
        return info === null ? null : lookAt(ctx, info);
      }),
    ),
  ]);
  return rows.flatMap((row) =>
    row === null ? [] : [{ service: service.name, ...row, in_flight: inFlight }],
  );
}

async function lookAt(ctx: ActionContext, info: ContainerInspect) {
  const [look, imageLabels] = await Promise.all([
    lookAtContainer(info, ctx.clock),
    ctx.docker.inspectImage(info.Image).then(
      (image) => image.Config?.Labels ?? null,
      () => 'unknown' as const,
    ),
  ]);
  const { environment } = environmentOf({
    containerName: info.Name,
    containerLabels: info.Config.Labels,
    imageLabels,
    classification: ctx.classification,
  });
  return {
    name: look.name,
    id: look.id,
    state: look.state,
    running: look.running,
    healthy: look.healthy,
    health: look.detail,
    docker_health: look.docker_health,
    release: info.Config.Labels?.[HELM_LABEL.release] ?? null,
    image: look.image,
    image_id: look.image_id,
    started_at: look.started_at,
    uptime_s: look.uptime_s,
    restart_count: look.restart_count,
    environment,
  };
}

async function inFlightFor(
  ctx: ActionContext,
  service: string,
  [intents, parked]: UnderWay,
): Promise<InFlight> {
  const leased = ctx.inFlight ? await ctx.inFlight.leaseHeld(service) : false;
  const intent = intents.find((i) => i.service === service);
  return {
    change: leased || intent !== undefined,
    change_action: intent?.action ?? null,
    approvals: parked
      .filter((p) => p.service === service)
      .map(({ approval_id, action, expires_at }) => ({ approval_id, action, expires_at })),
  };
}
