import { describe, expectTypeOf, it } from 'vitest';
import type {
  ActionRequest,
  ActionRequestFor,
  ActionResult,
  Plan,
  PlanFor,
} from '../../../src/contracts/index.js';
import { parseActionRequest } from '../../../src/contracts/index.js';

describe('inferred types', () => {
  it('narrow params by action', () => {
    expectTypeOf<ActionRequestFor<'deploy'>['params']['image']>().toEqualTypeOf<string>();
    expectTypeOf<ActionRequestFor<'scale'>['params']['replicas']>().toEqualTypeOf<number>();
    expectTypeOf<ActionRequestFor<'restart'>['params']>().toEqualTypeOf<
      { timeout_s?: number | undefined } | undefined
    >();
    expectTypeOf<ActionRequest['action']>().toEqualTypeOf<
      | 'deploy'
      | 'restart'
      | 'stop'
      | 'scale'
      | 'health_check'
      | 'logs'
      | 'rollback'
      | 'remove'
      | 'set_env'
      | 'prune'
      | 'status'
      | 'stats'
    >();
    expectTypeOf<PlanFor<'scale'>['desired']>().toEqualTypeOf<{
      replicas: number;
      remove_containers: string[];
    }>();
    expectTypeOf<Plan['request_id']>().toEqualTypeOf<string | null>();
    expectTypeOf<ActionResult['status']>().toEqualTypeOf<
      'pending_approval' | 'approved' | 'executed' | 'failed'
    >();
  });

  it('parseActionRequest answers request or problems', () => {
    const parsed = parseActionRequest({});
    if (parsed.ok) expectTypeOf(parsed.request).toEqualTypeOf<ActionRequest>();
    else expectTypeOf(parsed.problems).toEqualTypeOf<string[]>();
  });
});
