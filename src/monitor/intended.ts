import type { Clock } from '../base/clock.js';
import type { Intent } from '../intents/intent-store.js';

/**
 * "Helm is changing this service now": the executor holds the service's lease in Redis and has an
 * intent on disk (`<memoryDir>/intents/*.json`) from before its first Docker change until the
 * operation ended; the containers it creates carry `helm.op` naming that operation. The monitor asks
 * on every event that could page someone; an answer of yes is remembered for `lingerMs` so that
 * events Docker delivers just after the operation ended (its `die`/`stop` arrive 30–50 ms after the
 * change) are still Helm's own.
 */
export type IsIntended = (containerId: string, service: string, op: string | null) => Promise<boolean>;

export interface IntendedCheckDeps {
  intents: { list(): Promise<Intent[]> };
  /** Whether the executor's lease on this service is held (bus/lease-probe.ts asks Redis). */
  leaseHeld(service: string): Promise<boolean>;
  clock: Clock;
  /** @defaultValue 3000 */
  lingerMs?: number;
}

export function makeIntendedCheck(deps: IntendedCheckDeps): IsIntended {
  const lingerMs = deps.lingerMs ?? 3_000;
  const recent = new Map<string, number>(); // service → until (ms)
  return async (_containerId, service, op) => {
    const now = deps.clock.now().getTime();
    const until = recent.get(service);
    if (until !== undefined && until > now) return true;
    recent.delete(service);
    const [intents, leased] = await Promise.all([
      deps.intents.list().catch(() => [] as Intent[]),
      // Redis unreachable: no lease can be proven, so the event is judged on its own (default: alert).
      deps.leaseHeld(service).catch(() => false),
    ]);
    const yes =
      leased || intents.some((i) => i.service === service || (op !== null && op !== '' && i.op === op));
    if (yes) recent.set(service, now + lingerMs);
    return yes;
  };
}
