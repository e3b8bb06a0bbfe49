// Section 3: Helm's dockerode reads against the docker CLI doing the same read, in blocks that
// alternate between the two so drift on the machine hits both alike.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { DockerReads } from '../../src/docker/docker-ports.js';
import { Budget, ratio, type Summary, summarize } from '../lib/stats.js';

const run = promisify(execFile);

export interface DockerReadPair {
  op: string;
  helm: Summary;
  cli: Summary;
  /** helm mean / CLI mean: below 1 means Helm is faster. */
  ratioMean: number;
  /** CLI mean / helm mean: how many times slower the CLI is. */
  cliSlowerBy: number;
}

export interface DockerReadsResult {
  n: number;
  boundMs: number;
  bounded: boolean;
  containersOnEngine: number;
  pairs: DockerReadPair[];
}

export async function dockerReadsSection(opts: {
  docker: DockerReads;
  containerId: string;
  n: number;
  warmup: number;
  blockSize: number;
  boundMs: number;
  progress: (msg: string) => void;
}): Promise<DockerReadsResult> {
  const budget = new Budget(opts.boundMs);
  const { docker, containerId: id } = opts;
  const cli = (args: string[]) => run('docker', args, { timeout: 10_000, maxBuffer: 64 * 1024 * 1024 });
  const ops: Array<{ op: string; helm: () => Promise<unknown>; cli: () => Promise<unknown> }> = [
    {
      op: 'inspect container',
      helm: () => docker.inspectContainer(id),
      cli: () => cli(['inspect', id]).then((r) => JSON.parse(r.stdout)),
    },
    {
      op: 'list containers (all)',
      helm: () => docker.listContainers(),
      cli: () =>
        cli(['ps', '-a', '--no-trunc', '--format', '{{json .}}']).then((r) =>
          r.stdout
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l)),
        ),
    },
  ];
  const pairs: DockerReadPair[] = [];
  let bounded = false;
  for (const o of ops) {
    const hs: number[] = [];
    const cs: number[] = [];
    const timeIt = async (fn: () => Promise<unknown>, into: number[] | null) => {
      const t0 = performance.now();
      await fn();
      into?.push(performance.now() - t0);
    };
    for (let i = 0; i < opts.warmup; i++) {
      await timeIt(o.helm, null);
      await timeIt(o.cli, null);
    }
    // Each op gets its share of what is left, so the second op is not starved by the first.
    const opBudget = new Budget(budget.left() / (ops.length - pairs.length));
    while ((hs.length < opts.n || cs.length < opts.n) && !opBudget.expired) {
      for (let i = 0; i < opts.blockSize && hs.length < opts.n && !opBudget.expired; i++)
        await timeIt(o.helm, hs);
      for (let i = 0; i < opts.blockSize && cs.length < opts.n && !opBudget.expired; i++)
        await timeIt(o.cli, cs);
    }
    if (hs.length < opts.n || cs.length < opts.n) bounded = true;
    const h = summarize(hs);
    const c = summarize(cs);
    pairs.push({
      op: o.op,
      helm: h,
      cli: c,
      ratioMean: ratio(h.mean, c.mean),
      cliSlowerBy: ratio(c.mean, h.mean),
    });
    opts.progress(`  ${o.op}: dockerode ${h.mean} ms, CLI ${c.mean} ms`);
  }
  const containersOnEngine = (await docker.listContainers()).length;
  return { n: opts.n, boundMs: opts.boundMs, bounded, containersOnEngine, pairs };
}
