// Alert, sent to sentinel.alerts. Strict for what Helm emits; the consumer schema accepts unknown
// kinds (handled by severity) and unknown fields.
import { z } from 'zod';
import { AlertKindSchema, AlertSeveritySchema, ConsumerAlertKindSchema } from './alert-kinds.js';
import { EnvironmentSchema, HostIdSchema, TargetSchema } from './identifiers.js';
import { jsonObject, Rfc3339UtcSchema, text, UuidV4Schema } from './primitives.js';

/** `details` is at most 128 KiB serialised: room for a whole ActionResult (whose data is ≤ 64 KiB). */
export const MAX_ALERT_DETAILS_BYTES = 128 * 1024;
export const MAX_ALERT_MESSAGE_CODE_POINTS = 2000;
export const MAX_DEDUP_KEY_CODE_POINTS = 256;

const alertShape = {
  alert_id: UuidV4Schema,
  severity: AlertSeveritySchema,
  target: TargetSchema.optional(),
  environment: EnvironmentSchema.optional(),
  message: text({ min: 1, max: MAX_ALERT_MESSAGE_CODE_POINTS, notBlank: true }),
  details: jsonObject(
    MAX_ALERT_DETAILS_BYTES,
    `At most ${MAX_ALERT_DETAILS_BYTES} bytes serialised.`,
  ).optional(),
  at: Rfc3339UtcSchema,
  // --- contract 1.5 (several hosts) ---
  host: HostIdSchema.meta({
    description:
      'The host id (HELM_HOST_ID) of the Helm that sent the alert (1.5); absent from Helms before 1.5.',
  }).optional(),
  // --- end 1.5 ---
  dedup_key: text({
    min: 1,
    max: MAX_DEDUP_KEY_CODE_POINTS,
    notBlank: true,
    description:
      'The same for every alert of one incident; recovered/resolved carry the key of the incident they end.',
  }),
};

export const AlertSchema = z.strictObject({ kind: AlertKindSchema, ...alertShape });
export const ConsumerAlertSchema = z.looseObject({ kind: ConsumerAlertKindSchema, ...alertShape });

export type Alert = z.infer<typeof AlertSchema>;
export type ConsumerAlert = z.infer<typeof ConsumerAlertSchema>;
