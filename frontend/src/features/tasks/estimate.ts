/** How a task's effort estimate (whole minutes, 1–1440 as the API takes them) reads. */

export const MAX_ESTIMATE_MINUTES = 1440;

/** The choices the editor offers in one click; any other number can be typed. */
export const QUICK_ESTIMATES = [15, 30, 45, 60, 90, 120] as const;

/** Compact, for task rows and buttons: "45 min", "1 h", "1 h 30". */
export function formatEstimate(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return `${m} min`;
  return m === 0 ? `${h} h` : `${h} h ${String(m).padStart(2, '0')}`;
}

/** In words, for screen readers: "1 hour 30 minutes". */
export function describeEstimate(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  const parts = [];
  if (h) parts.push(`${h} hour${h === 1 ? '' : 's'}`);
  if (m || !h) parts.push(`${m} minute${m === 1 ? '' : 's'}`);
  return parts.join(' ');
}
