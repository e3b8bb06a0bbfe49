// Helm's own log lines also go to a file when HELM_LOG_FILE is set (rotation itself is tested in
// test/integration/runlog/rotating-file.test.ts).
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { busClient, cardRequest, startTestHelm } from './../helpers/helm.js';

describe('HELM_LOG_FILE', () => {
  it('writes every JSON log line to the file too', async () => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'helm-logfile-')), 'helm.log');
    const h = await startTestHelm({ HELM_LOG_FILE: file });
    const bus = await busClient(h.prefix);
    try {
      await bus.request(cardRequest({ target: '../refused' }));
    } finally {
      await bus.close();
      await h.close();
    }
    const lines = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string });
    expect(lines.some((l) => l.msg === 'Helm is running')).toBe(true);
    expect(lines.some((l) => l.msg === 'request ended')).toBe(true);
  });
});
