import { act, render, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { fetchMe } from '@/features/auth/api';
import { TaskItem } from '@/features/tasks/components/TaskItem';
import { api } from '@/lib/api-client';
import { forgetOfflineData, rememberUser } from '@/lib/offline-data';
import { isOnline, onBackOnline } from '@/lib/online';
import type { User } from '@/lib/types';
import { stubFetch } from '@/test/fetch';
import { makeTask } from '@/test/tasks';
import { OfflineBanner } from '../OfflineBanner';

const BANNER = 'You’re offline — showing your lists as last loaded; changes are disabled.';
const user = { id: 'u1', email: 'sam@example.com', displayName: null } as unknown as User;

/** Cache Storage as the browser has it, in memory. */
function fakeCaches() {
  const stores = new Map<string, Map<string, Response>>();
  vi.stubGlobal('caches', {
    open: async (name: string) => {
      const store = stores.get(name) ?? new Map<string, Response>();
      stores.set(name, store);
      return { put: async (k: string, r: Response) => void store.set(k, r), match: async (k: string) => store.get(k)?.clone() };
    },
    delete: async (name: string) => stores.delete(name),
  });
  return stores;
}

function renderScreen() {
  render(
    <>
      <OfflineBanner />
      <ul>
        <TaskItem task={makeTask('t1', { title: 'Pay rent' })} now={new Date()} timeZone="UTC" onToggle={vi.fn()} onEdit={vi.fn()} onDelete={vi.fn()} onTag={vi.fn()} onDragStart={vi.fn()} />
      </ul>
    </>,
  );
}

describe('the offline shell', () => {
  it('turns read-only with a banner when an answer comes from the worker’s cache, and back when the server answers', async () => {
    let offline = true;
    stubFetch(() => ({ status: 200, body: { items: [] }, headers: offline ? { 'x-served-offline': '1' } : ({} as Record<string, string>) }));
    renderScreen();
    await act(() => api('/tasks'));
    expect(screen.getByRole('status')).toHaveTextContent(BANNER);
    expect(screen.getByRole('checkbox', { name: 'Mark “Pay rent” as done' })).toBeDisabled();
    expect(screen.getByRole('button', { name: 'Edit “Pay rent”' })).toBeDisabled();
    expect(screen.getByRole('button', { name: 'Delete “Pay rent”' })).toBeDisabled();
    expect(document.querySelector('li.task')).not.toHaveAttribute('draggable');
    offline = false;
    await act(() => api('/tasks'));
    expect(screen.getByRole('status')).toBeEmptyDOMElement();
    expect(screen.getByRole('checkbox', { name: 'Mark “Pay rent” as done' })).toBeEnabled();
    expect(document.querySelector('li.task')).toHaveAttribute('draggable', 'true');
  });

  it('goes offline on a network failure and calls back once the browser is online again', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    const back = vi.fn();
    const stop = onBackOnline(back);
    await expect(api('/tasks')).rejects.toMatchObject({ code: 'network' });
    expect(isOnline()).toBe(false);
    expect(back).not.toHaveBeenCalled();
    window.dispatchEvent(new Event('online'));
    expect(isOnline()).toBe(true);
    expect(back).toHaveBeenCalledOnce();
    stop();
  });

  it('opens as the user last signed in on this device when the server cannot be reached, until their data is forgotten', async () => {
    fakeCaches();
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    await expect(fetchMe()).rejects.toMatchObject({ code: 'network' });
    await rememberUser(user);
    expect(await fetchMe()).toEqual(user);
    await forgetOfflineData();
    await expect(fetchMe()).rejects.toMatchObject({ code: 'network' });
    window.dispatchEvent(new Event('online'));
  });
});
