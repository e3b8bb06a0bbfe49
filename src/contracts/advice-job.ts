// Contract 1.2: the `advice` job on warden.requests (decision 77): the escalation model's review of a
// parked production deploy, linked by approval_id and plan_hash. Advisory: it is outside the signed
// plan, Warden decides on the plan alone, and the ApprovalRequest never waits for it.
import { z } from 'zod';
import { AdviceBodyShape, AdviceModelShape } from './advisor-advice.js';
import { Rfc3339UtcSchema, Sha256HexSchema, UuidV4Schema } from './primitives.js';

export const ADVICE_JOB_NAME = 'advice';
export const ADVICE_TYPE = 'helm.advice.v1';

export const AdviceJobSchema = z.strictObject({
  type: z.literal(ADVICE_TYPE),
  advisory: z.literal(true).meta({ description: 'Always true: advice, never part of what is approved.' }),
  approval_id: UuidV4Schema.meta({ description: 'The parked ApprovalRequest this reviews.' }),
  plan_hash: Sha256HexSchema.meta({ description: 'The plan_hash of the plan reviewed.' }),
  ...AdviceModelShape,
  ...AdviceBodyShape,
  at: Rfc3339UtcSchema,
});

export type AdviceJob = z.infer<typeof AdviceJobSchema>;
