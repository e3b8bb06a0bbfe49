// A Redis of the test's own that loads the users file exactly as compose does: generated for the
// test's prefix (and this redis-server's version), passwords appended by redis/render-acl.sh.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import {
  AGENT_USERS,
  type AgentUser,
  renderAclFile,
  supportsClientSetinfo,
} from '../../../scripts/generate-acl.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../../helpers/redis-server.js';

const run = promisify(execFile);

export type AclUser = AgentUser | 'admin';

export interface AclRedis {
  server: ThrowawayRedis;
  /** `redis://<user>:<password>@127.0.0.1:<port>` */
  url(user: AclUser): string;
  /** A connection of the admin user (ACL LOG, checks behind the agents' backs). */
  admin: Redis;
  /** The refusals Redis recorded, as `user: reason object` lines. */
  aclLog(): Promise<string[]>;
  resetAclLog(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startAclRedis(prefix: string, options: { aof?: boolean } = {}): Promise<AclRedis> {
  const passwords = Object.fromEntries(
    [...AGENT_USERS, 'admin'].map((u) => [u, randomBytes(24).toString('hex')]),
  ) as Record<AclUser, string>;
  const { stdout } = await run(process.env['HELM_TEST_REDIS_SERVER'] ?? 'redis-server', ['--version']);
  const version = /v=(\d+\.\d+)/.exec(stdout)?.[1] ?? '7.0';
  const dir = await mkdtemp(path.join(os.tmpdir(), 'helm-acl-'));
  const template = path.join(dir, 'users.acl');
  const rendered = path.join(dir, 'users.rendered.acl');
  await writeFile(template, renderAclFile({ prefix, clientSetinfo: supportsClientSetinfo(version) }));
  await run('sh', ['redis/render-acl.sh', template, rendered], {
    env: {
      PATH: process.env['PATH'] ?? '',
      ...Object.fromEntries(
        Object.entries(passwords).map(([u, p]) => [`REDIS_PASSWORD_${u.toUpperCase()}`, p]),
      ),
    },
  });
  const server = await startThrowawayRedis({ aof: options.aof ?? false, extraArgs: ['--aclfile', rendered] });
  const admin = new Redis(server.url, { username: 'admin', password: passwords.admin });
  return {
    server,
    url: (user) => `redis://${user}:${passwords[user]}@127.0.0.1:${server.port}`,
    admin,
    async aclLog() {
      const entries = (await admin.call('ACL', 'LOG')) as unknown[][];
      return entries.map((entry) => {
        const fields = new Map<string, unknown>();
        for (let i = 0; i + 1 < entry.length; i += 2) fields.set(String(entry[i]), entry[i + 1]);
        return `${fields.get('username')}: ${fields.get('reason')} ${fields.get('object')}`;
      });
    },
    async resetAclLog() {
      await admin.call('ACL', 'LOG', 'RESET');
    },
    async destroy() {
      admin.disconnect();
      await server.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
