// What the multi-host tests share: everything they start is closed at the end of the file, and the
// containers of both engines removed; and when a container last started, on either engine.
import type Docker from 'dockerode';
import { afterAll } from 'vitest';
import { removeTestContainers } from '../../helpers/docker.js';
import { removeEngineBContainers } from '../../helpers/engine-b.js';

/** Steps run in reverse after the file's tests, then both engines' containers of this file removed. */
export function closeAfterAll(): Array<() => Promise<unknown>> {
  const closers: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await removeTestContainers();
    await removeEngineBContainers();
  });
  return closers;
}

export async function startedAt(docker: Docker, id: string): Promise<string> {
  return (await docker.getContainer(id).inspect()).State.StartedAt;
}
