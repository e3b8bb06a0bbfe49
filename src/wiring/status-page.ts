import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { status } from '../actions/status.js';
import type { Alert, ContainerStatus } from '../contracts/index.js';
import { ALL_IN_SCOPE } from '../contracts/identifiers.js';
import { makeIncidentBoardReader } from '../bus/incident-board.js';
import { servicesInScope } from '../docker/scope.js';
import { makeParkedStore } from '../gate/parked-store.js';
import { checkReadiness, type ReadinessChecks } from '../http/readiness.js';
import { assembleStatusPage, STATUS_PAGE_LIMITS, type StatusPageData } from '../http/status-page-data.js';
import { makeRunLogView } from '../http/run-log-view.js';
import type { HelmParts } from './parts.js';
import { makeInFlightReads } from './reads.js';

/** A rollback document is shown inline up to this size; longer ones are cut (the file stays whole). */
const ROLLBACK_DOC_MAX_CHARS = 16 * 1024;

/**
 * What the status page reads each time it asks (README, "Owner's endpoints"): every service in scope
 * through the `status` safe read's own handler (no run-log entry: this is the owner looking, not a
 * request), the parked requests, the run log merged and verified, the last alerts this process sent
 * (kept from the sender's onSent), the monitor's incidents (from Redis: the monitor may be another
 * process) and Helm's readiness. Assembled by http/status-page-data.ts.
 */
export function makeStatusPageReader(
  p: HelmParts,
  readiness: ReadinessChecks,
): () => Promise<StatusPageData> {
  const parked = makeParkedStore(p.redis, p.config.queuePrefix);
  const inFlight = makeInFlightReads(p, parked);
  const incidents = makeIncidentBoardReader(p.redis, p.config.queuePrefix);
  // Verifies only what was appended since the last refresh (run-log-view.ts says when it reads in full).
  const runLogView = makeRunLogView(p.config.memoryDir, p.keys.runLog, {
    keepEntries: STATUS_PAGE_LIMITS.runLogEntries,
  });
  const alerts: Alert[] = [];
  p.alerts.onSent((alert) => {
    alerts.push(alert);
    if (alerts.length > STATUS_PAGE_LIMITS.alerts) alerts.shift();
  });
  // Several open pages asking at once share one read.
  let reading: Promise<StatusPageData> | null = null;
  const readOnce = async (): Promise<StatusPageData> => {
    const unavailable: string[] = [];
    // A part that cannot be read (Docker down, the run log unreadable) shows as such; the rest still shows.
    const part = <T>(name: string, read: Promise<T>, instead: T): Promise<T> =>
      read.catch((err: unknown) => {
        unavailable.push(`${name}: ${p.redactor.redact(err instanceof Error ? err.message : String(err))}`);
        return instead;
      });
    const [containers, parkedRecords, runLog, board, ready] = await Promise.all([
      part('services', allContainers(p, inFlight), []),
      part('parked requests', parked.listParked(), []),
      part('run log', runLogView(), {
        modes: {},
        ok: false,
        files: [],
        problems: [],
        entries: [],
      }),
      part("the monitor's incidents", incidents.read(), null),
      checkReadiness(readiness, 3000),
    ]);
    const services = [...new Set(containers.map((c) => c.service))];
    const docs = await Promise.all(services.map((s) => rollbackDoc(p.config.memoryDir, s)));
    return assembleStatusPage({
      now: p.clock.now(),
      containers,
      rollbackDocs: Object.fromEntries(services.map((s, i) => [s, docs[i]!])),
      parked: parkedRecords.filter((r) => r.status === 'parked').map((r) => r.approval_request),
      runLog,
      alerts: [...alerts],
      incidents: board,
      readiness: ready,
      unavailable,
    });
  };
  return () => {
    reading ??= readOnce().finally(() => {
      reading = null;
    });
    return reading;
  };
}

async function allContainers(
  p: HelmParts,
  inFlight: ReturnType<typeof makeInFlightReads>,
): Promise<ContainerStatus[]> {
  const services = servicesInScope(await p.docker.listContainers(), p.config.scope);
  const outcome = await status({
    request: { action: 'status', target: ALL_IN_SCOPE, environment: 'production', reason: 'status page' },
    service: {
      name: ALL_IN_SCOPE,
      via: 'ghost.service',
      composeProject: null,
      containers: services.flatMap((s) => s.containers),
    },
    services,
    docker: p.docker,
    clock: p.clock,
    redactor: p.redactor,
    logger: p.logger,
    classification: p.policy.classify,
    inFlight,
  });
  if (!outcome.ok) throw new Error(`${outcome.code}: ${outcome.message}`);
  return (outcome.data?.containers ?? []) as ContainerStatus[];
}

/** Same file name as executor/rollback-doc.ts writes. */
async function rollbackDoc(memoryDir: string, service: string): Promise<string | null> {
  const path = join(memoryDir, 'rollback', `${service.replace(/[^A-Za-z0-9_.-]/g, '_')}.md`);
  try {
    const text = await readFile(path, 'utf8');
    return text.length > ROLLBACK_DOC_MAX_CHARS ? `${text.slice(0, ROLLBACK_DOC_MAX_CHARS)}\n…(cut)` : text;
  } catch {
    return null;
  }
}
