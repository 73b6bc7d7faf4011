import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { stubFetch } from '@/test/fetch';
import { subscribeUrls } from '../api';
import { CalendarFeedSection } from '../components/CalendarFeedSection';

const OFF = { enabled: false, url: null, createdAt: null };
const on = (token: string) => ({ enabled: true, url: `/api/v1/calendar/${token}.ics`, createdAt: '2026-12-07T10:00:00Z' });

function renderSection(onSaved: (m: string) => void = () => {}) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <CalendarFeedSection onSaved={onSaved} />
    </QueryClientProvider>,
  );
}

describe('CalendarFeedSection', () => {
  it('turns the feed on and shows the subscribe URL on this origin', async () => {
    const calls = stubFetch((req) => (req.method === 'POST' ? { status: 200, body: on('tok1') } : { status: 200, body: OFF }));
    const saved: string[] = [];
    renderSection((m) => saved.push(m));
    await userEvent.click(await screen.findByRole('button', { name: 'Turn on calendar feed' }));
    const input = await screen.findByLabelText('Subscribe URL');
    expect(input).toHaveValue(`${window.location.origin}/api/v1/calendar/tok1.ics`);
    expect(input).toHaveAttribute('readonly');
    expect(screen.getByRole('link', { name: 'Open in calendar app' })).toHaveAttribute('href', `webcal://${window.location.host}/api/v1/calendar/tok1.ics`);
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual(['GET /api/v1/calendar/feed', 'POST /api/v1/calendar/feed']);
    expect(saved).toEqual(['Calendar feed turned on.']);
  });

  it('resets the link only after confirming, and shows the new one', async () => {
    const calls = stubFetch((req) => (req.method === 'POST' ? { status: 200, body: on('new') } : { status: 200, body: on('old') }));
    renderSection();
    await userEvent.click(await screen.findByRole('button', { name: 'Reset link…' }));
    const dialog = screen.getByRole('dialog', { name: 'Reset the calendar link?' });
    expect(dialog).toHaveTextContent('The current link stops working at once');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0);
    await userEvent.click(screen.getByRole('button', { name: 'Reset link…' }));
    await userEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Reset link' }));
    await expect.poll(() => (screen.getByLabelText('Subscribe URL') as HTMLInputElement).value).toContain('/api/v1/calendar/new.ics');
  });

  it('turns the feed off after confirming', async () => {
    const calls = stubFetch((req) => (req.method === 'DELETE' ? { status: 204 } : { status: 200, body: on('tok') }));
    renderSection();
    await userEvent.click(await screen.findByRole('button', { name: 'Turn off…' }));
    await userEvent.click(within(screen.getByRole('dialog', { name: 'Turn off the calendar feed?' })).getByRole('button', { name: 'Turn off' }));
    expect(await screen.findByRole('button', { name: 'Turn on calendar feed' })).toBeInTheDocument();
    expect(screen.queryByLabelText('Subscribe URL')).not.toBeInTheDocument();
    expect(calls.at(-1)).toMatchObject({ method: 'DELETE', url: '/api/v1/calendar/feed' });
  });

  it('builds https and webcal addresses from the page origin', () => {
    expect(subscribeUrls('/api/v1/calendar/t.ics', { origin: 'https://todo.example.com', host: 'todo.example.com' })).toEqual({
      https: 'https://todo.example.com/api/v1/calendar/t.ics',
      webcal: 'webcal://todo.example.com/api/v1/calendar/t.ics',
    });
  });
});
