// Contract 1.2: the shapes the advisor (issue 10) puts on the bus, shared by the `diagnosis` alert's
// details, the `advice` job on warden.requests and the answer of a `helm.requests` job. The model's
// words are advice, never authority: a proposal is an ordinary ActionRequest that goes through intake
// and the gate like any other, and only what Helm itself submitted carries a request_id.
import { z } from 'zod';
import { ActionRequestSchema } from './action-request.js';
import { RequestIdSchema } from './identifiers.js';
import { text } from './primitives.js';

export const MAX_ADVICE_ITEMS = 20;
const EVIDENCE_ID = text({ min: 1, max: 128 });

export const EvidenceIdsSchema = z
  .array(EVIDENCE_ID)
  .max(MAX_ADVICE_ITEMS)
  .meta({ description: 'Ids of the evidence items Helm gathered that this rests on.' });

export const AdviceFindingSchema = z.strictObject({
  statement: text({ min: 1, max: 1000, description: 'What the evidence shows.' }),
  evidence_ids: EvidenceIdsSchema,
});

export const AdviceCauseSchema = z.strictObject({
  cause: text({ min: 1, max: 1000, description: 'A possible cause, in plain words.' }),
  confidence: z.number().min(0).max(1).meta({ description: 'From 0 (a guess) to 1 (certain).' }),
  evidence_ids: EvidenceIdsSchema,
});

/** Which model gave the advice, and whether it is the one the task deserved. */
export const AdviceModelShape = {
  model: text({ min: 1, max: 256 })
    .nullable()
    .meta({ description: "The model that answered; null when none did (Helm's deterministic summary)." }),
  escalated: z.boolean().meta({ description: 'The escalation model answered.' }),
  trigger: z
    .enum(['zero_downtime_deploy', 'active_outage', 'multi_service'])
    .nullable()
    .meta({ description: 'The escalation trigger the task met, or null (the default model).' }),
  note: text({
    min: 1,
    max: 2000,
    description: 'Which model answered and, when not the one asked (fallback, outage), why.',
  }),
};

export const AdviceBodyShape = {
  summary: text({ min: 1, max: 2000, description: 'In a few sentences; "inconclusive" is honest.' }),
  findings: z.array(AdviceFindingSchema).max(MAX_ADVICE_ITEMS),
  possible_causes: z.array(AdviceCauseSchema).max(10),
  unknowns: z.array(text({ min: 1, max: 500 })).max(10),
};

/** A proposal as Helm shows it: the ready ActionRequest, and whether Helm submitted it. */
export const AdviceProposalSchema = z
  .strictObject({
    request: ActionRequestSchema.meta({
      description: 'The ready ActionRequest (requested_by "helm-advisor"); submit it to helm.actions as is.',
    }),
    submitted: z.boolean().meta({ description: 'Helm submitted it to helm.actions (it is gated there).' }),
    request_id: RequestIdSchema.nullable().meta({
      description: 'The request_id it was submitted under; null when it was only proposed.',
    }),
    why_not_submitted: text({ min: 1, max: 500 })
      .nullable()
      .meta({ description: 'Why it is only proposed (null when submitted).' }),
  })
  .superRefine((p, ctx) => {
    if (p.submitted !== (p.request_id !== null))
      ctx.addIssue({ code: 'custom', path: ['request_id'], message: 'is present exactly when submitted' });
    if (p.submitted === (p.why_not_submitted !== null))
      ctx.addIssue({
        code: 'custom',
        path: ['why_not_submitted'],
        message: 'is present exactly when not submitted',
      });
  });

export type AdviceProposal = z.infer<typeof AdviceProposalSchema>;
