// Record-and-replay: a conversation recorded once replays from the cassette file through the real
// client; a request the cassette does not hold fails loudly.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelCallError } from '../../../src/advisor/model-client.js';
import { runModelLoop } from '../../../src/advisor/model-loop.js';
import { FakeOllama, ollamaText, ollamaToolCalls } from '../../helpers/fake-ollama.js';
import { Cassette } from '../../helpers/model-cassette.js';
import { logsTool, OUTPUT, ollamaClient, started, validateSummary } from './advisor-harness.js';

const ask = (host: string, prompt: string) =>
  runModelLoop({
    client: ollamaClient(host),
    escalated: false,
    system: 'You advise.',
    prompt,
    tools: [logsTool()],
    output: OUTPUT,
    validate: validateSummary,
    deadline: Date.now() + 10_000,
    callTimeoutMs: 5000,
  });

describe('model cassettes', () => {
  it('replays a recorded conversation, and a request it does not hold fails loudly', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'helm-cassette-')), 'incident.json');
    // A per-call fence nonce must not change the hash.
    const volatile = [/nonce-[0-9a-f]{8}/];
    const recorder = new Cassette(file, { volatile });
    const live = await started(
      new FakeOllama(
        recorder.recording([
          ollamaToolCalls([{ name: 'read_logs', arguments: { target: 'web' } }]),
          ollamaText('{"summary":"OOM killed"}'),
        ]),
      ),
    );
    const recorded = await ask(live.url, 'Evidence <nonce-0000aaaa> web exited 137');
    expect(recorded).toMatchObject({ outcome: 'answered', value: { summary: 'OOM killed' } });
    recorder.save();

    const cassette = new Cassette(file, { volatile });
    expect(cassette.size).toBe(2);
    const replay = await started(new FakeOllama(cassette.replay()));
    const replayed = await ask(replay.url, 'Evidence <nonce-1234beef> web exited 137');
    expect(replayed).toMatchObject({ outcome: 'answered', value: { summary: 'OOM killed' }, steps: 2 });
    cassette.assertNoMisses();

    const missed = await ask(replay.url, 'Evidence <nonce-1234beef> db exited 1').catch((e: unknown) => e);
    expect(missed).toBeInstanceOf(ModelCallError);
    expect(cassette.misses).toHaveLength(1);
    expect(replay.failures.join()).toMatch(/cassette miss/);
    expect(() => cassette.assertNoMisses()).toThrow(/missed: \/api\/chat [0-9a-f]{64}/);
  });
});
