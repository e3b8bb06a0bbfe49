// Scope on the real engine: a Helm manages only the containers its scope names, so parallel test
// files (and other people's containers) are never touched by another test's Helm.
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { makeDockerReads } from '../../src/docker/dockerode-reads.js';
import { listManagedContainers } from '../../src/docker/scope.js';
import { removeTestContainers } from '../helpers/docker.js';
import { runScriptContainer, uniqueName } from '../helpers/containers.js';

afterAll(async () => {
  await removeTestContainers();
});

describe('listManagedContainers', () => {
  it('lists exactly the containers in scope: by label, by compose project, and not the rest', async () => {
    const scope = uniqueName('scope');
    const project = uniqueName('proj');
    const inByLabel = await runScriptContainer('sleep 600', {
      labels: { 'ghost.scope': scope, 'ghost.service': 'a' },
    });
    const inByProject = await runScriptContainer('sleep 600', {
      labels: { 'com.docker.compose.project': project },
    });
    const outOtherScope = await runScriptContainer('sleep 600', {
      labels: { 'ghost.scope': `${scope}-other`, 'ghost.service': 'b' },
    });
    const outUnlabelled = await runScriptContainer('sleep 600');

    const config = loadConfig({
      HELM_SCOPE_LABELS: `ghost.scope=${scope}`,
      HELM_SCOPE_COMPOSE_PROJECTS: project,
    });
    const managed = (await listManagedContainers(makeDockerReads(undefined), config.scope)).map((c) => c.id);
    expect(managed).toContain(inByLabel.id);
    expect(managed).toContain(inByProject.id);
    expect(managed).not.toContain(outOtherScope.id);
    expect(managed).not.toContain(outUnlabelled.id);

    // The default scope (every ghost.service container) does include the other scope's service.
    const all = (await listManagedContainers(makeDockerReads(undefined), loadConfig({}).scope)).map(
      (c) => c.id,
    );
    expect(all).toContain(outOtherScope.id);
    expect(all).not.toContain(outUnlabelled.id);
  });
});
