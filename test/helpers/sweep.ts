// Removal of test containers left behind. Shared by the global setup and docker.ts.
import type Docker from 'dockerode';

export const LABEL_TEST = 'helm.test';
export const LABEL_RUN = 'helm.test-run';
export const LABEL_PID = 'helm.test-pid';
export const LABEL_FILE = 'helm.test-file';
/** Label testcontainers puts on every container it creates. */
export const LABEL_TESTCONTAINERS = 'org.testcontainers';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but is not ours to signal; still alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Force-removes test containers (label `helm.test` or `org.testcontainers=true`) that no live test
 * run owns. Other engineers run integration tests on the same engine at the same time, so a
 * container whose `helm.test-pid` names another live process is spared; one without that label
 * (a crashed run, a testcontainers container started without testLabels) is removed.
 * With `runId`, every container of that run is removed as well.
 * @returns the ids removed
 */
export async function sweepTestContainers(
  docker: Docker,
  options: { ownPid: number; runId?: string },
): Promise<string[]> {
  const [helm, tc] = await Promise.all([
    docker.listContainers({ all: true, filters: { label: [LABEL_TEST] } }),
    docker.listContainers({ all: true, filters: { label: [`${LABEL_TESTCONTAINERS}=true`] } }),
  ]);
  const byId = new Map([...helm, ...tc].map((c) => [c.Id, c]));
  const doomed = [...byId.values()].filter((c) => {
    const labels = c.Labels ?? {};
    if (options.runId !== undefined && labels[LABEL_RUN] === options.runId) return true;
    const pid = Number(labels[LABEL_PID]);
    if (!Number.isInteger(pid) || pid <= 0) return true;
    return pid === options.ownPid ? options.runId !== undefined : !processAlive(pid);
  });
  return removeContainers(
    docker,
    doomed.map((c) => c.Id),
  );
}

/** Force-removes containers (and their anonymous volumes); one already gone is not an error. */
export async function removeContainers(docker: Docker, ids: string[]): Promise<string[]> {
  const removed: string[] = [];
  await Promise.all(
    ids.map(async (id) => {
      try {
        await docker.getContainer(id).remove({ force: true, v: true });
        removed.push(id);
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode;
        // 404: gone already; 409: removal already in progress (another sweep).
        if (status !== 404 && status !== 409) throw error;
      }
    }),
  );
  return removed;
}
