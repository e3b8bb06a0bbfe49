import type { Clock } from '../base/clock.js';
import type { AlertSender } from '../bus/alert-sender.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import { openRunLog, type RunLog, RunLogLockedError } from '../runlog/index.js';
import { StartupError } from './startup-error.js';

/** How many processes on one host may each write their own run-log file beside the first. */
const MAX_RUN_LOG_FILES = 16;

/**
 * One process writes one file. The first process takes its configured file; another process on the
 * same host and memory folder (its lock is held) writes its own chained file beside it, the first
 * free of run_log.<host>.2.md, .3, … so that a restarted process continues its own chain.
 * `helm log` merges them all by time.
 */
export async function openOwnRunLog(
  config: Readonly<Config>,
  key: Buffer,
  clock: Clock,
  logger: Logger,
): Promise<RunLog> {
  const stem = config.runLogFileName.replace(/\.md$/, '');
  const host = config.host.replace(/[^A-Za-z0-9_.-]/g, '-');
  const names = [
    config.runLogFileName,
    ...Array.from({ length: MAX_RUN_LOG_FILES - 1 }, (_, i) => `${stem}.${host}.${i + 2}.md`),
  ];
  for (const fileName of names) {
    try {
      const log = await openRunLog({
        dir: config.memoryDir,
        fileName,
        key,
        clock,
        logger,
        rotateBytes: config.runLogRotateBytes,
        lockRefreshMs: config.heartbeatIntervalMs,
      });
      if (fileName !== config.runLogFileName) {
        logger.warn(
          { runLog: fileName },
          `${config.runLogFileName} is held by another Helm process; this one writes ${fileName}`,
        );
      }
      return log;
    } catch (err) {
      if (!(err instanceof RunLogLockedError)) throw err;
    }
  }
  throw new StartupError([
    `every run-log file in ${config.memoryDir} is held by another live Helm process (${names.length} tried)`,
  ]);
}

/** A run log that cannot be written is critical (Helm refuses every change meanwhile); its return is resolved. */
export function alertOnRunLogHealth(runLog: RunLog, alerts: Pick<AlertSender, 'send'>): void {
  runLog.onHealthChange?.((status) => {
    void alerts.send(
      status.healthy
        ? {
            severity: 'info',
            kind: 'resolved',
            message: 'the run log is writable again',
            dedup_key: 'helm_degraded:run_log',
          }
        : {
            severity: 'critical',
            kind: 'helm_degraded',
            message: `Helm cannot write its run log (${status.reason}): it refuses every change until it can; reads go on`,
            dedup_key: 'helm_degraded:run_log',
          },
    );
  });
}
