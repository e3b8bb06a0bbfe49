// The owner's services file (HELM_SERVICES_FILE): how to create a service that has no container yet
// (its first release). YAML, checked against a strict schema; any problem refuses the whole file, one
// line per problem naming the line and the field, never quoting an env value.
import { isMap, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import { z } from 'zod';
import { cappedProblems, loadOwnerFile, nodeAt } from '../config/owner-file.js';
import {
  EnvironmentSchema,
  EnvNameSchema,
  type Environment,
  TargetSchema,
} from '../contracts/identifiers.js';
import { ImageReferenceSchema } from '../contracts/image-reference.js';
import { quoteForMessage } from '../contracts/message-text.js';
import { SetEnvValueSchema } from '../contracts/set-env-params.js';
import { formatPath, plainWordsErrorMap } from '../contracts/validation-errors.js';
import { parseHealthLabel } from '../health/health-check-spec.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { HELM_LABEL } from '../docker/helm-labels.js';
import type { ServiceDefinition } from './service-definition.js';

/**
 * ```yaml
 * services:
 *   web:
 *     image: shop/web                 # the repository the service runs (informational: a deploy names its image)
 *     environment: staging            # production | staging | dev: the container's ghost.environment
 *     env:
 *       LOG_LEVEL: info               # an inline value (plain configuration: it rests in release records)
 *       DB_PASSWORD: { secret: shop-db }   # read from the owner's secret store at deploy; never recorded
 *     ports: { PORT: 8080 }           # host network: the env variable that names the port the service listens on
 *     mounts:
 *       - { volume: web-data, target: /data }   # named volumes (bind mounts: not in a first release)
 *     labels: { team: shop }
 *     healthcheck: http://127.0.0.1:8080/health   # or tcp://127.0.0.1:8080 (the ghost.healthcheck label)
 *     command: [httpd, -f]
 *     restart: unless-stopped         # no | always | unless-stopped | on-failure
 *     replicas: 1                     # 1–50; more than 1 only without a port
 *     init: true                      # default true
 * ```
 */
export const MAX_SERVICES_FILE_BYTES = 1024 * 1024;

const ABSOLUTE_PATH = /^\/[^\0]*$/;
const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,254}$/;
/** Label prefixes the file may not set: identity and Helm's bookkeeping are written by Helm. */
const RESERVED_LABELS: ReadonlyArray<{ prefix: string; why: string }> = [
  { prefix: 'ghost.', why: 'ghost.* labels are Helm’s to write (use environment and healthcheck)' },
  { prefix: 'helm.', why: 'helm.* labels are Helm’s bookkeeping' },
  { prefix: 'com.docker.', why: 'com.docker.* labels belong to Docker and compose' },
];

const MountSchema = z.strictObject({
  volume: z.string().regex(VOLUME_NAME, {
    message: "must be a volume name: a letter or digit, then letters, digits, '_', '.', '-'",
  }),
  target: z.string().regex(ABSOLUTE_PATH, { message: 'must be an absolute path in the container' }),
  read_only: z.boolean().optional(),
});

const LabelKeySchema = z
  .string()
  .regex(LABEL_KEY, { message: "must be a label key: letters, digits, '_', '.', '-', '/'" })
  .superRefine((key, ctx) => {
    const reserved = RESERVED_LABELS.find((r) => key.startsWith(r.prefix));
    if (reserved) ctx.addIssue({ code: 'custom', message: reserved.why });
  });

export const ServiceSpecSchema = z
  .strictObject({
    image: ImageReferenceSchema,
    environment: EnvironmentSchema,
    env: z.record(EnvNameSchema, SetEnvValueSchema).optional(),
    ports: z
      .record(
        EnvNameSchema,
        z.number().int().min(1, { message: 'must be a port from 1 to 65535' }).max(65535, {
          message: 'must be a port from 1 to 65535',
        }),
      )
      .optional(),
    mounts: z.array(MountSchema).max(64).optional(),
    labels: z.record(LabelKeySchema, z.string().max(4096)).optional(),
    healthcheck: z
      .string()
      .max(2048)
      .superRefine((v, ctx) => {
        const r = parseHealthLabel(v);
        if (!r.ok) ctx.addIssue({ code: 'custom', message: 'must be http(s)://… or tcp://host:port' });
      })
      .optional(),
    command: z
      .array(z.string().max(32 * 1024))
      .min(1)
      .max(256)
      .optional(),
    restart: z.enum(['no', 'always', 'unless-stopped', 'on-failure']).optional(),
    replicas: z.number().int().min(1).max(50).optional(),
    init: z.boolean().optional(),
  })
  .superRefine((s, ctx) => {
    for (const name of Object.keys(s.ports ?? {})) {
      if (s.env && name in s.env)
        ctx.addIssue({
          code: 'custom',
          path: ['ports', name],
          message: `${name} is set in env too: name the port once, under ports`,
        });
    }
    const targets = new Set<string>();
    (s.mounts ?? []).forEach((m, i) => {
      if (targets.has(m.target))
        ctx.addIssue({
          code: 'custom',
          path: ['mounts', i, 'target'],
          message: 'is mounted twice',
        });
      targets.add(m.target);
    });
    const listens = Object.keys(s.ports ?? {}).length > 0 || !!s.healthcheck?.match(/^(https?|tcp):/);
    if ((s.replicas ?? 1) > 1 && listens)
      ctx.addIssue({
        code: 'custom',
        path: ['replicas'],
        message:
          'must be 1 for a service that listens on a port: on the host network a second replica cannot bind it',
      });
  });

export const ServicesFileSchema = z.strictObject({
  services: z.record(TargetSchema, ServiceSpecSchema).optional(),
});

export type ServiceSpec = z.infer<typeof ServiceSpecSchema>;
export interface ServicesFile {
  services: Readonly<Record<string, ServiceSpec>>;
}
export type LoadedServicesFile = { ok: true; file: ServicesFile } | { ok: false; problems: string[] };

/** Parses and checks the text of a services file. An empty file (or only comments) defines nothing. */
export function parseServicesFile(text: string): LoadedServicesFile {
  if (Buffer.byteLength(text, 'utf8') > MAX_SERVICES_FILE_BYTES)
    return { ok: false, problems: [`the services file is larger than ${MAX_SERVICES_FILE_BYTES} bytes`] };
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, schema: 'core', prettyErrors: false });
  const lineOf = (offset: number | undefined) =>
    offset === undefined ? 1 : lineCounter.linePos(offset).line;
  const yamlProblems = [...doc.errors, ...doc.warnings].map(
    (e) => `line ${lineOf(e.pos[0])}: ${e.message.split('\n')[0]} (YAML)`,
  );
  if (yamlProblems.length > 0) return refuse(yamlProblems);
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null))
    return { ok: true, file: { services: {} } };
  if (!isMap(doc.contents))
    return refuse(['line 1: the services file must be a YAML mapping with one key, services']);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return refuse([`the services file cannot be read as data: ${(err as Error).message}`]);
  }
  const parsed = ServicesFileSchema.safeParse(data, { error: plainWordsErrorMap });
  if (parsed.success) return { ok: true, file: { services: parsed.data.services ?? {} } };
  const root = doc.contents as Node;
  // A mount written as a bind mount gets one line (why), not also "volume is required".
  const bindMounts = new Set(
    parsed.error.issues
      .filter((i) => i.code === 'unrecognized_keys' && i.keys.includes('bind'))
      .map((i) => formatPath([...i.path.filter((k) => typeof k !== 'symbol'), 'volume'])),
  );
  const problems = parsed.error.issues
    .filter((i) => !bindMounts.has(formatPath(i.path.filter((k) => typeof k !== 'symbol'))))
    .flatMap((issue) => describeIssue(issue, root, lineOf))
    .sort((a, b) => a.line - b.line)
    .map((p) => `line ${p.line}: ${p.text}`);
  return refuse([...new Set(problems)]);
}

/** Reads and checks HELM_SERVICES_FILE; every problem line starts with the file's path. */
export async function loadServicesFile(path: string): Promise<LoadedServicesFile> {
  return loadOwnerFile(path, 'services file', parseServicesFile);
}

/** The environment the file gives a service (the gate's environment for its first deploy), or null. */
export function definedEnvironment(file: ServicesFile, service: string): Environment | null {
  return Object.hasOwn(file.services, service) ? file.services[service]!.environment : null;
}

/** The secrets the file's env gives a service (read into its containers by a first deploy), or none. */
export function definedSecrets(file: ServicesFile, service: string): string[] {
  if (!Object.hasOwn(file.services, service)) return [];
  return Object.values(file.services[service]!.env ?? {}).flatMap((v) =>
    typeof v === 'string' ? [] : [v.secret],
  );
}

export class ServiceDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/**
 * The ServiceDefinition a first deploy creates containers from. Secret references are read from the
 * owner's secret store now (at execution, as for set_env) and named in the `helm.env-secrets` label,
 * so the release record keeps the reference and never the value. Ports become their env variables.
 */
export async function definitionFromSpec(
  service: string,
  spec: ServiceSpec,
  secrets?: SecretStore,
): Promise<ServiceDefinition> {
  const env: Record<string, string> = {};
  const refs: Record<string, string> = {};
  for (const [name, value] of Object.entries(spec.env ?? {})) {
    if (typeof value === 'string') {
      env[name] = value;
      continue;
    }
    if (!secrets)
      throw new ServiceDefinitionError(
        `${service}: env ${name} needs secret "${value.secret}" and Helm has no secret store (HELM_SECRETS_DIR)`,
      );
    env[name] = await secrets.read(value.secret);
    refs[name] = value.secret;
  }
  for (const [name, port] of Object.entries(spec.ports ?? {})) env[name] = String(port);
  const labels: Record<string, string> = { ...(spec.labels ?? {}) };
  if (Object.keys(refs).length > 0) labels[HELM_LABEL.envSecrets] = JSON.stringify(refs);
  return {
    env,
    labels,
    networkMode: 'host',
    ...(spec.command ? { cmd: [...spec.command] } : {}),
    ...(spec.restart ? { restartPolicy: spec.restart } : {}),
    ...(spec.init !== undefined ? { init: spec.init } : {}),
    ...(spec.healthcheck ? { healthcheck: spec.healthcheck } : {}),
    ...(spec.replicas !== undefined ? { replicas: spec.replicas } : {}),
    ...(spec.mounts && spec.mounts.length > 0
      ? {
          mounts: spec.mounts.map((m) => ({
            volume: m.volume,
            target: m.target,
            ...(m.read_only ? { readOnly: true } : {}),
          })),
        }
      : {}),
  };
}

/**
 * ExecContext.definitions for a loaded file: the ServiceDefinition of a service the file defines
 * (its secrets read now), or null.
 */
export function makeServiceDefinitions(
  file: ServicesFile,
  secrets?: SecretStore,
): (service: string) => Promise<ServiceDefinition | null> {
  return async (service) =>
    Object.hasOwn(file.services, service)
      ? definitionFromSpec(service, file.services[service]!, secrets)
      : null;
}

// --- problems, with their line --------------------------------------------------------------------

interface Located {
  line: number;
  text: string;
}

function refuse(problems: string[]): LoadedServicesFile {
  return { ok: false, problems: cappedProblems(problems) };
}

function describeIssue(
  issue: z.core.$ZodIssue,
  root: Node,
  lineOf: (o: number | undefined) => number,
): Located[] {
  const path = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const where = formatPath(path);
      const inMount = path[0] === 'services' && path[2] === 'mounts';
      const hint =
        path.length === 0
          ? ' (a services file takes one key: services)'
          : inMount && key === 'bind'
            ? ': bind mounts are not available in a first release (Helm’s create guard allows it none); use a named volume'
            : '';
      return {
        line: keyLine(root, path, key, lineOf),
        text: `${where ? `${where}: ` : ''}unknown key ${quoteForMessage(key)}${hint}`,
      };
    });
  }
  // A bad record key (a service or env name) is reported at the key itself.
  const keyIssue = issue.code === 'invalid_key';
  const line = keyIssue
    ? keyLine(root, path.slice(0, -1), String(path[path.length - 1]), lineOf)
    : lineOf(nodeAt(root, path).range?.[0]);
  const where = formatPath(path);
  const text =
    where === ''
      ? issue.message
      : issue.message === 'is required'
        ? `${where} is required`
        : `${where}: ${issue.message}`;
  return [{ line, text }];
}

function keyLine(
  root: Node,
  path: readonly (string | number)[],
  key: string,
  lineOf: (o: number | undefined) => number,
): number {
  const parent = nodeAt(root, path);
  if (isMap(parent)) {
    const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    if (pair && isScalar(pair.key)) return lineOf(pair.key.range?.[0]);
  }
  return lineOf(parent.range?.[0]);
}
