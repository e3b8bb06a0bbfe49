/** The words of an operation's outcome: counts, durations, a health check's detail. */

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "1.2 s" */
export function secondsText(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** "HTTP 200 in 3 ms" → "HTTP 200": a one-line outcome does not need the probe's own time. */
export function healthWords(detail: string): string {
  return detail.replace(/ in [0-9]+ ms$/, '');
}
