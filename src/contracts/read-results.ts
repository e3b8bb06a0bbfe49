// The `data` of the reads added in contract 1.3: status (the design card's `docker ps`) and stats
// (`docker stats` and the host's figures). Loose objects, so a later minor version may add fields;
// what is here is checked on every executed result Helm emits.
import { z } from 'zod';
import { ENVIRONMENTS } from './identifiers.js';

const count = z.number().int().min(0);
const percent = z.number().min(0).nullable();

/** A request parked for Warden on this service. */
export const ParkedApprovalSchema = z.looseObject({
  approval_id: z.string(),
  action: z.string(),
  expires_at: z.string(),
});

/** What is under way for a container's service: a change the executor holds, or approvals awaited. */
export const InFlightSchema = z.looseObject({
  change: z
    .boolean()
    .meta({ description: "The executor holds the service's lease or has an intent for it." }),
  change_action: z.string().nullable(),
  approvals: z.array(ParkedApprovalSchema),
});

export const ContainerStatusSchema = z.looseObject({
  service: z.string(),
  name: z.string(),
  id: z.string(),
  state: z.string(),
  running: z.boolean(),
  healthy: z.boolean(),
  health: z.string().meta({ description: 'What the look found, in words.' }),
  docker_health: z.string().nullable(),
  release: z.string().nullable(),
  image: z.string(),
  image_id: z.string(),
  started_at: z.string().nullable(),
  uptime_s: count.nullable(),
  restart_count: count,
  environment: z.enum(ENVIRONMENTS),
  in_flight: InFlightSchema,
});

export const StatusDataSchema = z.looseObject({
  containers: z.array(ContainerStatusSchema),
  truncated: z.boolean(),
});

export const ContainerStatsSchema = z.looseObject({
  service: z.string(),
  name: z.string(),
  id: z.string(),
  running: z.boolean(),
  cpu_percent: percent.meta({ description: 'Of one core (100 = one core); null when stopped.' }),
  memory_bytes: count,
  memory_limit_bytes: count,
  network_rx_bytes: count,
  network_tx_bytes: count,
  block_read_bytes: count,
  block_write_bytes: count,
});

export const HostStatsSchema = z.looseObject({
  cpu_percent: percent,
  memory_used_bytes: count,
  memory_total_bytes: count,
  disks: z.array(
    z.looseObject({
      paths: z.array(z.string()),
      size_bytes: count,
      available_bytes: count,
      used_percent: z.number().min(0),
    }),
  ),
});

export const StatsDataSchema = z.looseObject({
  containers: z.array(ContainerStatsSchema),
  host: HostStatsSchema,
  truncated: z.boolean(),
});

export type ContainerStatus = z.infer<typeof ContainerStatusSchema>;
export type StatusData = z.infer<typeof StatusDataSchema>;
export type ContainerStats = z.infer<typeof ContainerStatsSchema>;
export type HostStats = z.infer<typeof HostStatsSchema>;
export type StatsData = z.infer<typeof StatsDataSchema>;

/** The schema an executed result's `data` must satisfy, by action (absent: any JSON object). */
export const READ_DATA_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  status: StatusDataSchema,
  stats: StatsDataSchema,
};
