// An image reference by the distribution/reference grammar (the one `docker pull` uses), so that what
// Helm accepts is exactly what the engine would resolve, and nothing that could be read as a flag, a
// path or a shell fragment ("-rf", "../x", "$(x)") ever gets as far as the Docker API.
//
//   reference  := name [ ":" tag ] [ "@" digest ]
//   name       := [ domain "/" ] path-component ( "/" path-component )*      (at most 255 characters)
//   domain     := ( domain-name | "[" ipv6 "]" ) [ ":" port ]
//   path-component := [a-z0-9]+ ( ( [._] | "__" | [-]+ ) [a-z0-9]+ )*
//   tag        := [\w][\w.-]{0,127}
//   digest     := algorithm ":" hex   (validated as go-digest does: sha256/64, sha384/96, sha512/128 hex)

import { wellFormedString } from './primitives.js';

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const PATH = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';

const REFERENCE = new RegExp(`^(?:(${DOMAIN})/)?(${PATH})(?::(${TAG}))?(?:@(${DIGEST}))?$`);

/** Digest algorithms the engine can verify, with their hex length (go-digest wants lowercase hex). */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

export const NAME_TOTAL_LENGTH_MAX = 255;

export interface ImageReference {
  /** Registry host and port, when the reference names one. */
  domain: string | null;
  /** Repository path below the domain. */
  path: string;
  /** domain + "/" + path: what the 255-character limit applies to. */
  name: string;
  tag: string | null;
  digest: string | null;
}

export type ImageReferenceParse = { ok: true; reference: ImageReference } | { ok: false; reason: string };

export function parseImageReference(input: string): ImageReferenceParse {
  if (input === '') return { ok: false, reason: 'must not be empty' };
  if (/[\s\u0000-\u001f\u007f]/.test(input)) {
    return { ok: false, reason: 'must not contain spaces, newlines or control characters' };
  }
  const m = REFERENCE.exec(input);
  if (!m) return { ok: false, reason: explainMismatch(input) };
  const domain = m[1] ?? null;
  const path = m[2] as string;
  const name = domain === null ? path : `${domain}/${path}`;
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    return { ok: false, reason: `repository name must be at most ${NAME_TOTAL_LENGTH_MAX} characters` };
  }
  if (domain === null && /^[a-f0-9]{64}$/.test(path)) {
    return { ok: false, reason: 'must not be 64 hex digits alone (that is an image id, not a name)' };
  }
  const digest = m[4] ?? null;
  if (digest !== null) {
    const [algorithm, hex] = digest.split(':') as [string, string];
    const length = DIGEST_HEX_LENGTH[algorithm];
    if (length === undefined)
      return { ok: false, reason: 'digest algorithm must be sha256, sha384 or sha512' };
    if (!new RegExp(`^[0-9a-f]{${length}}$`).test(hex)) {
      return { ok: false, reason: `a ${algorithm} digest must be ${length} lowercase hex digits` };
    }
  }
  return { ok: true, reference: { domain, path, name, tag: m[3] ?? null, digest } };
}

export function isImageReference(input: string): boolean {
  return parseImageReference(input).ok;
}

function explainMismatch(input: string): string {
  const beforeDigest = input.split('@')[0] ?? '';
  const lastSlash = beforeDigest.lastIndexOf('/');
  const repoPart = beforeDigest.slice(lastSlash + 1).split(':')[0] ?? '';
  if (/[A-Z]/.test(repoPart)) return 'repository path must be lowercase';
  if (/^[^a-zA-Z0-9]/.test(input)) return 'must start with a letter or digit';
  return 'is not a valid image reference (expected e.g. registry.example.com:5000/team/app:1.2.3 or app@sha256:<64 hex>)';
}

/** The zod schema of an image reference; the JSON Schema gets the grammar as its pattern. */
export const ImageReferenceSchema = wellFormedString()
  .superRefine((s, ctx) => {
    const parsed = parseImageReference(s);
    if (!parsed.ok)
      ctx.addIssue({ code: 'custom', message: `not a valid image reference: ${parsed.reason}` });
  })
  .meta({
    pattern: REFERENCE.source,
    description:
      'Image reference by the distribution/reference grammar. Also: the name (domain/path) is at most 255 ' +
      'characters, a digest is sha256:64, sha384:96 or sha512:128 lowercase hex, and a bare 64-hex name is refused.',
  });
