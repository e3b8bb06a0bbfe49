/**
 * Redaction by value: every secret Helm knows (values from the owner's secret store, registry
 * credentials, API keys) is replaced wherever it appears in text that leaves Helm: log lines,
 * results, alerts, run-log entries. Redaction by path (pino's `redact`) cannot catch a secret that
 * a container printed into its own logs; this can.
 */
export const REDACTED = '[redacted]';

/** Shorter values would blank out ordinary words; secret stores refuse them (see secret-store.ts). */
export const MIN_SECRET_LENGTH = 6;

export class Redactor {
  private readonly values = new Set<string>();
  private pattern: RegExp | null = null;

  add(value: string | undefined | null): void {
    if (!value || value.length < MIN_SECRET_LENGTH) return;
    const before = this.values.size;
    this.values.add(value);
    // A secret with quotes, backslashes or control characters appears escaped inside JSON text.
    const jsonForm = JSON.stringify(value).slice(1, -1);
    if (jsonForm !== value) this.values.add(jsonForm);
    if (this.values.size !== before) this.pattern = null;
  }

  get size(): number {
    return this.values.size;
  }

  redact(text: string): string {
    if (this.values.size === 0 || text.length < MIN_SECRET_LENGTH) return text;
    if (!this.pattern) {
      // Longest first, so a secret that contains another is replaced whole.
      const alternatives = [...this.values].sort((a, b) => b.length - a.length).map(escapeRegExp);
      this.pattern = new RegExp(alternatives.join('|'), 'g');
    }
    return text.replace(this.pattern, REDACTED);
  }

  /** A copy of a JSON-like value with every string redacted (keys included). */
  redactDeep<T>(value: T): T {
    if (this.values.size === 0) return value;
    return walk(value, (s) => this.redact(s)) as T;
  }
}

function walk(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => walk(v, fn));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[fn(k)] = walk(v, fn);
    return out;
  }
  return value;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
