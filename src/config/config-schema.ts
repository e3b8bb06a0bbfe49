import { isIP } from 'node:net';
import { z } from 'zod';
import { hostIdProblem } from './host-id.js';

/**
 * Every setting Helm reads from its environment, in one place. Parsed once at start-up
 * (see load-config.ts); an invalid value stops start-up with one line per problem.
 */

const boolFlag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', ''])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

const intIn = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: `must be a whole number from ${min} to ${max}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, { message: `must be at least ${min}` })
        .max(max, { message: `must be at most ${max}` }),
    );

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
  message: 'must be one of fatal, error, warn, info, debug, trace, silent',
});

const redisUrl = z.string().regex(/^rediss?:\/\/[^\s]+$/, { message: 'must be a redis:// or rediss:// URL' });

// dockerode's convention: unix:///path/to/socket, tcp://host:port (or http/https), or a bare socket path.
const dockerHost = z.string().regex(/^(unix:\/\/\/\S+|tcp:\/\/\S+:\d+|https?:\/\/\S+:\d+|\/\S+)$/, {
  message: 'must be unix:///path/to/docker.sock, tcp://host:port, or a socket path',
});

const prefix = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, {
  message: 'must be 1-64 letters, digits, "_", "." or "-" (no ":" or spaces)',
});

const labelSelector = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.\-/]*=[^,\s]+$/, {
  message: 'must be key=value',
});

const commaList = <T extends z.ZodType<string, string>>(item: T) =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item));

const workerKinds = ['gate', 'executor', 'monitor'] as const;

/**
 * What the advisor may ever submit by itself (issue 10): everything else (deploy, stop, remove, set_env,
 * prune, a scale down) is only proposed in an alert. `scale_up` says in its name that a scale down is
 * never submitted; the advisor's own list (src/advisor/advisor-submit-policy.ts) is the same, a unit
 * test holds them together (config sits below the advisor and may not import it).
 */
export const ADVISOR_SUBMITTABLE = ['restart', 'rollback', 'scale_up', 'health_check', 'logs'] as const;
export type AdvisorSubmittable = (typeof ADVISOR_SUBMITTABLE)[number];

const onOff = z
  .enum(['on', 'off', '1', '0', 'true', 'false', 'yes', 'no'], { message: 'must be on or off' })
  .transform((v) => v === 'on' || v === '1' || v === 'true' || v === 'yes');

// Ollama tags (qwen3-coder:30b, library/x:latest) and Anthropic model ids: no spaces, no URL parts.
const modelName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$/, {
  message: 'must be a model name such as qwen3-coder or claude-sonnet-4-6',
});

// `none`: the advisor submits nothing by itself, only proposes.
const advisorSubmit = z
  .string()
  .transform((s) =>
    s.trim() === 'none'
      ? []
      : s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
  )
  .pipe(
    z.array(
      z.enum(ADVISOR_SUBMITTABLE, {
        message: `must list among: ${ADVISOR_SUBMITTABLE.join(', ')} (or none); the advisor only proposes the others`,
      }),
    ),
  );

// The owner's endpoints (/healthz, /readyz, /metrics, /queues): an IP address and port, or off. An IP
// literal, never a host name, so whether it is loopback is decided without a resolver (http/bind-check.ts).
const httpAddr = z
  .string()
  .regex(/^(off|(\d{1,3}(\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):\d{1,5})$/, {
    message: 'must be an IP address and port such as 127.0.0.1:9464 or [::1]:9464, or off',
  })
  .transform((s) => {
    if (s === 'off') return null;
    const at = s.lastIndexOf(':');
    return { host: s.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(s.slice(at + 1)) };
  })
  .refine((a) => a === null || (isIP(a.host) !== 0 && a.port <= 65_535), {
    message: 'must be an IP address and a port from 0 to 65535 (0: any free port), or off',
  });

// The front proxy's admin API (issue 11): loopback only, since it changes what the proxy serves and
// has no authentication of its own.
const proxyAdmin = z.string().regex(/^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}$/, {
  message: 'must be http://127.0.0.1:<port> (the proxy admin API on loopback), e.g. http://127.0.0.1:2019',
});

// The host ports new instances of routed services get: first-last, unprivileged.
const portRange = z
  .string()
  .regex(/^\d{4,5}-\d{4,5}$/, { message: 'must be a port range such as 20000-20999' })
  .transform((s) => {
    const [first, last] = s.split('-').map(Number) as [number, number];
    return { first, last };
  })
  .refine((r) => r.first >= 1024 && r.last <= 65_535 && r.first <= r.last, {
    message: 'must be a port range within 1024-65535, first <= last',
  });

export const envSchema = z.object({
  REDIS_URL: redisUrl.default('redis://127.0.0.1:6379'),
  DOCKER_HOST: dockerHost.optional(),
  HELM_QUEUE_PREFIX: prefix.default('bull'),
  HELM_MEMORY_DIR: z.string().min(1).default('./memory'),
  HELM_WARDEN_PUBLIC_KEY: z.string().optional(),
  HELM_WARDEN_PUBLIC_KEY_FILE: z.string().min(1).optional(),
  HELM_POLICY_FILE: z.string().min(1).optional(),
  HELM_SECRETS_DIR: z.string().min(1).optional(),
  /** The owner's services file (YAML): how to create a service that has no container yet. */
  HELM_SERVICES_FILE: z.string().min(1).optional(),
  /** Which compose CLI runs compose deploys: `docker compose` (v2), `docker-compose` (v1), or auto. */
  HELM_COMPOSE_COMMAND: z
    .enum(['auto', 'docker compose', 'docker-compose'], {
      message: 'must be one of auto, "docker compose", docker-compose',
    })
    .default('auto'),
  /** Which containers this Helm manages: any of these label selectors (key=value, comma-separated). */
  HELM_SCOPE_LABELS: commaList(labelSelector).default([]),
  /** Manage every container that carries a ghost.service label (the default when no scope is set). */
  HELM_SCOPE_ALL_SERVICES: boolFlag.optional(),
  /** Manage the containers of these compose projects. */
  HELM_SCOPE_COMPOSE_PROJECTS: commaList(
    z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, { message: 'must be a compose project name' }),
  ).default([]),
  OLLAMA_HOST: z
    .url({ message: 'must be a URL such as http://127.0.0.1:11434' })
    .default('http://127.0.0.1:11434'),
  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  /** Where the escalation model is asked (an Anthropic Messages API endpoint). */
  ANTHROPIC_BASE_URL: z
    .url({ message: 'must be a URL such as https://api.anthropic.com' })
    .default('https://api.anthropic.com'),
  /** The advisor (model-backed diagnosis and advice): on by default; off: Helm runs without any model. */
  HELM_ADVISOR: onOff.default(true),
  /** The default model, asked through Ollama. */
  HELM_MODEL_DEFAULT: modelName.default('qwen3-coder'),
  /** The escalation model, asked through the Anthropic API on the three escalation triggers. */
  HELM_MODEL_ESCALATION: modelName.default('claude-sonnet-4-6'),
  /** One model call ends within this (then the next model in the fallback chain is asked). */
  HELM_ADVISOR_TIMEOUT_MS: intIn(1000, 600_000).default(90_000),
  /** Ollama's context window, sent explicitly on every call (Ollama's own default silently cuts prompts). */
  HELM_ADVISOR_NUM_CTX: intIn(2048, 1_048_576).default(32_768),
  /** The actions the advisor may submit by itself (comma-separated, or none); the rest are proposed. */
  HELM_ADVISOR_SUBMIT: advisorSubmit.default(['restart', 'rollback']),
  LOG_LEVEL: logLevel.default('info'),
  HELM_ALLOW_VOLATILE_REDIS: boolFlag.default(false),
  /** Which workers this process runs (comma-separated); all of them by default. */
  HELM_WORKERS: commaList(
    z.enum(workerKinds, { message: `must name workers among: ${workerKinds.join(', ')}` }),
  ).default([...workerKinds]),
  HELM_GATE_CONCURRENCY: intIn(1, 256).default(16),
  /** Operations run at once by this process's executor (one per service at a time regardless). */
  HELM_EXEC_CONCURRENCY: intIn(1, 64).default(4),
  /** How long a parked request waits for Warden (overrides the policy file's approval_deadline_s). */
  HELM_APPROVAL_DEADLINE_S: intIn(1, 86_400).optional(),
  /** Clock skew tolerated past a decision's expires_at. */
  HELM_CLOCK_SKEW_S: intIn(0, 600).default(30),
  /** After a deploy or rollback the new release must stay healthy this long. */
  HELM_STABILITY_WINDOW_S: intIn(0, 3600).default(10),
  /** How long a restarted or deployed container has to turn healthy. */
  HELM_HEALTH_TIMEOUT_S: intIn(1, 3600).default(60),
  /** Where the host's root is mounted for disk readings: `/`, or `/host` when Helm runs in a container. */
  HELM_HOST_ROOT: z.string().min(1).default('/'),
  /** Resource alert thresholds (percent): the design card's CPU > 85, RAM > 85, disk > 90. */
  HELM_CPU_ALERT_PERCENT: intIn(1, 100).default(85),
  HELM_MEMORY_ALERT_PERCENT: intIn(1, 100).default(85),
  HELM_DISK_ALERT_PERCENT: intIn(1, 100).default(90),
  /** How long CPU or RAM must stay above its threshold before an alert. */
  HELM_RESOURCE_WINDOW_S: intIn(0, 3600).default(120),
  /** How often host resources are sampled. */
  HELM_RESOURCE_INTERVAL_MS: intIn(500, 3_600_000).default(15_000),
  /** The run log rotates into run_log.md.<n>.gz past this size (MiB); 0: never. */
  HELM_RUN_LOG_ROTATE_MB: intIn(0, 1_000_000).default(64),
  /** Helm's own JSON log lines also go to this file (rotated), besides stdout. */
  HELM_LOG_FILE: z.string().min(1).optional(),
  HELM_LOG_ROTATE_MB: intIn(1, 1_000_000).default(64),
  /** Rotated files of Helm's own log are deleted only when the owner sets how many to keep. */
  HELM_LOG_RETENTION_FILES: intIn(0, 100_000).optional(),
  /** A service's lease lives this long unless renewed: how soon a crashed executor's service is free. */
  HELM_LEASE_TTL_MS: intIn(500, 600_000).default(30_000),
  /** Every operation ends within this (as failed, timeout). */
  HELM_ACTION_TIMEOUT_S: intIn(10, 7200).default(900),
  /** How long request_id records and finished helm.actions jobs are kept. */
  HELM_REQUEST_ID_WINDOW_S: intIn(60, 90 * 24 * 3600).default(7 * 24 * 3600),
  /** Upper bound on finished helm.actions jobs kept, whichever bound comes first. */
  HELM_JOB_RETENTION_COUNT: intIn(10, 1_000_000).default(10_000),
  /** The bus's events-stream bound (approximate), shared by every Ghost agent. */
  HELM_EVENTS_MAXLEN: intIn(100, 1_000_000).default(10_000),
  /** BullMQ lock and stalled-check timings: short values let crash tests recover in seconds. */
  HELM_LOCK_DURATION_MS: intIn(1000, 600_000).default(30_000),
  HELM_STALLED_INTERVAL_MS: intIn(500, 600_000).default(30_000),
  /** Set so high that BullMQ never fails a job on its own; Helm ends runaway requests itself. */
  HELM_MAX_STALLED_COUNT: intIn(0, 1_000_000).default(1_000),
  /** How many times Helm starts processing one request before it ends it as failed (internal). */
  HELM_MAX_ATTEMPTS: intIn(1, 100).default(3),
  HELM_HEARTBEAT_INTERVAL_MS: intIn(100, 60_000).default(10_000),
  HELM_QUEUE_WATCH_INTERVAL_MS: intIn(100, 3_600_000).default(30_000),
  /** Helm's HTTP server (health, readiness, Prometheus metrics, Bull Board): IP:port, or off. */
  HELM_HTTP_ADDR: httpAddr.default({ host: '127.0.0.1', port: 9464 }),
  /** The bearer token every HTTP request must carry; required when HELM_HTTP_ADDR is not loopback. */
  HELM_HTTP_TOKEN: z.string().min(16, { message: 'must be at least 16 characters' }).optional(),
  /** This host's id (contract 1.5): in plans, results, alerts and the heartbeat; default the hostname. */
  HELM_HOST_ID: z
    .string()
    .superRefine((v, ctx) => {
      const problem = hostIdProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  /** The front proxy (Caddy) admin API Helm changes its own routes through. */
  HELM_PROXY_ADMIN: proxyAdmin.default('http://127.0.0.1:2019'),
  /** Host ports for new instances of routed services. */
  HELM_PROXY_PORT_RANGE: portRange.default({ first: 20000, last: 20999 }),
  /** The owner's server (in the proxy's config) that host routes (ghost.route.host) are added to. */
  HELM_PROXY_SERVER: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, {
      message: 'must be a server name of the proxy config, e.g. srv0',
    })
    .default('srv0'),
  /** The address port routes (ghost.route.port) listen on; empty: every address. */
  HELM_PROXY_BIND: z
    .string()
    .refine((s) => s === '' || isIP(s) !== 0, {
      message: 'must be an IP address, or empty for every address',
    })
    .default(''),
  /** After a start-first switch, the old instance serves its requests in flight this long before it stops. */
  HELM_PROXY_DRAIN_S: intIn(0, 3600).default(10),
  /** Instance name in the heartbeat key; default <host>:<pid>. */
  HELM_INSTANCE: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, {
      message: 'must be letters, digits, "_", ".", ":" or "-"',
    })
    .optional(),
});

export type HelmEnv = z.infer<typeof envSchema>;
export const ALL_WORKERS = workerKinds;
export type WorkerKind = (typeof workerKinds)[number];
