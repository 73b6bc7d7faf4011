import { act, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ToastProvider, useToasts } from '../toasts';

function Trigger({ onUndo }: { onUndo: () => void }) {
  const t = useToasts();
  return (
    <>
      <button onClick={() => t.show({ tone: 'info', message: 'Deleted “x”.', action: { label: 'Undo', onClick: onUndo } })}>info</button>
      <button onClick={() => t.show({ tone: 'error', message: 'Could not save.' })}>error</button>
    </>
  );
}

describe('toasts', () => {
  it('announces messages politely and errors assertively, and runs the action', async () => {
    const onUndo = vi.fn();
    render(
      <ToastProvider>
        <Trigger onUndo={onUndo} />
      </ToastProvider>,
    );
    await userEvent.click(screen.getByText('info'));
    await userEvent.click(screen.getByText('error'));
    expect(screen.getByRole('status')).toHaveTextContent('Deleted “x”.');
    expect(screen.getByRole('alert')).toHaveTextContent('Could not save.');
    await userEvent.click(screen.getByRole('button', { name: 'Undo' }));
    expect(onUndo).toHaveBeenCalledTimes(1);
    expect(screen.getByRole('status')).not.toHaveTextContent('Deleted');
  });

  it('goes away by itself', () => {
    vi.useFakeTimers();
    try {
      render(
        <ToastProvider>
          <Trigger onUndo={() => undefined} />
        </ToastProvider>,
      );
      act(() => screen.getByText('info').click());
      expect(screen.getByRole('status')).toHaveTextContent('Deleted');
      act(() => vi.advanceTimersByTime(5100));
      expect(screen.getByRole('status')).toBeEmptyDOMElement();
    } finally {
      vi.useRealTimers();
    }
  });
});
