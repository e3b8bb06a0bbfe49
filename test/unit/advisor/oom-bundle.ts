import type { EvidenceBundle } from '../../../src/advisor/evidence-bundle.js';

/** A dev crash loop of `web`: exited 137, OOMKilled, restarted `restartCount` times; nothing else. */
export function oomBundle(restartCount: number, over: Partial<EvidenceBundle> = {}): EvidenceBundle {
  return {
    target: 'web',
    environment: 'dev',
    incidentKind: 'crash_loop',
    inspect: {
      id: 'inspect',
      status: 'exited',
      running: false,
      exitCode: 137,
      oomKilled: true,
      restartCount,
      health: null,
    },
    logs: [],
    events: [],
    releaseDiff: null,
    runLog: [],
    ...over,
  };
}
