// One untrusted item (a log line, a label, an env value, an event or run-log text) as it may appear in
// a prompt: sanitised, then redacted, then fenced. Redaction runs on the sanitised text (the redactor
// also knows each secret's sanitised spelling), so stripping a zero-width character cannot reassemble a
// secret after masking; the fence sanitises again, which changes nothing (sanitising is idempotent) and
// leaves masks intact.
import type { Fence, SanitiseOptions } from './fence-untrusted.js';
import { sanitiseUntrusted } from './fence-untrusted.js';
import type { ModelRedactor } from './redact-for-model.js';

export interface UntrustedItem extends SanitiseOptions {
  /** Helm's evidence id, cited by the model. */
  id: string;
  text: string;
}

export function untrustedForModel(
  item: UntrustedItem,
  call: { fence: Fence; redactor: ModelRedactor },
): string {
  const options: SanitiseOptions = { keepNewlines: item.keepNewlines, keepTabs: item.keepTabs };
  const redacted = call.redactor.redact(sanitiseUntrusted(item.text, options));
  return call.fence.wrap(redacted, { ...options, id: item.id });
}
