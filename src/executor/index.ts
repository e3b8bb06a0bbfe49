// The executors' Docker operations. Orchestration (worker, leases, intents, gate) lives beside them
// in run-*.ts, lease.ts and intent*.ts; it calls these with an ExecContext.
export { type Artifact, repositoryOf, registryOf, verifyArtifact } from './artifact.js';
export { type DeployDesired, deployService, type ReleaseOutcome, START_FIRST_REFUSAL } from './deploy.js';
export {
  ChangeAbortedError,
  DEFAULT_HEALTH_TIMEOUT_MS,
  DEFAULT_STABILITY_WINDOW_MS,
  DEFAULT_STOP_TIMEOUT_S,
  type ExecContext,
  type ExecMeta,
} from './exec-context.js';
export { bindsFixedHostPort, type FixedPort } from '../observe/fixed-port.js';
export { healthGate, waitHealthy, watchStability } from './health-gate.js';
export { HELM_LABEL, isIdentityLabel } from '../docker/helm-labels.js';
export { isKeptContainer, keptName, keptRelease } from '../docker/kept-containers.js';
export { activeContainers } from '../docker/target-resolution.js';
export { recreateOptions } from './recreate-config.js';
export { makeRegistryAuth } from './registry-auth.js';
export {
  type ContainerConfigRecord,
  captureConfig,
  configDigest,
  type RecordedEnv,
} from '../releases/release-config.js';
export { defaultRollbackTarget, planReleaseIds } from '../releases/release-info.js';
export {
  DEFAULT_KEEP_RELEASES,
  makeReleaseStore,
  type ReleaseRecord,
  type ReleaseStore,
  releaseSummary,
  releaseTag,
} from '../releases/release-store.js';
export { restartService } from './restart.js';
export { rollbackService } from './rollback.js';
export { renderRollbackDoc } from './rollback-doc.js';
export type { ServiceDefinition } from './service-definition.js';
export { STEP, type StepName } from './steps.js';
export { stopService } from './stop.js';
