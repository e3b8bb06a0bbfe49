/** Labels Ghost and Helm read or write on containers. */
export const LABEL = {
  service: 'ghost.service',
  environment: 'ghost.environment',
  scope: 'ghost.scope',
  role: 'ghost.role',
  healthcheck: 'ghost.healthcheck',
  /** Whole seconds a stop waits for the process to exit before Docker kills it (observe/stop-timeout.ts). */
  stopTimeout: 'ghost.stop-timeout',
  composeProject: 'com.docker.compose.project',
  composeService: 'com.docker.compose.service',
} as const;

/**
 * Roles Helm never stops, removes or changes (protected_target): itself, the bus, and Ghost's front
 * proxy, whose stop would take every routed service offline at once.
 */
export const PROTECTED_ROLES: ReadonlySet<string> = new Set(['helm', 'bus', 'proxy']);
