import { describeUpstreams, type Upstream, upstream } from '../proxy/proxy-port.js';
import { START_FIRST_STEP } from './start-first-switch.js';
import { STEP } from './steps.js';

/**
 * What recovery does with a start-first switch that Helm stopped in the middle of (a kill -9, a lost
 * lease), decided as data from the intent's last step and what the proxy and Docker show now
 * (issue 11, crash safety). The rule: until the proxy was settled on the new instances alone, go back
 * (until then the old instances never stopped serving); once it was, go forward (the new instances
 * passed every check and serve alone; the old ones may already be stopped), unless a new instance is
 * gone or stopped: then back, the old ones restored first. A proxy that lost the route (restarted)
 * gets the upstreams of the chosen side.
 */

export interface StartFirstReplicaNow {
  name: string;
  oldId: string;
  oldPort: number;
  oldRunning: boolean;
  /** The new instance, when Docker still has it. */
  newId: string | null;
  /** The new instance's name now (`<name>-i<port>`, or the replica's once renamed). */
  newName: string | null;
  newPort: number;
  newRunning: boolean;
}

export interface StartFirstNow {
  service: string;
  /** The intent's last announced step. */
  lastStep: string;
  /** The route's upstreams as the proxy reads them now; null when the proxy has no route (restarted). */
  route: Upstream[] | null;
  replicas: StartFirstReplicaNow[];
}

export type StartFirstRecovery =
  | {
      direction: 'back';
      /** In this order: new instances that no longer run removed (one may hold the replica's name)… */
      removeFirst: string[];
      /** …old instances stopped before the crash, back under their names and started… */
      restore: Array<{ id: string; name: string }>;
      /** …the route on the old instances (null: it already is)… */
      setRoute: Upstream[] | null;
      /** …and the new instances still running stopped and removed. */
      remove: string[];
    }
  | {
      direction: 'forward';
      setRoute: Upstream[] | null;
      /** Old instances still running: stop, disarm and keep them. */
      retire: string[];
      /** New instances not yet under the replica's name. */
      rename: Array<{ id: string; to: string }>;
    };

/** The steps after which the proxy served the new instances alone: recovery goes forward from them. */
const SETTLED_STEPS: ReadonlySet<string> = new Set([
  START_FIRST_STEP.settleUpstream,
  STEP.stopOld,
  STEP.disarmOld,
  STEP.renameOld,
  START_FIRST_STEP.renameInstance,
]);

export function decideStartFirstRecovery(now: StartFirstNow): StartFirstRecovery {
  const olds = now.replicas.map((r) => upstream(r.oldPort));
  const news = now.replicas.map((r) => upstream(r.newPort));
  const routeIs = (want: Upstream[]) =>
    now.route !== null && describeUpstreams(now.route) === describeUpstreams(want);
  const newAllRunning = now.replicas.every((r) => r.newId !== null && r.newRunning);
  if (SETTLED_STEPS.has(now.lastStep) && newAllRunning) {
    return {
      direction: 'forward',
      setRoute: routeIs(news) ? null : news,
      retire: now.replicas.filter((r) => r.oldRunning).map((r) => r.oldId),
      rename: now.replicas
        .filter((r) => r.newId !== null && r.newName !== r.name)
        .map((r) => ({ id: r.newId as string, to: r.name })),
    };
  }
  return {
    direction: 'back',
    removeFirst: now.replicas.flatMap((r) => (r.newId && !r.newRunning ? [r.newId] : [])),
    restore: now.replicas.filter((r) => !r.oldRunning).map((r) => ({ id: r.oldId, name: r.name })),
    setRoute: routeIs(olds) ? null : olds,
    remove: now.replicas.flatMap((r) => (r.newId && r.newRunning ? [r.newId] : [])),
  };
}
