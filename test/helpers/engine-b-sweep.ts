// The second engine's socket and the sweep of its test containers: what the global setup needs of
// engine-b.ts, without the vitest and testcontainers imports of docker.ts.
import Docker from 'dockerode';
import { sweepTestContainers } from './sweep.js';

/** The second engine's socket (HELM_TEST_DOCKER_B_SOCK, as in scripts/test-env.sh). */
export const ENGINE_B_SOCKET = process.env['HELM_TEST_DOCKER_B_SOCK'] ?? '/run/helm-test-docker-b.sock';

/**
 * Test containers left on the second engine, as the global setup sweeps the first; nothing when the
 * second engine is not running (only the multi-host tests need it, and they require it themselves).
 */
export async function sweepEngineB(options: { ownPid: number; runId?: string }): Promise<string[]> {
  const engine = new Docker({ socketPath: ENGINE_B_SOCKET });
  const up = await engine.ping().then(
    () => true,
    () => false,
  );
  return up ? sweepTestContainers(engine, options) : [];
}
