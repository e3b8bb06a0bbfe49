// Times on the bus are RFC 3339 in UTC with an upper-case `Z` and 0–9 fractional digits. Date.parse is
// too forgiving (it accepts offsets, rolls Feb 30 over into March, and varies on long fractions), so the
// format is checked here by hand and the calendar is checked field by field.

export const RFC3339_UTC_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Milliseconds since the epoch for a valid RFC 3339 UTC time, or null. Digits beyond the millisecond
 * are dropped (rounding down), so a deadline compared against it can only close early, never late.
 * A leap second (`:60`) is refused: no clock Helm compares against can represent it.
 */
export function parseRfc3339Utc(s: string): number | null {
  const m = RFC3339_UTC_PATTERN.exec(s);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12) return null;
  if (day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const millis = m[7] ? Number(m[7].padEnd(3, '0').slice(0, 3)) : 0;
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 onto 1900–1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  return date.getTime();
}

export function isRfc3339Utc(s: string): boolean {
  return parseRfc3339Utc(s) !== null;
}

/** The RFC 3339 UTC form Helm writes: millisecond precision, `Z`. */
export function formatRfc3339Utc(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
