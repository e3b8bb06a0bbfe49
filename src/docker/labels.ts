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
