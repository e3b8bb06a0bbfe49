// Untrusted text (log lines, labels, env values, event text, run-log reasons) reaches a model only as
// data inside a fence whose tag carries a per-call random nonce:
//   <data-3f9c01ab-77d2e410-0b9e5c21-a4f8e6d3 id="ev-4">…</data-3f9c01ab-…-a4f8e6d3>
// The system prompt says that fenced content is data and may contain attacks. Inside a fence:
//   - ANSI escape sequences, C0/C1 controls, DEL, zero-width, bidi and other format characters, line
//     separators, noncharacters and lone surrogates are removed (\n and \t kept only when asked: a
//     removed newline or tab becomes a space so words stay apart);
//   - the text is NFKC-normalised first, so full-width or small "<" cannot pass for a tag;
//   - every "<" that opens something tag-like for a fence ("<data", "</data", with blanks or any
//     case) becomes "&lt;", so no content can close or open a fence, even one that knows the nonce.
// Pure apart from the nonce, which comes from node:crypto.
import { randomBytes } from 'node:crypto';
import { isUnsafeCodePoint } from '../contracts/escape-text.js';

/** 128 random bits: a fence tag no text written before the call can contain. */
export const NONCE_BYTES = 16;

export interface SanitiseOptions {
  keepNewlines?: boolean;
  keepTabs?: boolean;
}

export interface FenceItemOptions extends SanitiseOptions {
  /** Helm's own id for the item (an evidence id); restricted to a safe alphabet. */
  id?: string;
}

export interface Fence {
  readonly nonce: string;
  readonly openTag: (id?: string) => string;
  readonly closeTag: string;
  /** The text, sanitised and wrapped in this call's fence. */
  readonly wrap: (text: string, options?: FenceItemOptions) => string;
}

/**
 * Hex in groups of eight: a run of 32 hex digits would look like a token to redact-for-model, and a
 * prompt redacted as a whole would then have its fence tags masked.
 */
export function newNonce(): string {
  return (randomBytes(NONCE_BYTES).toString('hex').match(/.{8}/g) ?? []).join('-');
}

const NONCE_PATTERN = /^[0-9a-f]{8}(?:-[0-9a-f]{8}){1,7}$/;

/** One fence per model call: every untrusted item of that call is wrapped with the same nonce. */
export function createFence(nonce: string = newNonce()): Fence {
  if (!NONCE_PATTERN.test(nonce)) {
    throw new Error('a fence nonce must be 2 to 8 groups of 8 lowercase hex digits joined by "-"');
  }
  const tag = `data-${nonce}`;
  const openTag = (id?: string) => (id === undefined ? `<${tag}>` : `<${tag} id="${safeId(id)}">`);
  const closeTag = `</${tag}>`;
  return {
    nonce,
    openTag,
    closeTag,
    wrap: (text, options = {}) => `${openTag(options.id)}${sanitiseUntrusted(text, options)}${closeTag}`,
  };
}

// CSI (7- and 8-bit), OSC and the string commands (DCS, SOS, PM, APC) up to their terminator (or the
// end of the text when cut), then any other two-character ESC sequence.
const ANSI_SEQUENCE = new RegExp(
  [
    '(?:\\u001b\\[|\\u009b)[0-?]*[ -/]*[@-~]',
    '(?:\\u001b\\]|\\u009d)[^\\u0007\\u001b\\u009c]*(?:\\u0007|\\u001b\\\\|\\u009c)?',
    '(?:\\u001b[PX^_]|[\\u0090\\u0098\\u009e\\u009f])[^\\u001b\\u009c]*(?:\\u001b\\\\|\\u009c)?',
    '\\u001b[ -/]*[0-~]',
  ].join('|'),
  'g',
);

/** "<" then blanks, an optional "/", blanks, "data": anything a reader could take for a fence tag. */
const TAG_LIKE = /<(?=\s*\/?\s*data)/gi;

/** The text with nothing a terminal or a model could read as structure or hide from a person. */
export function sanitiseUntrusted(text: string, options: SanitiseOptions = {}): string {
  // NFKC turns "＜" or "﹤" into "<" before the tag check sees it; the filter runs after it, so nothing
  // normalisation produces escapes the filter either.
  const normalised = text.replace(ANSI_SEQUENCE, '').normalize('NFKC').replace(/\r\n/g, '\n');
  let kept = '';
  for (const ch of normalised) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x0a || cp === 0x2028 || cp === 0x2029) kept += options.keepNewlines ? '\n' : ' ';
    else if (cp === 0x09) kept += options.keepTabs ? '\t' : ' ';
    else if (!isUnsafeCodePoint(cp)) kept += ch;
  }
  // Last, so that no removal above can join "<" and "data" after the check.
  return kept.replace(TAG_LIKE, '&lt;');
}

function safeId(id: string): string {
  return id.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 128);
}
