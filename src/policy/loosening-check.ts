// Finds what in a policy document would loosen the design card's rules, before the schema sees it, so
// the owner reads "would loosen" and not merely "unknown key". The schema refuses all of it anyway:
// this only makes the refusal say why.

/** A key that reads as an exemption: allow, auto, no_approval, skip, bypass, exempt, … */
const LOOSENING_KEY =
  /(allow|auto|no_?approv|without_?approv|not_?required|skip|bypass|exempt|except|permit|whitelist|trust|unrestrict|override|ungated|no_?gate|loosen|relax|disable|safe|optional)/;

/** A value that reads as "no approval": false, auto, allow, none, never, off, … */
const LOOSENING_VALUE =
  /^(auto|automatic|allow|allowed|permit|permitted|none|never|no|off|false|skip|bypass|exempt|disabled?|optional|no_?approval|not_?required|unrestricted|ungated)$/;

function normalise(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
}

export function isLooseningKey(key: string): boolean {
  return LOOSENING_KEY.test(normalise(key));
}

export function isLooseningValue(value: unknown): boolean {
  if (value === false) return true;
  return typeof value === 'string' && LOOSENING_VALUE.test(normalise(value));
}

export const LOOSENING_SUFFIX =
  "would loosen the design card's rules; a policy file can only tighten them (add require_approval or deny rules)";
