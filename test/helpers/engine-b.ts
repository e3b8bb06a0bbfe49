// The second Docker engine of the multi-host tests (issue 13): another "host" on this machine.
// scripts/test-env.sh starts it beside the first (its own data root, exec root, pidfile and socket,
// bridge disabled) and copies the test images into it, so both engines hold the same image IDs.
import Docker from 'dockerode';
import { sweepTestContainers } from './sweep.js';

/** The second engine's socket (HELM_TEST_DOCKER_B_SOCK, as in scripts/test-env.sh). */
export const ENGINE_B_SOCKET = process.env['HELM_TEST_DOCKER_B_SOCK'] ?? '/run/helm-test-docker-b.sock';

/** The DOCKER_HOST a Helm process (or the docker CLI) uses to reach the second engine. */
export function engineBDockerHost(): string {
  return `unix://${ENGINE_B_SOCKET}`;
}

let docker: Docker | undefined;
/** A plain dockerode handle on the second engine. */
export function engineBDocker(): Docker {
  docker ??= new Docker({ socketPath: ENGINE_B_SOCKET });
  return docker;
}

/** Throws, saying how to start it, when the second engine does not answer. */
export async function requireEngineB(): Promise<Docker> {
  const engine = engineBDocker();
  try {
    await engine.ping();
  } catch (error) {
    throw new Error(
      `the second Docker engine at ${engineBDockerHost()} does not answer (${(error as Error).message}): ` +
        'run `sudo bash scripts/test-env.sh` (it starts it idempotently)',
    );
  }
  return engine;
}

/**
 * Test containers left on the second engine, as the global setup sweeps the first; nothing when the
 * second engine is not running (only the multi-host tests need it, and they require it themselves).
 */
export async function sweepEngineB(options: { ownPid: number; runId?: string }): Promise<string[]> {
  const engine = engineBDocker();
  const up = await engine.ping().then(
    () => true,
    () => false,
  );
  return up ? sweepTestContainers(engine, options) : [];
}
