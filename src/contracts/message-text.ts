import { escapeText } from './escape-text.js';
import { takeCodePoints } from './unicode.js';

/** How much of a submitted value a message may quote: enough to recognise it, too little to leak much. */
export const QUOTE_MAX_CODE_POINTS = 40;

/**
 * A submitted string as a message may show it: cut to 40 code points, in double quotes, escaped the
 * way every sink escapes (escapeText: `\\`, `\n`, `\u{202e}` for a control or bidi character; and
 * `\"`), so a newline, a terminal escape or a bidi override in hostile input can neither forge a
 * second line of a log nor reorder what a person reads; marked with "…" when cut. Only names and enum
 * values are ever quoted: never a field's free-text or env value.
 */
export function quoteForMessage(value: string): string {
  const cut = takeCodePoints(value, QUOTE_MAX_CODE_POINTS);
  const escaped = escapeText(cut, 'terminal').replace(/"/g, '\\"');
  return `"${escaped}${cut === value ? '' : '…'}"`;
}

/** "a", "a and b", "a, b and c" */
export function listInWords(items: readonly string[], conjunction = 'or'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1]}`;
}
