// Per-service leases on the real Redis: one holder at a time, in the order jobs first asked, a
// crashed holder's lease expiring, and a job that stopped asking not blocking the line.
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { LeaseLostError, makeLeaseManager } from '../../../src/executor/lease.js';
import { DEFAULT_TEST_REDIS_URL } from '../../helpers/global-setup.js';
import { freshPrefix } from '../../helpers/queue-prefix.js';

const redis = new Redis(process.env['HELM_TEST_REDIS_URL'] ?? DEFAULT_TEST_REDIS_URL);
afterAll(() => redis.disconnect());

describe('leases', () => {
  it('let one job hold a service at a time, and the next in line after it', async () => {
    const leases = makeLeaseManager(redis, freshPrefix(), 5_000);
    const a = await leases.tryAcquire('local/web', 'a');
    expect(a).not.toBeNull();
    expect(await leases.tryAcquire('local/web', 'b')).toBeNull();
    expect(await leases.tryAcquire('local/web', 'c')).toBeNull();
    // Another service is independent.
    const other = await leases.tryAcquire('local/db', 'x');
    expect(other).not.toBeNull();
    await a!.release();
    // c asked after b: b goes first even if c asks first now.
    expect(await leases.tryAcquire('local/web', 'c')).toBeNull();
    const b = await leases.tryAcquire('local/web', 'b');
    expect(b).not.toBeNull();
    await b!.release();
    const c = await leases.tryAcquire('local/web', 'c');
    expect(c).not.toBeNull();
    await c!.release();
    await other!.release();
  });

  it('expire when their holder dies, and a lost lease fails its check', async () => {
    const prefix = freshPrefix();
    const leases = makeLeaseManager(redis, prefix, 300);
    const a = await leases.tryAcquire('local/web', 'a');
    expect(a).not.toBeNull();
    // Simulate the holder dying: its renewals stop and someone else's token replaces it later.
    await a!.release();
    const b = await leases.tryAcquire('local/web', 'b');
    await expect(a!.check()).rejects.toBeInstanceOf(LeaseLostError);
    await b!.check();
    // Crash: b never releases; its renew timer is the process's, so stop it by releasing the timer only.
    await redis.del(`${prefix}:helm:lease:local/web`);
    await expect(b!.check()).rejects.toBeInstanceOf(LeaseLostError);
    await b!.release();
  });

  it('drop a ticket whose job stopped asking, so the line moves on', async () => {
    const leases = makeLeaseManager(redis, freshPrefix(), 200);
    const a = await leases.tryAcquire('local/web', 'a');
    expect(await leases.tryAcquire('local/web', 'ghost')).toBeNull(); // takes a ticket, then never asks again
    expect(await leases.tryAcquire('local/web', 'c')).toBeNull();
    await a!.release();
    await new Promise((r) => setTimeout(r, 400)); // the ghost's ticket expires
    const c = await leases.tryAcquire('local/web', 'c');
    expect(c).not.toBeNull();
    await c!.release();
  });
});
