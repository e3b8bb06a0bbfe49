/**
 * One entry as people read it in `helm log`. Pure. Values are escaped for the terminal too: a run-log
 * value must not move the cursor, recolour the screen or reorder the text around it.
 */
import type { RunLogEntry } from './entry.js';
import { escapeText } from '../contracts/escape-text.js';

export function formatEntryForPeople(entry: RunLogEntry & { file?: string }): string {
  const show = (value: string) => escapeText(value, 'terminal');
  const what = [entry.action, entry.target]
    .filter((v): v is string => v !== null)
    .map(show)
    .join(' ');
  const parts = [
    `${entry.at.replace('T', ' ')}`,
    `#${entry.seq}`,
    entry.event,
    what,
    entry.environment === null ? '' : `in ${show(entry.environment)}`,
    entry.job_id === null ? '' : `job ${show(entry.job_id)}`,
    entry.request_id === null ? '' : `req ${show(entry.request_id)}`,
    entry.approval_id === null ? '' : `approval ${show(entry.approval_id)}`,
    entry.code === null ? '' : `code ${show(entry.code)}`,
  ].filter((p) => p !== '');
  const from = entry.file === undefined ? '' : `[${show(entry.file)}] `;
  return `${from}${parts.join('  ')} — ${show(entry.message)}`;
}
