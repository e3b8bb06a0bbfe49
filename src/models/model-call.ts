import type { Config } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import { AnthropicModelClient } from './anthropic-client.js';
import {
  type ChatRequest,
  type ChatResult,
  ModelCallError,
  type ModelClient,
  type ModelFailureKind,
} from '../advisor/model-client.js';
import { OllamaModelClient } from './ollama-client.js';

/**
 * The fallback chain: the escalation model when the router asks for it, else the default model; an
 * escalation model that does not answer (no key, error, timeout, 429/529) hands over to the default
 * model and the outcome says so; when no model answers the caller falls back to Helm's deterministic
 * evidence summary, and the outcome says that too. The advisor never blocks anything on this.
 */

export interface Attempt {
  client: ModelClient;
  /** The escalation model is the one being asked (the loop allows it more steps). */
  escalated: boolean;
}

export interface ModelFailure {
  model: string;
  kind: ModelFailureKind;
  message: string;
}

export type ChainOutcome<T> =
  | {
      model: string;
      escalated: boolean;
      /** The escalation model was asked first and did not answer. */
      fellBack: ModelFailure | null;
      value: T;
      /** One sentence for the owner: which model answered and, if it is not the one asked, why. */
      note: string;
    }
  | { model: null; tried: ModelFailure[]; note: string };

export interface DegradedSignals {
  /** No model answered: raise `helm_degraded:advisor` (once, until a model answers again). */
  onDegraded?: (event: { tried: ModelFailure[]; note: string }) => void;
  /** A model answered again after onDegraded. */
  onResolved?: (event: { model: string }) => void;
}

export interface ModelChainOptions extends DegradedSignals {
  defaultClient: ModelClient;
  escalationClient: ModelClient;
  logger: Logger;
}

export class ModelChain {
  private readonly defaultClient: ModelClient;
  private readonly escalationClient: ModelClient;
  private degraded = false;

  constructor(private readonly opts: ModelChainOptions) {
    this.defaultClient = loggedClient(opts.defaultClient, opts.logger);
    this.escalationClient = loggedClient(opts.escalationClient, opts.logger);
  }

  /** Whether the last run found no model answering (the degraded signal is up). */
  get isDegraded(): boolean {
    return this.degraded;
  }

  /**
   * Runs `attempt` (a whole tool loop, or one call) with the escalation model when `escalate`, else
   * the default model, falling back as described above. Only a ModelCallError moves on to the next
   * model; any other error is Helm's own and is thrown.
   */
  async run<T>(escalate: boolean, attempt: (a: Attempt) => Promise<T>): Promise<ChainOutcome<T>> {
    const tried: ModelFailure[] = [];
    const order: Attempt[] = escalate
      ? [
          { client: this.escalationClient, escalated: true },
          { client: this.defaultClient, escalated: false },
        ]
      : [{ client: this.defaultClient, escalated: false }];
    for (const a of order) {
      try {
        const value = await attempt(a);
        this.resolve(a.client.model);
        const fellBack = tried[0] ?? null;
        return {
          model: a.client.model,
          escalated: a.escalated,
          fellBack,
          value,
          note: answeredNote(a, fellBack),
        };
      } catch (error) {
        if (!(error instanceof ModelCallError)) throw error;
        tried.push({ model: a.client.model, kind: error.kind, message: error.message });
      }
    }
    const note = `No model answered (${tried.map(describe).join('; ')}): this is Helm's deterministic evidence summary alone.`;
    this.degrade(tried, note);
    return { model: null, tried, note };
  }

  private degrade(tried: ModelFailure[], note: string): void {
    if (this.degraded) return;
    this.degraded = true;
    this.opts.logger.warn(
      { tried: tried.map((t) => ({ model: t.model, kind: t.kind })) },
      'advisor degraded: no model answers',
    );
    this.opts.onDegraded?.({ tried, note });
  }

  private resolve(model: string): void {
    if (!this.degraded) return;
    this.degraded = false;
    this.opts.logger.info({ model }, 'advisor resolved: a model answers again');
    this.opts.onResolved?.({ model });
  }
}

function describe(f: ModelFailure): string {
  return `${f.model}: ${f.kind}, ${f.message}`;
}

function answeredNote(a: Attempt, fellBack: ModelFailure | null): string {
  if (fellBack)
    return `The escalation model ${fellBack.model} did not answer (${fellBack.kind}: ${fellBack.message}); the default model ${a.client.model} answered instead.`;
  return a.escalated ? `Escalated: ${a.client.model} answered.` : `${a.client.model} answered.`;
}

/**
 * Every model call logged: provider, model, latency, token counts, outcome. Never the prompt, the
 * answer or a server's error text (either may echo evidence): only kinds, counts and statuses.
 */
export function loggedClient(client: ModelClient, logger: Logger): ModelClient {
  const log = logger.child({ component: 'advisor', provider: client.provider, model: client.model });
  return {
    provider: client.provider,
    model: client.model,
    probe: (deadline) => client.probe(deadline),
    async chat(request: ChatRequest): Promise<ChatResult> {
      const started = Date.now();
      try {
        const result = await client.chat(request);
        const fields = {
          outcome: 'answered',
          latencyMs: Date.now() - started,
          promptTokens: result.usage.promptTokens,
          outputTokens: result.usage.outputTokens,
          toolCalls: result.toolCalls.length,
          answered: result.answer !== undefined,
          stopReason: result.stopReason,
          truncated: result.truncated,
        };
        // A cut prompt is an alarm: the model answered without seeing all the evidence.
        if (result.truncated) log.warn(fields, 'model call: prompt truncated to the context window');
        else log.info(fields, 'model call');
        return result;
      } catch (error) {
        const failure = error instanceof ModelCallError ? error : undefined;
        log.warn(
          {
            outcome: 'failed',
            latencyMs: Date.now() - started,
            kind: failure?.kind ?? 'error',
            status: failure?.status,
          },
          'model call failed',
        );
        throw error;
      }
    },
  };
}

/** The chain as Helm's configuration describes it (OLLAMA_HOST, HELM_MODEL_*, ANTHROPIC_*). */
export function modelChainFromConfig(
  config: Pick<Config, 'ollamaHost' | 'anthropicApiKey' | 'advisor'>,
  logger: Logger,
  signals: DegradedSignals = {},
): ModelChain {
  return new ModelChain({
    defaultClient: new OllamaModelClient({
      host: config.ollamaHost,
      model: config.advisor.defaultModel,
      numCtx: config.advisor.numCtx,
    }),
    escalationClient: new AnthropicModelClient({
      apiKey: config.anthropicApiKey,
      baseURL: config.advisor.anthropicBaseUrl,
      model: config.advisor.escalationModel,
    }),
    logger,
    ...signals,
  });
}
