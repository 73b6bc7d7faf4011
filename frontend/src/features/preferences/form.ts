/**
 * The preferences form: its values, the checks made before sending (the limits the API
 * enforces, so a wrong range is caught without a round trip) and the PATCH body. Errors are
 * keyed by the API's field names, so the server's field messages land on the same controls.
 */
import { WEEKDAYS, type Preferences, type PreferencesPatch, type Weekday } from '@/lib/types';

/** As the API sends them, except the plan size: a number input's text, which may be empty. */
export type PreferencesForm = Omit<Preferences, 'dailyPlanSize'> & { dailyPlanSize: string };

export type PreferencesErrors = Partial<Record<keyof Preferences, string>>;

export const MAX_PLAN_SIZE = 20;

export function formFromPreferences(p: Preferences): PreferencesForm {
  return { ...p, dailyPlanSize: String(p.dailyPlanSize) };
}

/** `days` with `day` turned on or off, kept Monday first as the API returns them. */
export function toggleDay(days: readonly Weekday[], day: Weekday, on: boolean): Weekday[] {
  return WEEKDAYS.filter((d) => (d === day ? on : days.includes(d)));
}

export function validatePreferences(v: PreferencesForm): PreferencesErrors {
  const e: PreferencesErrors = {};
  if (!v.workStart) e.workStart = 'Enter when the working day starts.';
  if (!v.workEnd) e.workEnd = 'Enter when the working day ends.';
  // `HH:MM` strings compare in clock order.
  else if (v.workStart && v.workEnd <= v.workStart) e.workEnd = 'The working day must end after it starts.';
  const size = Number(v.dailyPlanSize);
  if (v.dailyPlanSize.trim() === '' || !Number.isInteger(size) || size < 0 || size > MAX_PLAN_SIZE) {
    e.dailyPlanSize = `Enter a number from 0 to ${MAX_PLAN_SIZE}.`;
  }
  return e;
}

/** Only what changed, so saving never overwrites a setting changed on another device. */
export function preferencesPatch(before: Preferences, v: PreferencesForm): PreferencesPatch {
  const now: Preferences = { ...v, dailyPlanSize: Number(v.dailyPlanSize) };
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(now) as (keyof Preferences)[]) {
    // Compared as JSON: the working days are a list.
    if (JSON.stringify(now[k]) !== JSON.stringify(before[k])) out[k] = now[k];
  }
  return out as PreferencesPatch;
}
