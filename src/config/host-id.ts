import { TARGET_MESSAGE, TARGET_PATTERN } from '../contracts/identifiers.js';

/**
 * "local" once named the only engine Helm ran against; with several hosts on one bus it names
 * whichever host a request reaches (contract 1.5, decision 91), so no host may be called that.
 */
export const LOCAL_ALIAS = 'local';

/** Why `id` cannot be a host id (it is validated like a target), or null when it can. Pure. */
export function hostIdProblem(id: string): string | null {
  if (!TARGET_PATTERN.test(id)) return TARGET_MESSAGE;
  if (id.toLowerCase() === LOCAL_ALIAS)
    return `must not be "${LOCAL_ALIAS}" (it means "this host" in requests)`;
  return null;
}

/**
 * This host's id: HELM_HOST_ID (checked by the schema), else the machine's hostname, which must be a
 * valid host id too (a problem is added otherwise, asking for HELM_HOST_ID).
 */
export function hostIdOf(configured: string | undefined, machine: string, problems: string[]): string {
  if (configured) return configured;
  const problem = hostIdProblem(machine);
  if (problem)
    problems.push(
      `HELM_HOST_ID: unset, and the hostname "${machine}" cannot be a host id (it ${problem}); set it`,
    );
  return machine;
}
