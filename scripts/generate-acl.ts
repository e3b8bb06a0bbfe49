// Writes the Redis ACL users file of the Ghost bus ("Who may write where", redis/README.md): one user
// per agent, each limited to the keys of the queues it uses and the commands BullMQ 6.7.0 needs.
// The committed redis/users.acl is this script's output for prefix "bull" and Redis 7.2 or newer:
//
//   npx tsx scripts/generate-acl.ts [--prefix bull] [--redis-version 7.2] [--out redis/users.acl]
//
// The file carries no passwords (a user without one cannot log in) and no comments (Redis refuses
// them): redis/render-acl.sh appends SHA-256 password hashes from the environment when Redis starts,
// and redis/README.md explains each line.
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export const AGENT_USERS = ['helm', 'forge', 'warden', 'sentinel'] as const;
export type AgentUser = (typeof AGENT_USERS)[number];

/** HELM_QUEUE_PREFIX's own rule: no glob character, space or ":" can reach a key pattern. */
export const PREFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * Every command BullMQ 6.7.0's Lua scripts call (`rcall`/`redis.call` in node_modules/bullmq's
 * commands/*.lua and includes, relay scripts left out), plus SSCAN, HSCAN, LPUSH and RPUSH, which
 * scripts call through a variable. Redis checks the ACL of every command a script runs, so an agent
 * that may run BullMQ's scripts needs all of them; a unit test re-reads the scripts and fails when
 * an upgrade adds one.
 */
// biome-ignore format: one sorted list, read by word rather than one command a line
export const BULLMQ_SCRIPT_COMMANDS = [
  'del', 'exists', 'get', 'hdel', 'hexists', 'hget', 'hgetall', 'hincrby', 'hlen', 'hmget', 'hmset',
  'hscan', 'hset', 'incr', 'incrby', 'lindex', 'llen', 'lpop', 'lpos', 'lpush', 'lrange', 'lrem',
  'lset', 'ltrim', 'persist', 'pexpire', 'pexpireat', 'pttl', 'rename', 'rpop', 'rpoplpush', 'rpush',
  'sadd', 'scard', 'sismember', 'smembers', 'srem', 'sscan', 'set', 'time', 'type', 'unlink', 'xadd',
  'xdel', 'xlen', 'xrange', 'xread', 'xtrim', 'zadd', 'zcard', 'zcount', 'zlexcount', 'zpopmin',
  'zrange', 'zrangebylex', 'zrangebyscore', 'zrem', 'zremrangebyrank', 'zremrangebyscore',
  'zrevrange', 'zrevrangebyscore', 'zscore',
] as const;

/**
 * What a BullMQ client sends outside scripts (checked with MONITOR and ACL LOG, redis/README.md):
 * HELLO on connect (ioredis 6; no-auth, always allowed, listed for clarity), INFO (BullMQ's version
 * check), CLIENT SETNAME (Workers and QueueEvents name their connections; a refusal is an error),
 * EVALSHA with EVAL as ioredis's fallback on NOSCRIPT, MULTI/EXEC (getJobs, logs), QUIT on close,
 * XREAD BLOCK (QueueEvents), and plain reads and writes that are all in the script list above.
 */
export const BULLMQ_CLIENT_COMMANDS = [
  'hello',
  'quit',
  'ping',
  'info',
  'client|setname',
  'eval',
  'evalsha',
  'multi',
  'exec',
  'discard',
] as const;

/** A Worker waits for jobs with BZPOPMIN on the queue's marker key. */
export const BULLMQ_WORKER_COMMANDS = ['bzpopmin'] as const;

export interface AclOptions {
  /** The BullMQ prefix every agent uses (HELM_QUEUE_PREFIX); default "bull". */
  prefix?: string;
  /**
   * Redis from 7.2 on has CLIENT SETINFO, which ioredis sends on connect (errors ignored); 7.0
   * refuses the rule that allows it, so it is only written for 7.2 or newer. Default true.
   */
  clientSetinfo?: boolean;
  /**
   * Several hosts on one bus (contract 1.5): one more user per host id, `helm_<host>` (lowercase, every
   * character but a-z, 0-9 and _ as _), with exactly the `helm` user's rules, so each host's Helm logs in
   * with its own password and one host's can be revoked alone. Default none.
   */
  helmHosts?: readonly string[];
}

/** The Redis user of one host's Helm: `helm_<host id>` in render-acl.sh's alphabet ([a-z0-9_]). */
export function helmHostUser(host: string): string {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/.test(host))
    throw new Error(`--helm-hosts: "${host}" is not a host id`);
  return `helm_${host.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
}

export interface AgentRules {
  /** Key patterns with read and write access. */
  readWrite: string[];
  /** Key patterns with read access only. */
  readOnly: string[];
  commands: string[];
}

/** The keys and commands of each agent's user, for the given prefix. */
export function agentRules(options: AclOptions = {}): Record<AgentUser, AgentRules> {
  const prefix = options.prefix ?? 'bull';
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new Error(`prefix ${JSON.stringify(prefix)} must be 1-64 letters, digits, "_", "." or "-"`);
  }
  const queue = (name: string) => `${prefix}:${name}:*`;
  const client = [
    ...BULLMQ_CLIENT_COMMANDS,
    ...(options.clientSetinfo === false ? [] : ['client|setinfo']),
    ...BULLMQ_SCRIPT_COMMANDS,
  ];
  return {
    helm: {
      // Every public queue, every internal one (helm.<anything>), Helm's keys and the heartbeats.
      readWrite: [
        `${prefix}:helm.*`,
        queue('warden.requests'),
        queue('sentinel.alerts'),
        `${prefix}:helm:*`,
        `${prefix}:ghost:heartbeat:*`,
      ],
      readOnly: [],
      // Helm is the trusted party: everything but the server-wide and dangerous commands, plus INFO
      // (durability check) and CLIENT LIST (BullMQ's getWorkers, for the consumer watch).
      commands: [
        '@all',
        '-@dangerous',
        '-function',
        '-script|flush',
        '-script|kill',
        '-script|debug',
        'info',
        'client|list',
      ],
    },
    forge: {
      // Add to helm.actions and follow it (QueueEvents, waitUntilFinished, getJob): nothing else.
      readWrite: [queue('helm.actions')],
      readOnly: [],
      commands: client,
    },
    warden: {
      readWrite: [queue('warden.requests'), queue('helm.approvals')],
      readOnly: [],
      commands: [...client, ...BULLMQ_WORKER_COMMANDS],
    },
    sentinel: {
      readWrite: [queue('sentinel.alerts')],
      // The contract's heartbeat is for a watcher: Sentinel may read it, never write it.
      readOnly: [`${prefix}:ghost:heartbeat:*`],
      commands: [...client, ...BULLMQ_WORKER_COMMANDS],
    },
  };
}

function commandRules(commands: readonly string[]): string {
  const explicit = commands[0] !== '@all';
  return (explicit ? ['-@all', ...commands] : commands)
    .map((c) => (c.startsWith('-') ? c : `+${c}`))
    .join(' ');
}

/** The users file, one `user` line per user; no passwords (render-acl.sh appends them). */
export function renderAclFile(options: AclOptions = {}): string {
  const rules = agentRules(options);
  // Redis refuses comments in an ACL file: redis/README.md explains every line.
  const lines = [
    // Before AUTH a connection is `default`: PING only (health checks), nothing else.
    'user default reset on nopass resetchannels -@all +ping',
    // The owner, for maintenance: it can do anything, so it is outside the gate's threat model.
    'user admin reset on ~* &* +@all',
  ];
  const hostUsers = (options.helmHosts ?? []).map((host) => [helmHostUser(host), 'helm'] as const);
  const names = new Set<string>(AGENT_USERS);
  for (const [name] of hostUsers) {
    if (names.has(name))
      throw new Error(`--helm-hosts: two hosts (or a host and an agent) make user ${name}`);
    names.add(name);
  }
  for (const [user, as] of [...AGENT_USERS.map((u) => [u, u] as const), ...hostUsers]) {
    const r = rules[as];
    const keys = [...r.readWrite.map((p) => `~${p}`), ...r.readOnly.map((p) => `%R~${p}`)].join(' ');
    lines.push(`user ${user} reset on resetchannels ${keys} ${commandRules(r.commands)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** "7.2" → true; "7.0" → false; a version Redis 6 or older is refused (ACL selectors need 7). */
export function supportsClientSetinfo(redisVersion: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(redisVersion);
  if (!m) throw new Error(`--redis-version ${JSON.stringify(redisVersion)}: expected MAJOR.MINOR, e.g. 7.2`);
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major < 7) throw new Error('the users file needs Redis 7.0 or newer (read-only key patterns)');
  return major > 7 || minor >= 2;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      prefix: { type: 'string', default: 'bull' },
      'redis-version': { type: 'string', default: '7.2' },
      out: { type: 'string' },
      'helm-hosts': { type: 'string', default: '' },
    },
  });
  const text = renderAclFile({
    prefix: values.prefix,
    clientSetinfo: supportsClientSetinfo(values['redis-version']),
    helmHosts: values['helm-hosts'].split(',').filter(Boolean),
  });
  if (values.out) writeFileSync(values.out, text);
  else process.stdout.write(text);
}

export const COMMITTED_ACL_PATH = fileURLToPath(new URL('../redis/users.acl', import.meta.url));

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (error) {
    process.stderr.write(`generate-acl: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
