/** Due dates of new tasks: a few one-tap presets and a typed `YYYY-MM-DD HH:MM` in local time. */

export type DuePreset = 'inHour' | 'tomorrowMorning' | 'tomorrowAfternoon';
export const DUE_PRESETS: readonly DuePreset[] = ['inHour', 'tomorrowMorning', 'tomorrowAfternoon'];

const pad = (value: number) => String(value).padStart(2, '0');

/** How a due date is typed and shown in the field: local time, minutes. */
export function formatDueInput(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function presetDue(preset: DuePreset, now: Date): Date {
  if (preset === 'inHour') {
    const due = new Date(now.getTime() + 60 * 60 * 1000);
    due.setSeconds(0, 0);
    return due;
  }
  const due = new Date(now);
  due.setDate(due.getDate() + 1);
  due.setHours(preset === 'tomorrowMorning' ? 10 : 15, 0, 0, 0);
  return due;
}

/** A minute of slack, so a preset picked just before the minute turns still counts. */
const PAST_TOLERANCE_MS = 60 * 1000;

/** The typed due date, or null when it is not a real local date and time or already past. */
export function parseDueInput(text: string, now: Date): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})$/.exec(text.trim());
  if (!match) return null;
  const [year, month, day, hour, minute] = match.slice(1).map(Number) as [number, number, number, number, number];
  const date = new Date(year, month - 1, day, hour, minute);
  // Date rolls 2026-02-30 over into March; a real date comes back unchanged.
  const real =
    date.getFullYear() === year &&
    date.getMonth() === month - 1 &&
    date.getDate() === day &&
    date.getHours() === hour &&
    date.getMinutes() === minute;
  if (!real || date.getTime() < now.getTime() - PAST_TOLERANCE_MS) return null;
  return date;
}
