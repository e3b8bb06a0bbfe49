import { execFile } from 'node:child_process';
import { access, copyFile, mkdir, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';
import { CliError } from '../output.js';
import type { DemoNames } from './demo-names.js';

/**
 * The demo's image, built FROM scratch out of the host's own busybox (nothing is pulled: a demo
 * must run on a machine that reaches no registry). Debian's busybox-static is one static file;
 * Debian's busybox (which an installed Debian has, through initramfs-tools) is dynamic, so the
 * libraries `ldd` names are staged beside it. Built through dockerode, never a shell.
 */
const run = promisify(execFile);

const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox', '/sbin/busybox', '/usr/sbin/busybox'];

/** The first busybox the host has, resolved; a one-line refusal when there is none. */
export async function findBusybox(candidates = BUSYBOX_CANDIDATES): Promise<string> {
  for (const candidate of candidates) {
    try {
      await access(candidate);
      return await realpath(candidate);
    } catch {
      // next candidate
    }
  }
  throw new CliError(
    'demo_no_busybox',
    `helm demo builds its image from the host's busybox, and none is installed (${candidates.join(', ')}): apt-get install busybox-static`,
  );
}

/** The shared libraries `ldd` lists for a binary; none for a static one. */
export async function sharedLibraries(binary: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await run('ldd', [binary], { timeout: 10_000 }));
  } catch {
    return []; // ldd exits 1 on a static binary ("not a dynamic executable")
  }
  return parseLdd(stdout);
}

/** `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)` and `/lib64/ld-linux-x86-64.so.2 (0x…)`. */
export function parseLdd(text: string): string[] {
  const paths = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (m?.[1]) paths.add(m[1]);
  }
  return [...paths];
}

/** The Dockerfile: httpd on 127.0.0.1:$PORT; /health answers unless DEMO_HEALTH=bad. */
export function demoDockerfile(): string {
  const setup = [
    '/bin/busybox --install -s /bin',
    'mkdir -p /www /tmp',
    'chmod 1777 /tmp',
    'echo "helm demo web, release $DEMO_VERSION" > /www/index.html',
    'if [ "$DEMO_HEALTH" = ok ]; then echo ok > /www/health; fi',
  ].join(' && ');
  return [
    'FROM scratch',
    'COPY rootfs/ /',
    'ARG DEMO_VERSION=1',
    'ARG DEMO_HEALTH=ok',
    `RUN ["/bin/busybox", "sh", "-c", ${JSON.stringify(setup)}]`,
    'ENV PATH=/bin DEMO_VERSION=$DEMO_VERSION PORT=8080',
    'HEALTHCHECK --interval=1s --timeout=3s --start-period=2s --retries=2 \\',
    '  CMD wget -q -O /dev/null "http://127.0.0.1:$PORT/health" || exit 1',
    'CMD ["/bin/sh", "-c", "exec httpd -f -p \\"127.0.0.1:$PORT\\" -h /www"]',
    '',
  ].join('\n');
}

/** Writes the build context into `dir`: the Dockerfile, busybox as /bin/busybox, its libraries. */
export async function stageContext(dir: string, busybox: string): Promise<void> {
  const rootfs = path.join(dir, 'rootfs');
  await mkdir(path.join(rootfs, 'bin'), { recursive: true });
  await copyFile(busybox, path.join(rootfs, 'bin', 'busybox'));
  for (const lib of await sharedLibraries(busybox)) {
    const target = path.join(rootfs, lib);
    await mkdir(path.dirname(target), { recursive: true });
    await copyFile(await realpath(lib), target);
  }
  await writeFile(path.join(dir, 'Dockerfile'), demoDockerfile());
}

export interface BuiltImages {
  v1: string;
  v2: string;
  bad: string;
}

/** Builds the three releases (1, 2, and 3 whose health check fails); returns their image ids. */
export async function buildDemoImages(
  docker: Dockerode,
  dir: string,
  names: DemoNames,
): Promise<BuiltImages> {
  const build = async (tag: string, args: Record<string, string>) => {
    const stream = await docker.buildImage(
      { context: dir, src: ['Dockerfile', 'rootfs'] },
      { t: tag, networkmode: 'none', rm: true, forcerm: true, buildargs: args, labels: labelsOf(names) },
    );
    const output = await new Promise<Array<{ error?: string; errorDetail?: { message?: string } }>>(
      (resolve, reject) =>
        docker.modem.followProgress(stream, (err, res) => (err ? reject(err) : resolve(res))),
    );
    const failed = output.find((o) => o.error || o.errorDetail);
    if (failed) throw new Error(`building ${tag} failed: ${failed.errorDetail?.message ?? failed.error}`);
    return (await docker.getImage(tag).inspect()).Id;
  };
  return {
    v1: await build(names.images.v1, { DEMO_VERSION: '1' }),
    v2: await build(names.images.v2, { DEMO_VERSION: '2' }),
    bad: await build(names.images.bad, { DEMO_VERSION: '3', DEMO_HEALTH: 'bad' }),
  };
}

export function labelsOf(names: DemoNames): Record<string, string> {
  return { [names.label.key]: names.label.value };
}
