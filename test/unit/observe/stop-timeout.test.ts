import { describe, expect, it } from 'vitest';
import type { ContainerInspect } from '../../../src/docker/docker-objects.js';
import { stopWaitOf, stopWaitText } from '../../../src/observe/stop-timeout.js';

function container(labels: Record<string, string>, stopTimeout?: number): Pick<ContainerInspect, 'Config'> {
  return {
    Config: { Labels: labels, ...(stopTimeout !== undefined ? { StopTimeout: stopTimeout } : {}) },
  } as unknown as Pick<ContainerInspect, 'Config'>;
}

describe('stopWaitOf: how long a stop waits for the process to exit', () => {
  it('the ghost.stop-timeout label first, then the container’s StopTimeout, then Docker’s 10 s', () => {
    expect(stopWaitOf(container({ 'ghost.stop-timeout': '1' }, 30))).toEqual({
      seconds: 1,
      from: 'label',
      problem: null,
    });
    expect(stopWaitOf(container({}, 3))).toEqual({ seconds: 3, from: 'container', problem: null });
    expect(stopWaitOf(container({}))).toEqual({ seconds: 10, from: 'default', problem: null });
    expect(stopWaitOf(container({ 'ghost.stop-timeout': '0' }))).toMatchObject({ seconds: 0, from: 'label' });
    expect(stopWaitOf(container({ 'ghost.stop-timeout': '600' }))).toMatchObject({
      seconds: 600,
      from: 'label',
    });
  });

  it('a label that is not whole seconds from 0 to 600 is ignored and named, never guessed at', () => {
    for (const bad of ['', ' 1', '1.5', '-1', '1s', '601', '1e2', '0x10', '１']) {
      const wait = stopWaitOf(container({ 'ghost.stop-timeout': bad }, 4));
      expect(wait, bad).toMatchObject({ seconds: 4, from: 'container' });
      expect(wait.problem, bad).toContain('ghost.stop-timeout label');
    }
    expect(stopWaitOf(container({ 'ghost.stop-timeout': 'soon' })).seconds).toBe(10);
  });

  it('says where the number came from', () => {
    expect(stopWaitText(stopWaitOf(container({ 'ghost.stop-timeout': '1' })))).toBe(
      '1 s (ghost.stop-timeout)',
    );
    expect(stopWaitText(stopWaitOf(container({}, 3)))).toBe("3 s (the container's StopTimeout)");
    expect(stopWaitText(stopWaitOf(container({})))).toBe("10 s (Docker's default)");
  });
});
