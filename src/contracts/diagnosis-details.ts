// Contract 1.2: the `details` of an Alert of kind `diagnosis` (decision 76). The diagnosis of one
// incident follows the incident's own alert (never the other way round) and carries its dedup_key.
import { z } from 'zod';
import { AdviceBodyShape, AdviceModelShape, AdviceProposalSchema } from './advisor-advice.js';
import { text, UuidV4Schema } from './primitives.js';

export const DIAGNOSIS_TYPE = 'helm.diagnosis.v1';
export const DIAGNOSED_INCIDENT_KINDS = [
  'downtime',
  'crash_loop',
  'unhealthy',
  'deploy_failed',
  'rolled_back',
] as const;

export const DiagnosisDetailsSchema = z.strictObject({
  type: z.literal(DIAGNOSIS_TYPE),
  incident: z.strictObject({
    alert_id: UuidV4Schema.meta({ description: "The incident alert's alert_id." }),
    dedup_key: text({ min: 1, max: 256, notBlank: true }),
    kind: z.enum(DIAGNOSED_INCIDENT_KINDS),
  }),
  ...AdviceModelShape,
  ...AdviceBodyShape,
  proposals: z.array(AdviceProposalSchema).max(10),
});

export type DiagnosisDetails = z.infer<typeof DiagnosisDetailsSchema>;
