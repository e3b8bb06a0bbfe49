// What recovery does with a start-first switch stopped half-way (issue 11, crash safety), as data.
import { describe, expect, it } from 'vitest';
import { decideStartFirstRecovery, type StartFirstNow } from '../../../src/executor/start-first-recovery.js';
import { upstream } from '../../../src/proxy/proxy-port.js';

function now(
  lastStep: string,
  over: Partial<StartFirstNow['replicas'][number]> = {},
  route = [upstream(20001), upstream(8081)],
): StartFirstNow {
  return {
    service: 'web',
    lastStep,
    route,
    replicas: [
      {
        name: 'web',
        oldId: 'old1',
        oldPort: 8081,
        oldRunning: true,
        newId: 'new1',
        newName: 'web-i20001',
        newPort: 20001,
        newRunning: true,
        ...over,
      },
    ],
  };
}

describe('decideStartFirstRecovery', () => {
  it.each(['create_new', 'start_new', 'switch_upstream'])(
    'after %s: back to the old instance, the new one removed',
    (step) => {
      expect(decideStartFirstRecovery(now(step))).toEqual({
        direction: 'back',
        removeFirst: [],
        restore: [],
        setRoute: [upstream(8081)],
        remove: ['new1'],
      });
    },
  );

  it('before the switch with the route untouched: nothing to set, only the new instance to remove', () => {
    expect(decideStartFirstRecovery(now('start_new', {}, [upstream(8081)]))).toMatchObject({
      direction: 'back',
      setRoute: null,
      remove: ['new1'],
    });
  });

  it('after settle_upstream: forward, the old one retired and the new one given the name', () => {
    expect(decideStartFirstRecovery(now('settle_upstream', {}, [upstream(20001)]))).toEqual({
      direction: 'forward',
      setRoute: null,
      retire: ['old1'],
      rename: [{ id: 'new1', to: 'web' }],
    });
  });

  it('after rename_instance with the proxy restarted: forward, the route set again, nothing else', () => {
    const state = now('rename_instance', { oldRunning: false, newName: 'web' }, []);
    state.route = null;
    expect(decideStartFirstRecovery(state)).toEqual({
      direction: 'forward',
      setRoute: [upstream(20001)],
      retire: [],
      rename: [],
    });
  });

  it('settled, but the new instance died: back, the stopped old one restored first', () => {
    expect(
      decideStartFirstRecovery(now('stop_old', { oldRunning: false, newRunning: false }, [upstream(20001)])),
    ).toEqual({
      direction: 'back',
      removeFirst: ['new1'],
      restore: [{ id: 'old1', name: 'web' }],
      setRoute: [upstream(8081)],
      remove: [],
    });
  });
});
