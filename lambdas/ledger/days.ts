/** UTC days (yyyy-mm-dd), the partition of the by-day index and the unit of sealing. */

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/** True for a real calendar day written yyyy-mm-dd (2026-02-30 is not one). */
export function isDay(value: string): boolean {
  if (!DAY_PATTERN.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

/** The day as given, or an error naming the option. */
export function parseDay(value: string, what = 'day'): string {
  if (!isDay(value)) throw new RangeError(`${what}: expected a UTC day as YYYY-MM-DD, got ${JSON.stringify(value)}`);
  return value;
}

export function dayOf(time: Date): string {
  return time.toISOString().slice(0, 10);
}

export function addDays(day: string, count: number): string {
  return dayOf(new Date(Date.parse(`${day}T00:00:00Z`) + count * DAY_MS));
}

/** The instant a day ends (the next day's midnight, UTC). */
export function dayEnd(day: string): Date {
  return new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS);
}

/** Every day from `from` to `to`, both included, in order (nothing when from > to). */
export function* daysBetween(from: string, to: string): Generator<string> {
  for (let day = from; day <= to; day = addDays(day, 1)) yield day;
}

export function dayCount(from: string, to: string): number {
  return from > to ? 0 : Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1;
}
