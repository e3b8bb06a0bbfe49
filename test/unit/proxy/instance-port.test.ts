// The instance-port choice, as data (the probe is tested on real sockets in test/integration/proxy).
import { describe, expect, it } from 'vitest';
import {
  allocateInstancePort,
  candidatePorts,
  parsePortRange,
  startFor,
} from '../../../src/proxy/instance-port.js';

describe('parsePortRange', () => {
  it('reads first-last', () => {
    expect(parsePortRange('20000-20999')).toEqual({ first: 20000, last: 20999 });
  });
  it.each(['20000', '999-2000', '30000-20000', '20000-70000', 'a-b'])('refuses %j', (text) => {
    expect(() => parsePortRange(text)).toThrow(/is not a port range such as 20000-20999/);
  });
});

describe('candidatePorts', () => {
  const range = { first: 20000, last: 20004 };
  it('starts at the offset, wraps round, and skips what instances hold', () => {
    expect(candidatePorts(range, new Set([20004, 20001]), 3)).toEqual([20003, 20000, 20002]);
  });
  it('is empty when every port is taken', () => {
    expect(candidatePorts(range, new Set([20000, 20001, 20002, 20003, 20004]), 0)).toEqual([]);
  });
  it('a service starts at the same place every time', () => {
    expect(startFor('web')).toBe(startFor('web'));
    expect(startFor('web')).not.toBe(startFor('api'));
  });
});

describe('allocateInstancePort', () => {
  const range = { first: 20000, last: 20002 };
  it('takes the first candidate the probe says is free', async () => {
    const probed: number[] = [];
    const port = await allocateInstancePort('web', range, new Set(), async (p) => {
      probed.push(p);
      return probed.length === 2;
    });
    expect(port).toBe(probed[1]);
    expect(probed).toHaveLength(2);
  });
  it('says so when nothing in the range is free', async () => {
    await expect(allocateInstancePort('web', range, new Set([20000]), async () => false)).rejects.toThrow(
      'no free instance port for web in 20000-20002 (HELM_PROXY_PORT_RANGE): every port is taken or in use',
    );
  });
});
