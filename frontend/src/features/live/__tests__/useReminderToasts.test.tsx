import { act, renderHook, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { ToastProvider } from '@/components/toasts';
import { formatDue } from '@/lib/dates';
import { useReminderToasts } from '../useReminderToasts';

const wrapper = ({ children }: { children: ReactNode }) => <ToastProvider>{children}</ToastProvider>;
const DUE = '2030-05-06T10:00:00Z';

/** A stand-in for the browser's Notification API with the given permission. */
function stubNotifications(permission: NotificationPermission, construct: (title: string, options?: NotificationOptions) => void = () => {}) {
  const created = vi.fn(construct);
  const requestPermission = vi.fn(async () => permission);
  vi.stubGlobal(
    'Notification',
    class {
      static permission = permission;
      static requestPermission = requestPermission;
      constructor(title: string, options?: NotificationOptions) {
        created(title, options);
      }
    },
  );
  return { created, requestPermission };
}

function remind(data: { taskId: string; title: string; dueAt: string | null }) {
  const { result } = renderHook(() => useReminderToasts('UTC'), { wrapper });
  act(() => result.current(data));
}

describe('useReminderToasts', () => {
  it('shows the reminder with its due time until closed, in a browser without notifications', () => {
    vi.stubGlobal('Notification', undefined);
    vi.useFakeTimers();
    try {
      remind({ taskId: 't1', title: 'Pay rent', dueAt: DUE });
      act(() => vi.advanceTimersByTime(60_000));
    } finally {
      vi.useRealTimers();
    }
    expect(screen.getByText(`Reminder: Pay rent — due ${formatDue(DUE, new Date(), 'UTC')}`)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Notify me outside the app' })).toBeNull();
  });

  it('offers to notify outside the app when the browser has not been asked yet', async () => {
    const { created, requestPermission } = stubNotifications('default');
    remind({ taskId: 't1', title: 'Pay rent', dueAt: null });
    expect(screen.getByText('Reminder: Pay rent')).toBeInTheDocument();
    expect(created).not.toHaveBeenCalled();
    await userEvent.click(screen.getByRole('button', { name: 'Notify me outside the app' }));
    expect(requestPermission).toHaveBeenCalledOnce();
  });

  it('also notifies through the browser once allowed', () => {
    const { created } = stubNotifications('granted');
    remind({ taskId: 't1', title: 'Pay rent', dueAt: DUE });
    expect(created).toHaveBeenCalledWith('Reminder: Pay rent', { body: `due ${formatDue(DUE, new Date(), 'UTC')}`, tag: 'reminder-t1' });
    expect(screen.queryByRole('button', { name: 'Notify me outside the app' })).toBeNull();
  });

  it('keeps the toast when the browser refuses to show a notification', () => {
    stubNotifications('granted', () => {
      throw new TypeError('Illegal constructor');
    });
    remind({ taskId: 't1', title: 'Pay rent', dueAt: null });
    expect(screen.getByText('Reminder: Pay rent')).toBeInTheDocument();
  });
});
