// Section 6: how many Redis commands one request costs, counted exactly with MONITOR for a few
// requests of each kind (after the timed sections: MONITOR slows Redis down, so nothing is timed here).
// Only this process's connections are counted (their names carry the run id); commands that Lua
// scripts run inside Redis are counted apart. An ECHO marker on the stream separates the kinds.
import { Redis } from 'ioredis';
import { type BusClient, roundTrip } from '../lib/bus.js';
import { Budget, round, sleep } from '../lib/stats.js';

export interface CommandCountKind {
  key: string;
  label: string;
  requests: number;
  commandsPerRequest: number;
  /** redis.call()s made inside Lua scripts (BullMQ's and Helm's), per request. */
  luaCallsPerRequest: number;
  /** Per request, by command name (client commands only), most first. */
  byCommand: Record<string, number>;
}

export interface CommandCountResult {
  n: number;
  boundMs: number;
  bounded: boolean;
  connectionsWatched: string[];
  kinds: CommandCountKind[];
}

export async function redisCommandsSection(opts: {
  redisUrl: string;
  runId: string;
  kinds: Array<{
    key: string;
    label: string;
    client: BusClient;
    data: (i: number) => Record<string, unknown>;
  }>;
  n: number;
  boundMs: number;
}): Promise<CommandCountResult> {
  const budget = new Budget(opts.boundMs);
  const marker = `mark:${opts.runId}:`;
  const admin = new Redis(opts.redisUrl, { connectionName: `bench-mark-${opts.runId}` });
  const monitor = await admin.monitor();
  const ours = new Map<string, string>();
  const list = (await admin.client('LIST')) as string;
  for (const line of list.split('\n')) {
    const addr = line.match(/ addr=(\S+)/)?.[1];
    const name = line.match(/ name=(\S*)/)?.[1] ?? '';
    if (addr && name.includes(opts.runId) && !name.startsWith('bench-mark-')) ours.set(addr, name);
  }
  const counts = new Map<string, { cmds: Map<string, number>; lua: number }>();
  let bucket: string | null = null;
  let lastOurs = false;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const name = String(args[0] ?? '').toLowerCase();
    if (source === 'lua') {
      if (lastOurs && bucket) counts.get(bucket)!.lua++;
      return;
    }
    if (name === 'echo' && String(args[1] ?? '').startsWith(marker)) {
      bucket = String(args[1]).slice(marker.length);
      if (!counts.has(bucket)) counts.set(bucket, { cmds: new Map(), lua: 0 });
      lastOurs = false;
      return;
    }
    lastOurs = ours.has(source);
    if (!lastOurs || !bucket || bucket === 'end') return;
    const c = counts.get(bucket)!.cmds;
    c.set(name, (c.get(name) ?? 0) + 1);
  });

  const done = new Map<string, number>();
  try {
    for (const kind of opts.kinds) {
      await admin.echo(`${marker}${kind.key}`);
      let k = 0;
      for (let i = 0; i < opts.n && !budget.expired; i++) {
        await roundTrip(kind.client, kind.data(i), Math.max(1000, Math.min(10_000, budget.left())));
        k++;
      }
      // Let the events and the last writes of the final request land in this kind's window.
      await sleep(100);
      done.set(kind.key, k);
    }
    await admin.echo(`${marker}end`);
    await sleep(200);
  } finally {
    monitor.disconnect();
    admin.disconnect();
  }

  return {
    n: opts.n,
    boundMs: opts.boundMs,
    bounded: opts.kinds.some((k) => (done.get(k.key) ?? 0) < opts.n),
    connectionsWatched: [...ours.values()].sort(),
    kinds: opts.kinds.map((kind) => {
      const c = counts.get(kind.key);
      const requests = done.get(kind.key) ?? 0;
      const per = (x: number) => (requests > 0 ? round(x / requests, 2) : Number.NaN);
      const entries = [...(c?.cmds ?? new Map<string, number>())].sort((a, b) => b[1] - a[1]);
      return {
        key: kind.key,
        label: kind.label,
        requests,
        commandsPerRequest: per(entries.reduce((a, [, v]) => a + v, 0)),
        luaCallsPerRequest: per(c?.lua ?? 0),
        byCommand: Object.fromEntries(entries.map(([name, v]) => [name, per(v)])),
      };
    }),
  };
}
