import { renderHook } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { useShortcuts } from '../useShortcuts';

function press(key: string, init: KeyboardEventInit = {}, target: EventTarget = window): KeyboardEvent {
  const e = new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...init });
  target.dispatchEvent(e);
  return e;
}

describe('useShortcuts', () => {
  it('runs the action bound to a key and keeps the key from doing anything else', () => {
    const n = vi.fn();
    renderHook(() => useShortcuts({ n }));
    const e = press('n');
    expect(n).toHaveBeenCalledOnce();
    expect(e.defaultPrevented).toBe(true);
  });

  it('leaves unbound keys alone', () => {
    renderHook(() => useShortcuts({ n: vi.fn() }));
    expect(press('x').defaultPrevented).toBe(false);
  });

  it('does nothing while the user types in a field', () => {
    const n = vi.fn();
    renderHook(() => useShortcuts({ n }));
    const input = document.createElement('input');
    document.body.append(input);
    press('n', {}, input);
    input.remove();
    expect(n).not.toHaveBeenCalled();
  });

  it('does nothing with a modifier held, or for a key already handled', () => {
    const n = vi.fn();
    renderHook(() => useShortcuts({ n }));
    press('n', { ctrlKey: true });
    press('n', { metaKey: true });
    press('n', { altKey: true });
    const handled = new KeyboardEvent('keydown', { key: 'n', cancelable: true });
    handled.preventDefault();
    window.dispatchEvent(handled);
    expect(n).not.toHaveBeenCalled();
  });

  it('does nothing while a dialog is open', () => {
    const n = vi.fn();
    renderHook(() => useShortcuts({ n }));
    const dialog = document.createElement('dialog');
    dialog.setAttribute('open', '');
    document.body.append(dialog);
    press('n');
    dialog.remove();
    expect(n).not.toHaveBeenCalled();
    press('n');
    expect(n).toHaveBeenCalledOnce();
  });

  it('uses the bindings of the latest render, and stops listening when unmounted', () => {
    const first = vi.fn();
    const second = vi.fn();
    const { rerender, unmount } = renderHook(({ action }) => useShortcuts({ t: action }), { initialProps: { action: first } });
    rerender({ action: second });
    press('t');
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledOnce();
    unmount();
    press('t');
    expect(second).toHaveBeenCalledOnce();
  });
});
