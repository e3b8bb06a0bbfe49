// A real Caddy of a test file's own (Debian's caddy, installed by scripts/test-env.sh): its admin API
// on a free loopback port, HOME and the XDG dirs in its own mkdtemp dir (so it never reads or
// autosaves into the machine's), automatic HTTPS off. Optionally the owner's own server ("front") on
// a free loopback port, holding one route of the owner's, which Helm must never touch.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './docker.js';
import { spawnServer } from './spawn-server.js';

export interface TestCaddyOptions {
  /** Also run the owner's server "front" on a free loopback port (for host routes). Default false. */
  front?: boolean;
}

export interface TestCaddy {
  /** `http://127.0.0.1:<port>`: what HELM_PROXY_ADMIN would be. */
  adminUrl: string;
  adminPort: number;
  /** The owner's server's loopback port, when started with `front: true`. */
  frontPort: number | undefined;
  dir: string;
  pid(): number | undefined;
  /** GET /config/<path> on the admin API, parsed JSON (Caddy answers null for a path that is not there). */
  getConfig(pathUnderConfig: string): Promise<unknown>;
  /** SIGKILL, then starts again from the original config file: Helm's routes are gone, as after a crash without --resume. */
  restart(): Promise<void>;
  /** Kills it and deletes its dir. Call in afterAll. */
  destroy(): Promise<void>;
}

const CADDY = process.env['HELM_TEST_CADDY'] ?? 'caddy';
/** The @id of the owner's route on "front", for tests that check Helm left it alone. */
export const OWNER_ROUTE_ID = 'owner-static';
/** The owner's config: admin on loopback, and maybe the "front" server with a route of the owner's. */
export function testCaddyConfig(adminPort: number, frontPort: number | undefined): unknown {
  const servers: Record<string, unknown> = {};
  if (frontPort !== undefined) {
    servers['front'] = {
      listen: [`127.0.0.1:${frontPort}`],
      automatic_https: { disable: true },
      routes: [
        {
          '@id': OWNER_ROUTE_ID,
          match: [{ path: ['/owner'] }],
          handle: [{ handler: 'static_response', body: 'owner', status_code: 200 }],
        },
      ],
    };
  }
  return { admin: { listen: `127.0.0.1:${adminPort}` }, apps: { http: { servers } } };
}

async function adminAnswers(adminUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${adminUrl}/config/`, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

async function launch(dir: string, configFile: string, adminUrl: string): Promise<ChildProcess> {
  const env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: dir,
    XDG_CONFIG_HOME: path.join(dir, 'config'),
    XDG_DATA_HOME: path.join(dir, 'data'),
  };
  const { child, output, spawnError, exited } = spawnServer(CADDY, ['run', '--config', configFile], { env });
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const error = spawnError();
    if (error) throw new Error(`could not run ${CADDY}: ${error.message} (scripts/test-env.sh installs it)`);
    if (exited()) {
      throw new Error(`caddy exited (${child.exitCode ?? child.signalCode}):\n${output()}`);
    }
    if (await adminAnswers(adminUrl)) return child;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`caddy's admin API at ${adminUrl} did not answer in time:\n${output()}`);
}

async function killAndWait(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** Starts a Caddy of the test file's own. Always `destroy()` it in afterAll. */
export async function startTestCaddy(options: TestCaddyOptions = {}): Promise<TestCaddy> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'helm-test-caddy-'));
  const adminPort = await freePort();
  const frontPort = options.front ? await freePort() : undefined;
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const configFile = path.join(dir, 'caddy.json');
  await writeFile(configFile, JSON.stringify(testCaddyConfig(adminPort, frontPort)));
  let child: ChildProcess | undefined = await launch(dir, configFile, adminUrl);
  return {
    adminUrl,
    adminPort,
    frontPort,
    dir,
    pid: () => child?.pid,
    async getConfig(pathUnderConfig) {
      const response = await fetch(`${adminUrl}/config/${pathUnderConfig}`);
      const text = await response.text();
      if (!response.ok) throw new Error(`GET /config/${pathUnderConfig}: ${response.status} ${text}`);
      return JSON.parse(text) as unknown;
    },
    async restart() {
      await killAndWait(child);
      child = undefined;
      child = await launch(dir, configFile, adminUrl);
    },
    async destroy() {
      await killAndWait(child);
      child = undefined;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
