/**
 * Single-key shortcuts on the whole page (listed in the shortcuts dialog). A key does nothing
 * while the user types in a field, holds a modifier, or has a dialog open, or when something
 * else already handled it.
 */
import { useEffect, useRef } from 'react';
import { isTypingTarget } from '@/components/shortcuts';

/** `bindings` maps `KeyboardEvent.key` to its action; the latest ones are used. */
export function useShortcuts(bindings: Record<string, () => void>) {
  const latest = useRef(bindings);
  useEffect(() => {
    latest.current = bindings;
  });

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || isTypingTarget(e.target)) return;
      if (document.querySelector('dialog[open]')) return;
      const action = latest.current[e.key];
      if (action) {
        e.preventDefault();
        action();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
