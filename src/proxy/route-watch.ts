import type { ContainerEvent, DockerEvents, EventSubscription } from '../docker/docker-ports.js';
import { LABEL } from '../docker/labels.js';
import { type EnsureRoutesDeps, ensureRoutes, type RouteAction } from './route-reconcile.js';
import { ROUTE_LABEL } from './route-labels.js';

/**
 * Keeps routed services served: at start, every routed service in scope without its route gets it;
 * then, whenever a container with route labels starts or turns healthy, its service is looked at
 * again, and every service every `intervalMs` (a restarted proxy gets its routes back). If Docker's
 * event stream ends, it resubscribes and looks at everything once more.
 */

export interface RouteWatchDeps extends EnsureRoutesDeps {
  events: Pick<DockerEvents, 'subscribeContainerEvents'>;
  /** What each pass did (the wiring logs it). */
  onActions(actions: RouteAction[]): void;
  /** A pass or a subscription that failed (the proxy or Docker unreachable); the watch goes on. */
  onError(error: unknown): void;
  /** Wait before resubscribing after the stream ended; default 1 s. */
  retryMs?: number;
  /**
   * Every routed service is looked at again this often (default 10 s): a proxy restarted without
   * its saved config has lost Helm's routes, and no container event says so.
   */
  intervalMs?: number;
}

export interface RouteWatch {
  close(): void;
}

/** The service a start or healthy event names, when its container carries route labels. */
export function routedServiceOf(event: ContainerEvent): string | null {
  const starting =
    event.action === 'start' || (event.action === 'health_status' && event.health === 'healthy');
  if (!starting) return null;
  const a = event.attributes;
  if (a[ROUTE_LABEL.port] === undefined && a[ROUTE_LABEL.host] === undefined) return null;
  return a[LABEL.service] ?? null;
}

export async function startRouteWatch(deps: RouteWatchDeps): Promise<RouteWatch> {
  let closed = false;
  let subscription: EventSubscription | null = null;
  let retry: NodeJS.Timeout | null = null;

  const pass = async (service?: string) => {
    try {
      const actions = await ensureRoutes(deps, service);
      if (actions.length > 0) deps.onActions(actions);
    } catch (error) {
      deps.onError(error);
    }
  };

  const subscribe = async (): Promise<void> => {
    try {
      const sub = await deps.events.subscribeContainerEvents({
        onEvent: (event) => {
          const service = routedServiceOf(event);
          if (service !== null && !closed) void pass(service);
        },
        onEnd: (error) => {
          subscription = null;
          if (error) deps.onError(error);
          scheduleResubscribe();
        },
      });
      if (closed) sub.close();
      else subscription = sub;
    } catch (error) {
      deps.onError(error);
      scheduleResubscribe();
      return;
    }
    // Whatever started while there was no stream (or before Helm ran) is looked at once.
    await pass();
  };

  const scheduleResubscribe = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = null;
      void subscribe();
    }, deps.retryMs ?? 1000);
    retry.unref();
  };

  await subscribe();
  const every = setInterval(() => {
    if (!closed) void pass();
  }, deps.intervalMs ?? 10_000);
  every.unref();
  return {
    close() {
      closed = true;
      clearInterval(every);
      if (retry) clearTimeout(retry);
      subscription?.close();
      subscription = null;
    },
  };
}
