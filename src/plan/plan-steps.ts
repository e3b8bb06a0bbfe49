// Courtesy text for the people reading an approval request: what Helm will do, step by step. Warden
// judges the plan alone (anyone who can write to warden.requests can write steps), so these lines only
// restate the plan; they never carry a value the plan does not (no env value, no secret).
import type { Plan, PlanContainer, PlanFor } from '../contracts/plan.js';
import type { ContainerInspect } from '../docker/docker-objects.js';

/** Container id → name (without Docker's slash), when the caller knows them. */
export type ContainerNames = Readonly<Record<string, string>>;
/** Container id → how long its stop may wait for it to exit, e.g. "1 s (ghost.stop-timeout)". */
export type StopWaits = Readonly<Record<string, string>>;
/** Container id → the volumes it mounts (bound by the plan: config_hmac covers Mounts). */
export type ContainerVolumes = Readonly<Record<string, readonly string[]>>;

/** Names and volumes of the containers a plan was made from, for planSteps. */
export function stepContextOf(containers: readonly ContainerInspect[]): {
  names: ContainerNames;
  volumes: ContainerVolumes;
} {
  const entries = (f: (c: ContainerInspect) => unknown) =>
    Object.fromEntries(containers.map((c) => [c.Id, f(c)]));
  return {
    names: entries((c) => c.Name.replace(/^\//, '')) as ContainerNames,
    volumes: entries((c) =>
      (c.Mounts ?? []).flatMap((m) => (m.Type === 'volume' && m.Name ? [m.Name] : [])),
    ) as ContainerVolumes,
  };
}

const HEALTH =
  'check health: the ghost.healthcheck label, else the Docker HEALTHCHECK, else running and not restarting';

function shortImage(imageId: string): string {
  return imageId.startsWith('sha256:') ? `${imageId.slice(0, 19)}…` : imageId;
}

function containerText(c: PlanContainer, names: ContainerNames): string {
  const name = Object.hasOwn(names, c.id) ? names[c.id] : undefined;
  return name
    ? `container ${name} (${c.id.slice(0, 12)}, image ${shortImage(c.image_id)})`
    : `container ${c.id.slice(0, 12)} (image ${shortImage(c.image_id)})`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The contract's bounds on `steps`: at most 100 lines of at most 1000 characters. */
const MAX_STEPS = 100;
const MAX_STEP_LENGTH = 1000;

export function planSteps(
  plan: Plan,
  names: ContainerNames = {},
  volumes: ContainerVolumes = {},
  stopWaits: StopWaits = {},
): string[] {
  const lines = allSteps(plan, names, volumes, stopWaits).map((l) =>
    l.length > MAX_STEP_LENGTH ? `${l.slice(0, MAX_STEP_LENGTH - 1)}…` : l,
  );
  if (lines.length <= MAX_STEPS) return lines;
  const shown = lines.slice(0, MAX_STEPS - 1);
  return [...shown, `… and ${lines.length - shown.length} more steps like these (the plan binds them all)`];
}

function allSteps(
  plan: Plan,
  names: ContainerNames,
  volumes: ContainerVolumes,
  stopWaits: StopWaits,
): string[] {
  const cs = plan.preconditions.containers;
  const each = (f: (text: string) => string[]) => cs.flatMap((c) => f(containerText(c, names)));
  const none = cs.length === 0 ? [`${plan.service} has no containers: nothing to act on`] : [];
  switch (plan.action) {
    case 'restart':
      return [
        ...none,
        ...each((c) => [`stop ${c} with a ${plan.desired.timeout_s} s timeout`, 'start it again']),
        HEALTH,
      ];
    case 'stop':
      return [
        ...none,
        ...each((c) => [`stop ${c} with a ${plan.desired.timeout_s} s timeout`]),
        `${plan.service} stays stopped until it is started again`,
      ];
    case 'remove':
      return [...none, ...cs.flatMap((c) => removeSteps(plan, c, names, volumes))];
    case 'scale':
      return scaleSteps(plan, names);
    case 'deploy':
      return deploySteps(plan, names, stopWaits);
    case 'set_env':
      return setEnvSteps(plan, names);
    case 'rollback':
      return [
        `roll ${plan.service} back to release ${plan.desired.to_release} (image ${shortImage(plan.desired.image_id)})`,
        ...each((c) => [`replace ${c} with one from that image, its configuration otherwise unchanged`]),
        HEALTH,
      ];
    case 'prune':
      return [
        `delete ${plural(plan.desired.items.length, plan.desired.what === 'images' ? 'image' : 'container')} on host ${plan.host}${plan.desired.items.length === 0 ? ' (nothing to delete)' : ':'}`,
        ...plan.desired.items.map(
          (id) => `delete ${plan.desired.what === 'images' ? shortImage(id) : id.slice(0, 12)}`,
        ),
      ];
  }
}

function scaleSteps(plan: PlanFor<'scale'>, names: ContainerNames): string[] {
  const cs = plan.preconditions.containers;
  const now = cs.length;
  const wanted = plan.desired.replicas;
  const head = `scale ${plan.service} from ${plural(now, 'replica')} to ${wanted}`;
  if (wanted > now)
    return [head, `start ${plural(wanted - now, 'new replica')} like the current ones`, HEALTH];
  if (wanted === now) return [head, 'nothing changes: the count is already right'];
  // Exactly the containers the plan names go; every other one stays (at 0, kept stopped as the template).
  const goes = new Set(plan.desired.remove_containers);
  const stays = cs.filter((c) => !goes.has(c.id));
  return [
    `${head}: ${plural(goes.size, 'replica goes', 'replicas go')}, ${plural(stays.length, 'stays', 'stay')}`,
    ...cs.filter((c) => goes.has(c.id)).map((c) => `stop and remove ${containerText(c, names)}`),
    ...stays.map((c) =>
      wanted === 0
        ? `keep ${containerText(c, names)} stopped, as the template for a later scale up`
        : `keep ${containerText(c, names)}`,
    ),
  ];
}

function removeSteps(
  plan: PlanFor<'remove'>,
  c: PlanContainer,
  names: ContainerNames,
  volumes: ContainerVolumes,
): string[] {
  const text = containerText(c, names);
  const { volumes: withVolumes, archive } = plan.desired;
  if (!withVolumes) return [`remove ${text}, keeping its volumes`];
  const known = Object.hasOwn(volumes, c.id) ? volumes[c.id] : undefined;
  const fate = archive ? 'archived first' : 'deleted without archive';
  return [
    ...(archive ? [`archive the data of every volume ${text} mounts under Helm's memory folder`] : []),
    `remove ${text} and every volume it mounts, named ones included (their data is ${archive ? 'archived first' : 'NOT archived'})`,
    ...(known === undefined
      ? []
      : known.length === 0
        ? [`${text} mounts no volume: no data is deleted with it`]
        : known.map((v) => `volume ${v}: ${fate}`)),
  ];
}

function deploySteps(plan: PlanFor<'deploy'>, names: ContainerNames, stopWaits: StopWaits): string[] {
  const d = plan.desired;
  const source = d.manifest_digest
    ? `pull ${d.image} by digest ${shortImage(d.manifest_digest)}`
    : d.image_id
      ? `use the local image ${shortImage(d.image_id)} (${d.image})`
      : `pull ${d.image}`;
  const old = plan.preconditions.containers.map((c) => containerText(c, names));
  // The stop waits for the process to exit (then Docker kills it): the longest part of a switch.
  const waits = plan.preconditions.containers.map((c) =>
    Object.hasOwn(stopWaits, c.id) ? `, waiting up to ${stopWaits[c.id]} for it to exit` : '',
  );
  const replace =
    d.strategy === 'start-first'
      ? startFirstSteps(plan, old)
      : [...old.map((c, i) => `stop ${c}${waits[i]}, then start its replacement from the new image`)];
  return [
    d.artifact_id ? `${source} (Forge artifact ${d.artifact_id})` : source,
    ...(old.length === 0 ? [`start ${plan.service} from the new image`] : replace),
    ...(d.strategy === 'start-first' && old.length > 0
      ? [
          `if a new instance fails before the switch, remove it: ${d.replaces_release ?? 'the running release'} serves throughout`,
        ]
      : [
          HEALTH,
          d.replaces_release
            ? `if it is unhealthy, roll back to release ${d.replaces_release}`
            : 'if it is unhealthy, report the failure (there is no earlier release to roll back to)',
        ]),
    `record it as release ${d.new_release}${d.replaces_release ? `, replacing ${d.replaces_release}` : ''}`,
  ];
}

/**
 * start-first behind the proxy (contract 1.6, decision 86): the steps name the instance port, the
 * switch, the checks through the proxy, the drain; the old containers stop only after them.
 */
function startFirstSteps(plan: PlanFor<'deploy'>, old: readonly string[]): string[] {
  const route = `Helm's route helm-${plan.service} in the front proxy`;
  return [
    'start-first behind the proxy: the old containers keep serving until the new ones passed every check',
    ...old.map(
      (c) =>
        `start a new instance beside ${c} on a free instance port of its own (HELM_PROXY_PORT_RANGE, never the old one's), and check its health on that port, never through the proxy`,
    ),
    `switch the upstreams of ${route} to the new instances, the old ones behind them as fallback`,
    'check through the proxy for the stability window that the new instances answer; on any failure switch back to the old ones at once and remove the new ones',
    `settle ${route} on the new instances alone, then drain the old ones (HELM_PROXY_DRAIN_S, default 10 s) for requests in flight`,
    ...old.map((c) => `stop ${c} and keep it for rollback; its new instance takes its name`),
  ];
}

function setEnvSteps(plan: PlanFor<'set_env'>, names: ContainerNames): string[] {
  const d = plan.desired;
  const sets = Object.keys(d.set)
    .sort()
    .map((name) => {
      const v = d.set[name];
      return v && 'secret' in v
        ? `set ${name} from secret ${v.secret} (HMAC ${v.hmac_sha256.slice(0, 12)}…)`
        : `set ${name} to an inline value`;
    });
  return [
    ...sets,
    ...d.unset.map((name) => `unset ${name}`),
    ...plan.preconditions.containers.map(
      (c) => `recreate ${containerText(c, names)} with the new environment`,
    ),
    HEALTH,
  ];
}
