import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { fireEvent, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { Suggestion, SuggestionItem, SuggestionList } from '@/lib/types';
import { type Recorded, stubFetch } from '@/test/fetch';
import { SuggestionsPanel } from '../components/SuggestionsPanel';

const NOW = new Date('2026-12-07T10:00:00Z');
const ZONE = 'Europe/Berlin';

const suggestion = (id: string, over: Partial<Suggestion>): Suggestion => ({
  id,
  kind: 'schedule_adjustment',
  status: 'open',
  title: id,
  message: '',
  reason: null,
  explanation: null,
  taskId: null,
  proposedChange: null,
  items: [],
  createdAt: '2026-12-07T09:00:00Z',
  expiresAt: '2026-12-14T00:00:00Z',
  resolvedAt: null,
  ...over,
});

const item = (taskId: string, over: Partial<SuggestionItem> = {}): SuggestionItem => ({
  taskId,
  taskTitle: taskId,
  proposedChange: { dueAt: '2026-12-08T08:00:00Z' },
  reason: `${taskId} is late`,
  status: 'open',
  estimateMinutes: null,
  ...over,
});

const single = suggestion('s1', {
  title: 'Move “Report” to Wednesday',
  message: 'Report is two days overdue.',
  reason: 'Two days late; Wednesday has the fewest tasks',
  taskId: 't1',
  proposedChange: { dueAt: '2026-12-09T09:00:00Z' },
});
const grouped = suggestion('s2', {
  title: 'Spread 2 overdue tasks over the next 2 days',
  message: 'Two tasks are overdue.',
  reason: 'Both are more than a day late',
  items: [item('Alpha'), item('Beta', { proposedChange: { dueAt: '2026-12-09T08:00:00Z' } })],
});
const plan = suggestion('s3', {
  kind: 'daily_plan',
  title: 'Your plan for Mon 7 Dec',
  message: 'Three tasks fit today.',
  reason: 'Picked by priority and due date',
  items: [
    item('Inbox zero', { proposedChange: {}, estimateMinutes: 30, reason: 'Due today' }),
    item('Write tests', { proposedChange: { dueAt: '2026-12-07T15:00:00Z' }, estimateMinutes: 90, reason: 'Urgent' }),
  ],
});
const warning = suggestion('s4', { kind: 'priority', title: 'Raise “Taxes”', message: 'Due soon.', reason: 'Due in 2 days and low priority', taskId: 't4', proposedChange: { priority: 'high' } });

/**
 * A stand-in server holding the suggestions: answers change it the way the API does, and
 * `refuse` makes the next answer fail.
 */
function serve(initial: Suggestion[]) {
  const state = { items: structuredClone(initial), refuse: false };
  const calls = stubFetch((req: Recorded) => {
    if (req.method === 'GET') {
      const open = state.items.filter((s) => s.status === 'open');
      const openCounts: Record<string, number> = {};
      for (const s of open) openCounts[s.kind] = (openCounts[s.kind] ?? 0) + 1;
      return { status: 200, body: { items: open, openCounts } satisfies SuggestionList };
    }
    if (state.refuse) return { status: 409, body: { code: 'suggestion_resolved', detail: 'this suggestion is already dismissed' } };
    const [, , , , id, ...rest] = req.url.split('/');
    const s = state.items.find((x) => x.id === id)!;
    if (rest[0] === 'items') {
      const it = s.items.find((i) => i.taskId === decodeURIComponent(rest[1]!))!;
      it.status = rest[2] === 'accept' ? 'accepted' : 'skipped';
      if (s.items.every((i) => i.status !== 'open')) s.status = s.items.some((i) => i.status === 'accepted') ? 'accepted' : 'dismissed';
    } else {
      s.status = rest[0] === 'accept' ? 'accepted' : 'dismissed';
      for (const i of s.items) if (i.status === 'open') i.status = rest[0] === 'accept' ? 'accepted' : 'skipped';
    }
    return { status: 200, body: s };
  });
  return { state, calls, posts: () => calls.filter((c) => c.method === 'POST') };
}

function renderPanel() {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  const done: string[] = [];
  const errors: string[] = [];
  const opened: string[] = [];
  render(
    <QueryClientProvider client={qc}>
      <SuggestionsPanel
        agentsEnabled
        onDone={(m) => done.push(m)}
        onError={(m) => errors.push(m)}
        onOpenTask={(id) => opened.push(id)}
        now={NOW}
        timeZone={ZONE}
      />
    </QueryClientProvider>,
  );
  return { qc, done, errors, opened };
}

const card = (title: string) => screen.getByText(title).closest('li')!;

describe('SuggestionsPanel', () => {
  it('says why under every suggestion, and a reschedule names its new day in the user’s zone', async () => {
    serve([single, warning, grouped, plan]);
    renderPanel();
    expect(await screen.findByText('Two days late; Wednesday has the fewest tasks')).toHaveClass('sg-reason');
    expect(screen.getByText('Due in 2 days and low priority')).toHaveClass('sg-reason');
    expect(screen.getByText('Both are more than a day late')).toBeInTheDocument();
    expect(screen.getByText('Picked by priority and due date')).toBeInTheDocument();
    // 09:00 UTC is 10:00 in Berlin.
    expect(within(card(single.title)).getByText('Wed 9 Dec 10:00')).toHaveAttribute('datetime', '2026-12-09T09:00:00Z');
  });

  it('shows the model’s sentence when there is one, with the facts it was written from', async () => {
    const explained = suggestion('s5', {
      kind: 'priority',
      title: 'Raise “Rent”',
      reason: 'Due in 20 h, low priority',
      explanation: 'It is due in 20 h and still marked low, so raise it.',
    });
    serve([explained, warning]);
    renderPanel();
    const sentence = await screen.findByText('It is due in 20 h and still marked low, so raise it.');
    expect(sentence).toHaveClass('sg-reason');
    expect(sentence).toHaveAttribute('title', 'From: Due in 20 h, low priority');
    expect(screen.queryByText('Due in 20 h, low priority')).toBeNull();
    expect(screen.getByText('Due in 2 days and low priority')).toHaveClass('sg-reason');
  });

  it('accepts a reschedule as proposed', async () => {
    const { posts } = serve([single]);
    const { done } = renderPanel();
    await userEvent.click(await screen.findByRole('button', { name: `Accept: ${single.title}` }));
    expect(posts()).toMatchObject([{ url: '/api/v1/suggestions/s1/accept', body: undefined }]);
    await expect.poll(() => done).toEqual(['Moved to Wed 9 Dec 10:00.']);
    await expect.poll(() => screen.queryByText(single.title)).toBeNull();
  });

  it('accepts a reschedule for another day picked in the user’s zone', async () => {
    const { posts } = serve([single]);
    const { done } = renderPanel();
    await userEvent.click(await screen.findByRole('button', { name: `Pick another day: ${single.title}` }));
    const day = screen.getByLabelText(`New day for ${single.title}`);
    const time = screen.getByLabelText(`Time for ${single.title}`);
    expect(day).toHaveValue('2026-12-09');
    expect(time).toHaveValue('10:00');
    fireEvent.change(day, { target: { value: '2026-12-11' } });
    fireEvent.change(time, { target: { value: '14:30' } });
    await userEvent.click(screen.getByRole('button', { name: `Move ${single.title}` }));
    expect(posts()).toMatchObject([{ url: '/api/v1/suggestions/s1/accept', body: { dueAt: '2026-12-11T14:30:00+01:00' } }]);
    await expect.poll(() => done).toEqual(['Moved to Fri 11 Dec 14:30.']);
  });

  it('cancels picking a day without sending anything', async () => {
    const { posts } = serve([single]);
    renderPanel();
    await userEvent.click(await screen.findByRole('button', { name: `Pick another day: ${single.title}` }));
    await userEvent.click(screen.getByRole('button', { name: `Cancel: ${single.title}` }));
    expect(screen.queryByLabelText(`New day for ${single.title}`)).toBeNull();
    expect(screen.getByRole('button', { name: `Accept: ${single.title}` })).toBeInTheDocument();
    expect(posts()).toHaveLength(0);
  });

  it('puts a suggestion back and says why when the server refuses the answer', async () => {
    const { state } = serve([single]);
    state.refuse = true;
    const { errors, done } = renderPanel();
    await userEvent.click(await screen.findByRole('button', { name: `Dismiss: ${single.title}` }));
    await expect.poll(() => errors).toEqual(['This suggestion is already dismissed.']);
    expect(screen.getByText(single.title)).toBeInTheDocument();
    expect(done).toEqual([]);
  });

  it('answers the tasks of a grouped reschedule one by one, and the last answer closes it', async () => {
    const { posts } = serve([grouped]);
    renderPanel();
    const alpha = await screen.findByRole('button', { name: 'Accept: Alpha' });
    expect(within(card('Alpha')).getByText('Tomorrow 09:00')).toBeInTheDocument();
    expect(within(card('Beta')).getByText('Beta is late')).toBeInTheDocument();
    await userEvent.click(alpha);
    expect(posts()).toMatchObject([{ url: '/api/v1/suggestions/s2/items/Alpha/accept', body: undefined }]);
    expect(within(card('Alpha')).getByText('Moved')).toBeInTheDocument();
    expect(await screen.findByRole('status')).toHaveTextContent('“Alpha” moved to Tomorrow 09:00.');
    expect(screen.queryByRole('button', { name: 'Accept: Alpha' })).toBeNull();

    await userEvent.click(screen.getByRole('button', { name: 'Skip: Beta' }));
    expect(posts()[1]).toMatchObject({ url: '/api/v1/suggestions/s2/items/Beta/skip' });
    await expect.poll(() => screen.queryByText(grouped.title)).toBeNull();
    expect(screen.getByRole('status')).toHaveTextContent('“Beta” skipped.');
  });

  it('moves one task of a group to another day', async () => {
    const { posts } = serve([grouped]);
    renderPanel();
    await userEvent.click(await screen.findByRole('button', { name: 'Pick another day: Beta' }));
    fireEvent.change(screen.getByLabelText('New day for Beta'), { target: { value: '2026-12-15' } });
    await userEvent.click(screen.getByRole('button', { name: 'Move Beta' }));
    expect(posts()).toMatchObject([{ url: '/api/v1/suggestions/s2/items/Beta/accept', body: { dueAt: '2026-12-15T09:00:00+01:00' } }]);
    await expect.poll(() => screen.getByRole('status').textContent).toBe('“Beta” moved to 15 Dec 09:00.');
  });

  it('accepts or dismisses a whole group', async () => {
    const { posts } = serve([grouped, { ...grouped, id: 's5', title: 'Another group' }]);
    const { done } = renderPanel();
    await userEvent.click(await screen.findByRole('button', { name: `Accept all: ${grouped.title}` }));
    await userEvent.click(screen.getByRole('button', { name: 'Dismiss: Another group' }));
    expect(posts()).toMatchObject([{ url: '/api/v1/suggestions/s2/accept' }, { url: '/api/v1/suggestions/s5/dismiss' }]);
    await expect.poll(() => done).toEqual(['Tasks moved.', 'Suggestion dismissed.']);
  });

  it('rolls an item answer back when the server refuses it', async () => {
    const { state } = serve([grouped]);
    state.refuse = true;
    const { errors } = renderPanel();
    await userEvent.click(await screen.findByRole('button', { name: 'Skip: Alpha' }));
    await expect.poll(() => errors).toHaveLength(1);
    expect(screen.getByRole('button', { name: 'Skip: Alpha' })).toBeInTheDocument();
    expect(within(card('Alpha')).queryByText('Skipped')).toBeNull();
  });

  it('shows a daily plan with its total estimate, and accepted tasks as planned', async () => {
    const { posts } = serve([plan]);
    const { done } = renderPanel();
    expect(await screen.findByText('About 2 h in all')).toBeInTheDocument();
    expect(within(card('Inbox zero')).getByText('Due today already')).toBeInTheDocument();
    expect(within(card('Write tests')).getByText('Today 16:00')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Pick another day: Inbox zero' })).toBeNull();
    await userEvent.click(screen.getByRole('button', { name: 'Accept: Inbox zero' }));
    expect(within(card('Inbox zero')).getByText('Planned')).toBeInTheDocument();
    expect(await screen.findByRole('status')).toHaveTextContent('“Inbox zero” planned.');
    await userEvent.click(screen.getByRole('button', { name: `Accept all: ${plan.title}` }));
    expect(posts().map((p) => p.url)).toEqual(['/api/v1/suggestions/s3/items/Inbox zero/accept', '/api/v1/suggestions/s3/accept']);
    await expect.poll(() => done).toEqual(['Plan accepted.']);
  });

  it('keeps Got it and Open task for suggestions without a new day', async () => {
    serve([warning, suggestion('s6', { kind: 'stale', title: 'Still relevant?', taskId: 't6' })]);
    const { opened } = renderPanel();
    expect(await screen.findByRole('button', { name: `Accept: ${warning.title}` })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Got it: Still relevant?' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Pick another day/ })).toBeNull();
    await userEvent.click(screen.getByRole('button', { name: `Open the task: ${warning.title}` }));
    expect(opened).toEqual(['t4']);
  });
});
