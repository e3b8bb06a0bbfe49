/**
 * The step names the operations pass to ctx.beforeChange, one before each Docker change. The
 * orchestrator records them in the write-ahead intent, so recovery knows how far a change got.
 */
export const STEP = {
  /** docker pull repository@digest (deploy with manifest_digest, when the engine lacks it). */
  pullImage: 'pull_image',
  /** docker tag <image id> helm-release/<service>-<hash>:<release>. */
  tagReleaseImage: 'tag_release_image',
  /** The replaced container: stop, restart policy "no" (so an engine restart cannot revive it), rename to <name>-helm-<release>. */
  stopOld: 'stop_old',
  disarmOld: 'disarm_old',
  renameOld: 'rename_old',
  /** The new replica: created from the new image (deploy, or a rollback whose kept container is gone)… */
  createNew: 'create_new',
  /** …or a kept container of the target release (rollback): renamed back, its restart policy restored. */
  renameKept: 'rename_kept',
  rearmKept: 'rearm_kept',
  startNew: 'start_new',
  /** Undo, in reverse: the failed replica stopped and removed (or, if it was a kept one, put back)… */
  stopNew: 'stop_new',
  removeNew: 'remove_new',
  disarmKept: 'disarm_kept',
  renameKeptBack: 'rename_kept_back',
  /** …and the replaced container restored under its name and started. */
  renameOldBack: 'rename_old_back',
  rearmOld: 'rearm_old',
  startOld: 'start_old',
  /** restart / stop actions, one per container. */
  restart: 'restart',
  stop: 'stop',
} as const;

export type StepName = (typeof STEP)[keyof typeof STEP];
