import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { KindFeedback } from '@/lib/types';
import { stubFetch } from '@/test/fetch';
import { feedbackStatus } from '../api';
import { AssistantFeedbackSection } from '../components/AssistantFeedbackSection';

const quiet = (kind: string): KindFeedback => ({ kind, dismissedInARow: 0, pausedUntil: null, accepted: 0, dismissed: 0 });
const pausedPriority: KindFeedback = { kind: 'priority', dismissedInARow: 4, pausedUntil: '2026-12-10T09:00:00Z', accepted: 1, dismissed: 6 };

function renderSection(onSaved: (m: string) => void = () => {}) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <AssistantFeedbackSection timeZone="Europe/Paris" onSaved={onSaved} />
    </QueryClientProvider>,
  );
}

describe('AssistantFeedbackSection', () => {
  it('names each kind, says until when a paused one waits, and resumes it', async () => {
    const calls = stubFetch((req) =>
      req.method === 'DELETE'
        ? { status: 200, body: { ...pausedPriority, dismissedInARow: 0, pausedUntil: null } }
        : { status: 200, body: { items: [quiet('overdue'), pausedPriority, quiet('stale')] } },
    );
    const saved: string[] = [];
    renderSection((m) => saved.push(m));
    const list = await screen.findByRole('list', { name: 'Kinds of advice' });
    const items = within(list).getAllByRole('listitem');
    expect(items.map((i) => i.textContent?.split(':')[0])).toEqual(['Overdue warnings', 'Priority advice', '“Still relevant?” questions']);
    expect(items[1]).toHaveTextContent('Paused until Thu 10 Dec after 4 dismissals in a row');
    expect(items[1]).toHaveTextContent('accepted 1, dismissed 6');
    expect(within(items[0]).queryByRole('button')).not.toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: 'Resume Priority advice' }));
    await expect.poll(() => saved).toEqual(['Priority advice resumed.']);
    expect(calls.at(-1)).toMatchObject({ method: 'DELETE', url: '/api/v1/assistant/feedback/priority' });
    expect(await screen.findByText(/Priority advice/)).toBeInTheDocument();
    await expect.poll(() => screen.queryByRole('button', { name: 'Resume Priority advice' })).toBeNull();
    expect(within(screen.getByRole('list')).getAllByRole('listitem')[1]).toHaveTextContent('Active');
  });

  it('words the state of a kind in the user’s time zone', () => {
    expect(feedbackStatus({ ...pausedPriority, pausedUntil: '2026-12-09T23:30:00Z', dismissedInARow: 3 }, 'Europe/Paris')).toBe(
      'Paused until Thu 10 Dec after 3 dismissals in a row',
    );
    expect(feedbackStatus({ ...quiet('stale'), dismissedInARow: 1 }, 'UTC')).toBe('Active; 1 dismissal in a row (3 pause it)');
    expect(feedbackStatus(quiet('stale'), 'UTC')).toBe('Active');
  });
});
