/**
 * Unsaved input survives a lost session: forms save what the user typed here (per tab, in
 * sessionStorage), and read it back after the user signs in again.
 */

const PREFIX = 'draft:';

export function saveDraft<T>(key: string, value: T): void {
  try {
    sessionStorage.setItem(PREFIX + key, JSON.stringify(value));
  } catch {
    // Storage full or disabled: losing a draft is better than breaking the form.
  }
}

export function loadDraft<T>(key: string): T | null {
  try {
    const raw = sessionStorage.getItem(PREFIX + key);
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null;
  }
}

export function clearDraft(key: string): void {
  try {
    sessionStorage.removeItem(PREFIX + key);
  } catch {
    // see saveDraft
  }
}
