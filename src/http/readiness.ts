/**
 * /readyz: each dependency Helm needs to serve answers within a bound. Checks run at once; one that
 * throws or takes longer than `timeoutMs` fails with its reason, cut short (it may name a host, never
 * a secret: the wiring passes messages through the redactor).
 */
export type ReadinessChecks = Record<string, () => Promise<void>>;

export interface Readiness {
  ready: boolean;
  checks: Record<string, { ok: true } | { ok: false; reason: string }>;
}

export async function checkReadiness(checks: ReadinessChecks, timeoutMs: number): Promise<Readiness> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((n) => within(checks[n]!(), timeoutMs)));
  const out: Readiness['checks'] = {};
  names.forEach((n, i) => {
    out[n] = results[i]!;
  });
  return { ready: results.every((r) => r.ok), checks: out };
}

async function within(p: Promise<void>, ms: number): Promise<{ ok: true } | { ok: false; reason: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([p, timeout]);
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: (err instanceof Error ? err.message : String(err)).slice(0, 300) };
  } finally {
    clearTimeout(timer);
  }
}
