// Contract 1.2: `helm.requests`, requests in plain words (decision 78). The job data is the text; the
// job's return value is the answer: the ActionRequests the advisor derived (each submitted to
// helm.actions under its own request_id, so each is gated), a question saying what is missing, or a
// multi-service plan shown in full and submitted only when `submit` is true.
import { z } from 'zod';
import { AdviceModelShape, AdviceProposalSchema } from './advisor-advice.js';
import { RequestedBySchema, RequestIdSchema } from './identifiers.js';
import { Rfc3339UtcSchema, text } from './primitives.js';

export const PLAIN_REQUEST_QUEUE = 'helm.requests';
export const MAX_PLAIN_REQUEST_CODE_POINTS = 2000;

export const PlainRequestSchema = z.strictObject({
  text: text({ min: 1, max: MAX_PLAIN_REQUEST_CODE_POINTS, notBlank: true, description: 'What to do.' }),
  requested_by: RequestedBySchema,
  request_id: RequestIdSchema.optional().meta({
    description: 'Names this request; the derived ActionRequests use it as the prefix of their own.',
  }),
  submit: z.boolean().optional().meta({
    description:
      'Submit a multi-service plan (default false: it is only shown). Single requests are always submitted.',
  }),
});

export type PlainRequest = z.infer<typeof PlainRequestSchema>;

export const PLAIN_REQUEST_OUTCOMES = ['submitted', 'plan', 'question', 'unavailable'] as const;
export const PLAIN_ANSWER_TYPE = 'helm.request-answer.v1';

export const PlainRequestAnswerSchema = z
  .strictObject({
    type: z.literal(PLAIN_ANSWER_TYPE),
    request_id: RequestIdSchema.nullable(),
    outcome: z.enum(PLAIN_REQUEST_OUTCOMES).meta({
      description:
        'submitted: every derived request went to helm.actions; plan: shown, submitted only with submit; ' +
        'question: nothing derived, see question; unavailable: no model answered (advisor off or down).',
    }),
    ...AdviceModelShape,
    summary: text({ min: 1, max: 2000 }),
    question: text({ min: 1, max: 2000 })
      .nullable()
      .meta({ description: 'What is missing or ambiguous; present exactly when outcome is question.' }),
    requests: z.array(AdviceProposalSchema).max(10),
    at: Rfc3339UtcSchema,
  })
  .superRefine((a, ctx) => {
    if ((a.outcome === 'question') !== (a.question !== null))
      ctx.addIssue({
        code: 'custom',
        path: ['question'],
        message: 'is present exactly when outcome is question',
      });
    if (a.outcome === 'submitted' && a.requests.some((r) => !r.submitted))
      ctx.addIssue({
        code: 'custom',
        path: ['requests'],
        message: 'are all submitted when outcome is submitted',
      });
  });

export type PlainRequestAnswer = z.infer<typeof PlainRequestAnswerSchema>;
