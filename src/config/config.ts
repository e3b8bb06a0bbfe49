import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import {
  ALL_WORKERS,
  type AdvisorSubmittable,
  envSchema,
  type HelmEnv,
  type WorkerKind,
} from './config-schema.js';
import { hostIdOf } from './host-id.js';

export interface Scope {
  /** Containers carrying any one of these label pairs are managed. */
  labels: ReadonlyArray<{ key: string; value: string }>;
  /** Every container carrying a ghost.service label is managed. */
  allServices: boolean;
  composeProjects: ReadonlyArray<string>;
}

export interface Config {
  redisUrl: string;
  dockerHost: string | undefined;
  queuePrefix: string;
  memoryDir: string;
  /** PEM text of every configured Warden public key (validated by the gate's keyring). */
  wardenPublicKeysPem: string | undefined;
  wardenPublicKeyFile: string | undefined;
  policyFile: string | undefined;
  secretsDir: string | undefined;
  /** HELM_SERVICES_FILE: the owner's services file (first releases), absolute; undefined: none. */
  servicesFile: string | undefined;
  /** HELM_COMPOSE_COMMAND: which compose CLI compose deploys run. */
  composeCommand: 'auto' | 'docker compose' | 'docker-compose';
  scope: Scope;
  ollamaHost: string;
  anthropicApiKey: string | undefined;
  advisor: AdvisorConfig;
  logLevel: string;
  allowVolatileRedis: boolean;
  workers: ReadonlyArray<WorkerKind>;
  instance: string;
  /**
   * This host's id (HELM_HOST_ID, default the machine's hostname; contract 1.5, decision 90): the
   * Docker host this process's executor and monitor run against, named in plans, results, alerts,
   * the heartbeat and the monitor's keys.
   */
  host: string;
  runLogFileName: string;
  gateConcurrency: number;
  execConcurrency: number;
  clockSkewMs: number;
  /** null: the policy's deadline (default 1 h). */
  approvalDeadlineS: number | null;
  stabilityWindowMs: number;
  healthTimeoutMs: number;
  actionTimeoutMs: number;
  leaseTtlMs: number;
  runLogRotateBytes: number;
  logFile: { path: string; rotateBytes: number; retentionFiles: number | null } | null;
  hostRoot: string;
  thresholds: { cpu: number; memory: number; disk: number };
  resourceWindowMs: number;
  resourceIntervalMs: number;
  requestIdWindowS: number;
  jobRetentionCount: number;
  eventsMaxLen: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  maxAttempts: number;
  heartbeatIntervalMs: number;
  queueWatchIntervalMs: number;
  /** HELM_HTTP_ADDR: where the owner's endpoints listen; null: off. Port 0: any free port. */
  http: { host: string; port: number } | null;
  /** HELM_HTTP_TOKEN (redacted by name): the bearer token of every HTTP request, when set. */
  httpToken: string | undefined;
  /** The front proxy (issue 11): HELM_PROXY_ADMIN, _PORT_RANGE, _SERVER, _BIND, _DRAIN_S. */
  proxy: ProxyConfig;
}

export interface ProxyConfig {
  adminUrl: string;
  portRange: { first: number; last: number };
  /** The owner's server host routes go on. */
  server: string;
  /** '' : every address. */
  bindHost: string;
  drainMs: number;
}

/** The advisor's models and limits (issue 10); the API key stays in Config.anthropicApiKey (redacted by name). */
export interface AdvisorConfig {
  enabled: boolean;
  defaultModel: string;
  escalationModel: string;
  anthropicBaseUrl: string;
  timeoutMs: number;
  numCtx: number;
  submit: ReadonlyArray<AdvisorSubmittable>;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Helm's configuration is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = this.constructor.name;
  }
}

/** Build the configuration once from the environment; throws ConfigError with one line per problem. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Readonly<Config> {
  // Empty strings count as unset, as shells and compose files commonly produce them.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => `${String(i.path[0] ?? '(env)')}: ${i.message}`);
  // Files and folders are checked on the raw values too, so every problem is reported in one go.
  const raw = cleaned as Record<string, string>;
  const { memoryDir, wardenPublicKeysPem } = checkFilesAndFolders(raw, problems);
  const host = hostIdOf(raw.HELM_HOST_ID, hostname(), problems);
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const instance = e.HELM_INSTANCE ?? `${host}:${process.pid}`;
  const runsEverything = ALL_WORKERS.every((w) => e.HELM_WORKERS.includes(w));
  // One process writes one file: the all-in-one process owns run_log.md; a process running only
  // some workers writes its own chained file beside it (`helm log` merges them by time).
  const runLogFileName = runsEverything ? 'run_log.md' : `run_log.${e.HELM_WORKERS.join('+')}.${host}.md`;

  return Object.freeze({
    redisUrl: e.REDIS_URL,
    dockerHost: e.DOCKER_HOST,
    queuePrefix: e.HELM_QUEUE_PREFIX,
    memoryDir,
    wardenPublicKeysPem,
    wardenPublicKeyFile: e.HELM_WARDEN_PUBLIC_KEY_FILE,
    policyFile: e.HELM_POLICY_FILE,
    secretsDir: e.HELM_SECRETS_DIR ? resolve(e.HELM_SECRETS_DIR) : undefined,
    servicesFile: e.HELM_SERVICES_FILE ? resolve(e.HELM_SERVICES_FILE) : undefined,
    composeCommand: e.HELM_COMPOSE_COMMAND,
    scope: scopeFrom(e),
    ollamaHost: e.OLLAMA_HOST,
    anthropicApiKey: e.ANTHROPIC_API_KEY,
    advisor: Object.freeze({
      enabled: e.HELM_ADVISOR,
      defaultModel: e.HELM_MODEL_DEFAULT,
      escalationModel: e.HELM_MODEL_ESCALATION,
      anthropicBaseUrl: e.ANTHROPIC_BASE_URL,
      timeoutMs: e.HELM_ADVISOR_TIMEOUT_MS,
      numCtx: e.HELM_ADVISOR_NUM_CTX,
      submit: Object.freeze([...e.HELM_ADVISOR_SUBMIT]),
    }),
    logLevel: e.LOG_LEVEL,
    allowVolatileRedis: e.HELM_ALLOW_VOLATILE_REDIS,
    workers: Object.freeze([...e.HELM_WORKERS]),
    instance,
    host,
    runLogFileName,
    gateConcurrency: e.HELM_GATE_CONCURRENCY,
    execConcurrency: e.HELM_EXEC_CONCURRENCY,
    clockSkewMs: e.HELM_CLOCK_SKEW_S * 1000,
    approvalDeadlineS: e.HELM_APPROVAL_DEADLINE_S ?? null,
    stabilityWindowMs: e.HELM_STABILITY_WINDOW_S * 1000,
    healthTimeoutMs: e.HELM_HEALTH_TIMEOUT_S * 1000,
    actionTimeoutMs: e.HELM_ACTION_TIMEOUT_S * 1000,
    leaseTtlMs: e.HELM_LEASE_TTL_MS,
    runLogRotateBytes: e.HELM_RUN_LOG_ROTATE_MB * 1024 * 1024,
    logFile: e.HELM_LOG_FILE
      ? Object.freeze({
          path: resolve(e.HELM_LOG_FILE),
          rotateBytes: e.HELM_LOG_ROTATE_MB * 1024 * 1024,
          retentionFiles: e.HELM_LOG_RETENTION_FILES ?? null,
        })
      : null,
    hostRoot: e.HELM_HOST_ROOT,
    thresholds: Object.freeze({
      cpu: e.HELM_CPU_ALERT_PERCENT,
      memory: e.HELM_MEMORY_ALERT_PERCENT,
      disk: e.HELM_DISK_ALERT_PERCENT,
    }),
    resourceWindowMs: e.HELM_RESOURCE_WINDOW_S * 1000,
    resourceIntervalMs: e.HELM_RESOURCE_INTERVAL_MS,
    requestIdWindowS: e.HELM_REQUEST_ID_WINDOW_S,
    jobRetentionCount: e.HELM_JOB_RETENTION_COUNT,
    eventsMaxLen: e.HELM_EVENTS_MAXLEN,
    lockDurationMs: e.HELM_LOCK_DURATION_MS,
    stalledIntervalMs: e.HELM_STALLED_INTERVAL_MS,
    maxStalledCount: e.HELM_MAX_STALLED_COUNT,
    maxAttempts: e.HELM_MAX_ATTEMPTS,
    heartbeatIntervalMs: e.HELM_HEARTBEAT_INTERVAL_MS,
    queueWatchIntervalMs: e.HELM_QUEUE_WATCH_INTERVAL_MS,
    http: e.HELM_HTTP_ADDR ? Object.freeze({ ...e.HELM_HTTP_ADDR }) : null,
    httpToken: e.HELM_HTTP_TOKEN,
    proxy: proxyConfig(e),
  });
}

function proxyConfig(e: HelmEnv): Readonly<ProxyConfig> {
  return Object.freeze({
    adminUrl: e.HELM_PROXY_ADMIN,
    portRange: Object.freeze({ ...e.HELM_PROXY_PORT_RANGE }),
    server: e.HELM_PROXY_SERVER,
    bindHost: e.HELM_PROXY_BIND,
    drainMs: e.HELM_PROXY_DRAIN_S * 1000,
  });
}

/** The paths the environment names, checked on the raw values so every problem is reported in one go. */
function checkFilesAndFolders(
  raw: Record<string, string>,
  problems: string[],
): { memoryDir: string; wardenPublicKeysPem: string | undefined } {
  const memoryDir = resolve(raw.HELM_MEMORY_DIR ?? './memory');
  if (existsSync(memoryDir) && !statSync(memoryDir).isDirectory()) {
    problems.push(`HELM_MEMORY_DIR: ${memoryDir} exists and is not a folder`);
  }
  const wardenPublicKeysPem = readWardenKeys(
    raw.HELM_WARDEN_PUBLIC_KEY,
    raw.HELM_WARDEN_PUBLIC_KEY_FILE,
    problems,
  );
  if (raw.HELM_POLICY_FILE && !isFile(raw.HELM_POLICY_FILE)) {
    problems.push(`HELM_POLICY_FILE: ${raw.HELM_POLICY_FILE} is not a readable file`);
  }
  if (raw.HELM_SERVICES_FILE && !isFile(raw.HELM_SERVICES_FILE)) {
    problems.push(`HELM_SERVICES_FILE: ${raw.HELM_SERVICES_FILE} is not a readable file`);
  }
  if (raw.HELM_SECRETS_DIR && !isDir(raw.HELM_SECRETS_DIR)) {
    problems.push(`HELM_SECRETS_DIR: ${raw.HELM_SECRETS_DIR} is not a folder`);
  }
  return { memoryDir, wardenPublicKeysPem };
}

function scopeFrom(e: HelmEnv): Readonly<Scope> {
  const labels = e.HELM_SCOPE_LABELS.map((sel) => {
    const at = sel.indexOf('=');
    return { key: sel.slice(0, at), value: sel.slice(at + 1) };
  });
  // Default scope: everything Ghost labelled as a service. An explicit scope replaces it unless
  // HELM_SCOPE_ALL_SERVICES=1 says to keep it as well.
  const explicit = labels.length > 0 || e.HELM_SCOPE_COMPOSE_PROJECTS.length > 0;
  const allServices = e.HELM_SCOPE_ALL_SERVICES ?? !explicit;
  return Object.freeze({ labels, allServices, composeProjects: e.HELM_SCOPE_COMPOSE_PROJECTS });
}

const PEM_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g;

/** Warden's keys from a PEM file, or from every `.pem` file of a folder (key rotation: add, then remove). */
export function readWardenKeyFile(file: string): string {
  const paths = isDir(file)
    ? readdirSync(file)
        .filter((n) => n.endsWith('.pem'))
        .sort()
        .map((n) => join(file, n))
    : [file];
  return paths.map((p) => readFileSync(p, 'utf8')).join('\n');
}

function readWardenKeys(
  inline: string | undefined,
  file: string | undefined,
  problems: string[],
): string | undefined {
  if (inline && file) {
    problems.push('HELM_WARDEN_PUBLIC_KEY and HELM_WARDEN_PUBLIC_KEY_FILE are both set: set one of them');
    return undefined;
  }
  if (inline) {
    if (!inline.match(PEM_BLOCK))
      problems.push('HELM_WARDEN_PUBLIC_KEY: holds no "BEGIN PUBLIC KEY" PEM block');
    return inline;
  }
  if (!file) return undefined;
  try {
    const text = readWardenKeyFile(file);
    if (!text.match(PEM_BLOCK))
      problems.push(`HELM_WARDEN_PUBLIC_KEY_FILE: ${file} holds no "BEGIN PUBLIC KEY" PEM block`);
    return text;
  } catch (err) {
    problems.push(
      `HELM_WARDEN_PUBLIC_KEY_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
    return undefined;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
