// Issue 8 item 13: raw bidi and control characters of an invalid request (echoed in `target` and in
// problem messages) reached Helm's stdout JSON log while the run log escaped them. Every sink now
// escapes them the same way (the run log's escapeText): a real Helm process, a request with U+202E
// and control characters through the real bus, and its stdout, its log file and its run log read back.
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isUnsafeCodePoint } from '../../../src/contracts/escape-text.js';
import { waitFor } from '../../helpers/containers.js';
import { busClient, TEST_REDIS_URL } from '../../helpers/helm.js';
import { type HelmProcess, spawnHelm } from '../../helpers/helm-process.js';
import { freshPrefix } from '../../helpers/queue-prefix.js';
import { makeTestWarden } from '../../helpers/warden.js';

const helms: HelmProcess[] = [];
afterAll(async () => {
  for (const h of helms) await h.terminate().catch(() => undefined);
});

const HOSTILE_TARGET = 'web\u202Egnp.exe\u0007\u001b[2J\u009b\u2028x';
const HOSTILE_REASON = 'because\u202E\u0000\r\ninjected line\u200F';

/** Every code point that may not appear raw in a sink (newlines between lines aside). */
function rawUnsafe(text: string): string[] {
  return [...text]
    .filter((ch) => ch !== '\n' && isUnsafeCodePoint(ch.codePointAt(0)!))
    .map((ch) => `U+${ch.codePointAt(0)!.toString(16)}`);
}

/** Strings of a parsed JSON line: a JSON escape like \u0007 must not decode to a raw control either. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)]);
  return [];
}

function checkSink(text: string): Array<Record<string, unknown>> {
  expect(rawUnsafe(text)).toEqual([]);
  const lines = text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines.flatMap(strings).flatMap(rawUnsafe)).toEqual([]);
  return lines;
}

describe("Helm's own log sinks", () => {
  it('escape the bidi and control characters of an invalid request the way the run log does', async () => {
    const memoryDir = await mkdtemp(path.join(os.tmpdir(), 'helm-escape-'));
    const logFile = path.join(memoryDir, 'helm.log');
    const prefix = freshPrefix();
    const helm = spawnHelm({
      REDIS_URL: TEST_REDIS_URL,
      HELM_QUEUE_PREFIX: prefix,
      HELM_MEMORY_DIR: memoryDir,
      HELM_INSTANCE: `escape-${prefix}`,
      HELM_WARDEN_PUBLIC_KEY: makeTestWarden().publicPem,
      HELM_SCOPE_LABELS: `ghost.scope=${prefix}`,
      HELM_LOG_FILE: logFile,
      LOG_LEVEL: 'debug',
    });
    helms.push(helm);
    const escapedTarget = 'web\\u{202e}gnp.exe\\u{7}\\u{1b}[2J\\u{9b}\\u{2028}x';
    const bus = await busClient(prefix);
    try {
      const result = await bus.request({
        action: 'restart',
        target: HOSTILE_TARGET,
        environment: 'dev',
        reason: HOSTILE_REASON,
        params: { [`bad\u202Ekey`]: 1 },
      });
      expect(result.status).toBe('failed');
      const error = result.error as { code: string; message: string };
      expect(error.code).toBe('invalid_request');
      // The result and its action_result alert quote the unknown key escaped the same way.
      expect(error.message).toContain('bad\\u{202e}key');
      const alerts = await waitFor(async () => {
        const sent = (await bus.alertsSent()).filter((a) => a['kind'] === 'action_result');
        return sent.length > 0 ? sent : null;
      }, 'the action_result alert');
      // Text for people is escaped; the data fields (result.target, details.result) echo the request.
      const alertText = String(alerts[0]!['message']);
      expect(rawUnsafe(alertText)).toEqual([]);
      expect(alertText).toContain(escapedTarget);
      expect(rawUnsafe(error.message)).toEqual([]);
    } finally {
      await bus.close();
    }
    const ended = await waitFor(
      async () => helm.output().includes('request ended') || null,
      'the "request ended" line on stdout',
    );
    expect(ended).toBe(true);
    expect(await helm.terminate()).toBe(0);

    const stdoutLines = checkSink(helm.output());
    const fileLines = checkSink(await readFile(logFile, 'utf8'));
    for (const lines of [stdoutLines, fileLines]) {
      const line = lines.find((l) => l['msg'] === 'request ended');
      expect(line?.['target']).toBe(escapedTarget);
    }
    // The run log shows the same value the same way.
    const runLog = await readFile(path.join(memoryDir, 'run_log.md'), 'utf8');
    expect(rawUnsafe(runLog)).toEqual([]);
    expect(runLog).toContain(escapedTarget);
  });
});
