import { hashCanonical } from '../contracts/canonical.js';
import type { Plan } from '../contracts/plan.js';

/** The plan's hash as Warden recomputes it: lowercase hex SHA-256 of its RFC 8785 canonical form. */
export function planHash(plan: Plan): string {
  return hashCanonical(plan);
}
