/**
 * The step names scale, remove and prune pass to ctx.beforeChange, one before each Docker change
 * (set_env replaces replicas through switchReplicas and uses its steps: see steps.ts). The
 * orchestrator records them in the write-ahead intent. Each name stands for exactly one DockerOps
 * call, given in its comment.
 */
export const MAINTENANCE_STEP = {
  /** scale up: a new replica copied from replica 1 (createContainer), then started (startContainer). */
  createReplica: 'create_replica',
  startReplica: 'start_replica',
  /** scale up: a stopped replica (the scale template, or one that was stopped) started again (startContainer). */
  startStopped: 'start_stopped',
  /** scale up from 0: the template's restart policy restored (setRestartPolicy). */
  rearmTemplate: 'rearm_template',
  /** scale down: the newest replicas stopped (stopContainer) and removed (removeContainer). */
  stopReplica: 'stop_replica',
  removeReplica: 'remove_replica',
  /** scale to 0: the last replica stopped (stopContainer) and its restart policy set to "no" (setRestartPolicy). */
  stopTemplate: 'stop_template',
  disarmTemplate: 'disarm_template',
  /** scale up that failed, undone: a new replica stopped and removed, a started one stopped again. */
  undoStopReplica: 'undo_stop_replica',
  undoRemoveReplica: 'undo_remove_replica',
  undoStopStarted: 'undo_stop_started',
  /** remove: the service's running containers stopped (stopContainer) before their volumes are archived. */
  stopForRemove: 'stop_for_remove',
  /** remove: an archive failed, so the stopped containers start again (startContainer). */
  restartAfterArchive: 'restart_after_archive',
  /** remove: a container removed (removeContainer, without its volumes). */
  removeContainer: 'remove_container',
  /** remove with volumes: a volume removed (removeVolume), after its archive is on disk. */
  removeVolume: 'remove_volume',
  /** prune containers: one kept container of a superseded release (removeContainer). */
  pruneContainer: 'prune_container',
  /** prune images: one of Helm's release tags removed (removeImage); the last one deletes the image. */
  pruneImageTag: 'prune_image_tag',
} as const;

export type MaintenanceStepName = (typeof MAINTENANCE_STEP)[keyof typeof MAINTENANCE_STEP];

/** Which DockerOps method each maintenance step stands for (tests check each change was announced). */
export const METHOD_OF_MAINTENANCE_STEP: Readonly<Record<MaintenanceStepName, string>> = {
  create_replica: 'createContainer',
  start_replica: 'startContainer',
  start_stopped: 'startContainer',
  rearm_template: 'setRestartPolicy',
  stop_replica: 'stopContainer',
  remove_replica: 'removeContainer',
  stop_template: 'stopContainer',
  disarm_template: 'setRestartPolicy',
  undo_stop_replica: 'stopContainer',
  undo_remove_replica: 'removeContainer',
  undo_stop_started: 'stopContainer',
  stop_for_remove: 'stopContainer',
  restart_after_archive: 'startContainer',
  remove_container: 'removeContainer',
  remove_volume: 'removeVolume',
  prune_container: 'removeContainer',
  prune_image_tag: 'removeImage',
};
