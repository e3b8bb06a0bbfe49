import { z } from 'zod';
import { ReleaseIdSchema } from './identifiers.js';
import { ImageReferenceSchema } from './image-reference.js';
import { Sha256DigestSchema, text } from './primitives.js';

/** A release as ActionResult.release names it: what is (or was) running for a service. */
export const ReleaseSchema = z.strictObject({
  id: ReleaseIdSchema,
  image: ImageReferenceSchema,
  image_id: Sha256DigestSchema.nullable(),
  manifest_digest: Sha256DigestSchema.nullable(),
  artifact_id: text({ min: 1, max: 128, notBlank: true }).nullable(),
});
export type Release = z.infer<typeof ReleaseSchema>;
