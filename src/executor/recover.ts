// Crash recovery lives in ./recovery/ (recover-interrupted-operation.ts explains it). This file only
// keeps run-exec-job.ts's import line working while another change rewrites that file; it goes once
// run-exec-job.ts imports from ./recovery/ directly.
export type { ExecRecovery } from './recovery/recover-interrupted-operation.js';
export { recoverExecJob } from './recovery/recover-exec-job.js';
export { findIntent } from './recovery/run-recovery.js';
