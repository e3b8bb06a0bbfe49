import { mkdtempSync, readdirSync, readFileSync, rmdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeReleaseStore, type ReleaseRecord, releaseTag } from '../../../src/releases/release-store.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'helm-release-store-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) {
    const releases = join(d, 'releases');
    for (const f of readdirSync(releases)) unlinkSync(join(releases, f));
    rmdirSync(releases);
    rmdirSync(d);
  }
});

function record(id: string, service = 'web'): ReleaseRecord {
  return {
    id,
    service,
    image: 'helm-test/web:1',
    image_id: `sha256:${'1'.repeat(64)}`,
    manifest_digest: null,
    artifact_id: null,
    release_tag: releaseTag(service, id).ref,
    created_at: '2026-01-01T00:00:00.000Z',
    request_id: null,
    approval_id: null,
    environment: 'production',
    op_id: null,
    adopted: false,
    previous: null,
    config_digest: `sha256:${'0'.repeat(64)}`,
    containers: [],
  };
}

describe('release store', () => {
  it('gives r1, r2, … keeps the last 5 (never the current one out), and never reuses an id', async () => {
    const dir = tempDir();
    const store = makeReleaseStore(dir);
    expect(await store.nextReleaseId('web')).toBe('r1');
    await store.saveRelease(record('r1'), { current: true });
    const dropped: string[] = [];
    for (let i = 2; i <= 7; i++) {
      expect(await store.nextReleaseId('web')).toBe(`r${i}`);
      const r = await store.saveRelease(record(`r${i}`), { current: i !== 7 });
      dropped.push(...r.dropped.map((d) => d.id));
    }
    // r6 is current (r7 was saved without becoming current): r1 and r2 dropped.
    expect(dropped).toEqual(['r1', 'r2']);
    expect((await store.listReleases('web')).map((r) => r.id)).toEqual(['r7', 'r6', 'r5', 'r4', 'r3']);
    expect((await store.currentRelease('web'))?.id).toBe('r6');
    expect(await store.nextReleaseId('web')).toBe('r8');
    await store.setCurrent('web', 'r3');
    const more = await store.saveRelease(record('r8'), { current: false });
    expect(more.dropped.map((d) => d.id)).toEqual(['r4']); // the oldest that is not current
    expect(await store.getRelease('web', 'r3')).not.toBeNull();
    await expect(store.setCurrent('web', 'r1')).rejects.toThrow('release r1 of web is not recorded');
    expect(readdirSync(join(dir, 'releases'))).toEqual(['web.json']); // no temp file left
    const file = JSON.parse(readFileSync(join(dir, 'releases', 'web.json'), 'utf8'));
    expect(file).toMatchObject({ service: 'web', current: 'r3', last_number: 8 });
  });

  it('keeps services apart and lists an unknown service as empty', async () => {
    const store = makeReleaseStore(tempDir(), { keep: 2 });
    await store.saveRelease(record('r1', 'a'), { current: true });
    await store.saveRelease(record('r1', 'b'), { current: true });
    expect((await store.listReleases('a')).map((r) => r.service)).toEqual(['a']);
    expect(await store.listReleases('nope')).toEqual([]);
    expect(await store.currentRelease('nope')).toBeNull();
  });
});

describe('releaseTag', () => {
  it('is a valid repository from the lowercased, sanitised name plus a short hash; the release id is the tag', () => {
    expect(releaseTag('web', 'r2')).toEqual({
      repo: expect.stringMatching(/^helm-release\/web-[0-9a-f]{8}$/),
      tag: 'r2',
      ref: expect.stringMatching(/^helm-release\/web-[0-9a-f]{8}:r2$/),
    });
    const a = releaseTag('Shop_Web.1', 'r1');
    expect(a.repo).toMatch(/^helm-release\/shop-web-1-[0-9a-f]{8}$/);
    // Names that sanitise alike get different repositories.
    expect(releaseTag('shop.web', 'r1').repo).not.toBe(releaseTag('shop_web', 'r1').repo);
    expect(releaseTag('__', 'a:b').ref).toMatch(/^helm-release\/service-[0-9a-f]{8}:a-b$/);
  });
});
