import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { stubFetch } from '@/test/fetch';
import { ChatPanel } from '../components/ChatPanel';

function renderChat() {
  render(
    <QueryClientProvider client={new QueryClient()}>
      <ChatPanel onClose={() => undefined} />
    </QueryClientProvider>,
  );
}

describe('ChatPanel', () => {
  it('says the assistant is unavailable when the server has no chat', async () => {
    stubFetch(() => ({ status: 404, body: { code: 'not_found', detail: 'not found' } }));
    renderChat();
    expect(await screen.findByText(/assistant is not available on this server/)).toBeInTheDocument();
  });

  it('asks for confirmation with Yes/No buttons that answer in the same conversation', async () => {
    const calls = stubFetch((req) => {
      if (req.url === '/api/v1/ai/conversations') return { status: 200, body: { items: [] } };
      const msg = (req.body as { message: string }).message;
      return msg === 'delete the report task'
        ? { status: 200, body: { conversationId: 'c1', reply: 'Delete “Submit report”?', actions: [], awaitingConfirmation: true } }
        : { status: 200, body: { conversationId: 'c1', reply: 'Deleted “Submit report”.', actions: [{ kind: 'deleted', tasks: [{ id: 't', title: 'Submit report' }] }], awaitingConfirmation: false } };
    });
    renderChat();
    await userEvent.type(screen.getByLabelText('Message the assistant'), 'delete the report task{Enter}');
    expect(await screen.findByText('Delete “Submit report”?')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Yes' }));
    expect(await screen.findByText('Deleted: Submit report')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Yes' })).not.toBeInTheDocument();
    const posts = calls.filter((c) => c.method === 'POST');
    expect(posts.map((c) => c.body)).toEqual([{ message: 'delete the report task' }, { message: 'yes', conversationId: 'c1' }]);
  });

  it('sends each message with its own idempotency key and keeps it when the message is sent again', async () => {
    let attempt = 0;
    const calls = stubFetch((req) => {
      if (req.url === '/api/v1/ai/conversations') return { status: 200, body: { items: [] } };
      attempt += 1;
      return attempt === 1
        ? { status: 504, body: { code: 'assistant_timeout', status: 504, detail: 'the assistant did not answer in time' } }
        : { status: 200, body: { conversationId: 'c1', reply: `Reply ${attempt}`, actions: [], awaitingConfirmation: false } };
    });
    renderChat();
    const box = screen.getByLabelText('Message the assistant');
    await userEvent.type(box, 'add pay rent{Enter}');
    expect(await screen.findByText(/did not answer in time/)).toBeInTheDocument();
    expect(box).toHaveValue('add pay rent');
    await userEvent.type(box, '{Enter}');
    expect(await screen.findByText('Reply 2')).toBeInTheDocument();
    await userEvent.type(box, 'add pay rent{Enter}');
    expect(await screen.findByText('Reply 3')).toBeInTheDocument();
    const keys = calls.filter((c) => c.method === 'POST').map((c) => c.headers['idempotency-key']);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
  });

  it('continues the latest conversation', async () => {
    stubFetch((req) =>
      req.url === '/api/v1/ai/conversations'
        ? { status: 200, body: { items: [{ id: 'old', title: 'a', awaitingConfirmation: false, updatedAt: '2026-11-01T00:00:00Z' }, { id: 'new', title: 'b', awaitingConfirmation: false, updatedAt: '2026-11-28T00:00:00Z' }] } }
        : { status: 200, body: { id: 'new', title: 'b', awaitingConfirmation: false, updatedAt: '', messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'Hello!', actions: [] }] } },
    );
    renderChat();
    expect(await screen.findByText('Hello!')).toBeInTheDocument();
    expect(screen.getByText('hi')).toBeInTheDocument();
  });
});
