// The models of the advisor-on Helm in the crash → alert section: the test suite's fake Ollama and
// Anthropic servers on 127.0.0.1 (the real clients talk the real wire formats to them), each answering
// every call with a valid advice (`submit_advice`, the shape test/integration/advisor/diagnosis-harness.ts
// `adviceFor` gives) after a deliberate delay, so that what the bench measures is a Helm whose model is
// slow, not one whose model answers at once.
import { randomBytes } from 'node:crypto';
import { anthropicToolUse, FakeAnthropic } from '../../test/helpers/fake-anthropic.js';
import { FakeOllama, ollamaToolCalls } from '../../test/helpers/fake-ollama.js';

export interface FakeModels {
  /** What the advisor-on Helm's env needs to reach them (loopback only). */
  env: Record<string, string>;
  calls(): { ollama: number; anthropic: number };
  /** Problems the fakes hit (a script that threw): expected empty. */
  failures(): string[];
  close(): Promise<void>;
}

/** A valid advice for a killed web container: one finding, one cause, a restart proposal. */
export function benchAdvice(target: string): Record<string, unknown> {
  const summary = 'It was killed from outside (exit 137, signal 9), not by the kernel (OOMKilled false).';
  return {
    summary,
    findings: [{ statement: summary, evidence_ids: ['inspect'] }],
    possible_causes: [{ cause: summary, confidence: 0.7, evidence_ids: ['inspect'] }],
    unknowns: [],
    proposals: [{ action: 'restart', target, rationale: 'bring it back', evidence_ids: ['inspect'] }],
  };
}

/** Starts both fakes; `target()` names the service the advice is about (the round's container). */
export async function startFakeModels(delayMs: number, target: () => string): Promise<FakeModels> {
  const advice = () => [{ name: 'submit_advice', input: benchAdvice(target()) }];
  const anthropic = new FakeAnthropic(() => anthropicToolUse(advice(), { delayMs }));
  const ollama = new FakeOllama(() =>
    ollamaToolCalls(
      advice().map((c) => ({ name: c.name, arguments: c.input })),
      { delayMs },
    ),
  );
  await anthropic.start();
  try {
    await ollama.start();
  } catch (err) {
    await anthropic.close();
    throw err;
  }
  return {
    env: {
      OLLAMA_HOST: ollama.url,
      ANTHROPIC_BASE_URL: anthropic.url,
      // Not a credential: the fake accepts any key; the real client only needs one to be set.
      ANTHROPIC_API_KEY: `sk-ant-bench-${randomBytes(8).toString('hex')}`,
    },
    calls: () => ({ ollama: ollama.calls.length, anthropic: anthropic.calls.length }),
    failures: () => [...ollama.failures, ...anthropic.failures],
    close: async () => {
      await ollama.close();
      await anthropic.close();
    },
  };
}
