import { useOnline } from '@/lib/online';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { errorMessage } from '@/lib/api-client';
import { clearDraft, loadDraft, saveDraft } from '@/lib/drafts';
import { AssistantUnavailable, deleteConversation, describeAction, latestConversation, useSendChat, type ChatMessage } from '../api';

const DRAFT = 'chat';

interface Props {
  onClose: () => void;
}

export function ChatPanel({ onClose }: Props) {
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [conversationId, setConversationId] = useState<string | undefined>();
  const [awaiting, setAwaiting] = useState(false);
  const [unavailable, setUnavailable] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [input, setInput] = useState(() => loadDraft<string>(DRAFT) ?? '');
  const online = useOnline();
  const send = useSendChat();
  // The message that last failed with its idempotency key: sending the same words again is a
  // retry of it, which the server answers without doing anything twice.
  const failed = useRef<{ message: string; conversationId?: string; key: string } | null>(null);
  const listRef = useRef<HTMLOListElement>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    inputRef.current?.focus();
    let live = true;
    // Continue the latest conversation, so closing the panel loses nothing.
    latestConversation()
      .then((c) => {
        if (!live || !c) return;
        setConversationId(c.id);
        setAwaiting(c.awaitingConfirmation);
        setMessages((m) => (m.length ? m : c.messages));
      })
      .catch((e) => {
        if (!live) return;
        if (e instanceof AssistantUnavailable) setUnavailable(true);
      });
    return () => {
      live = false;
    };
  }, []);
  useEffect(() => {
    if (input) saveDraft(DRAFT, input);
    else clearDraft(DRAFT);
  }, [input]);
  useEffect(() => {
    const list = listRef.current;
    if (list) list.scrollTop = list.scrollHeight;
  }, [messages]);

  const say = async (text: string) => {
    if (!online) return;
    const message = text.trim();
    if (!message || send.isPending) return;
    setError(null);
    setMessages((m) => [...m, { role: 'user', content: message }]);
    setInput('');
    const retry = failed.current;
    const key = retry && retry.message === message && retry.conversationId === conversationId ? retry.key : crypto.randomUUID();
    try {
      const r = await send.mutateAsync({ message, conversationId, key });
      failed.current = null;
      setConversationId(r.conversationId);
      setAwaiting(r.awaitingConfirmation);
      setMessages((m) => [...m, { role: 'assistant', content: r.reply, actions: r.actions }]);
    } catch (e) {
      if (e instanceof AssistantUnavailable) setUnavailable(true);
      else setError(errorMessage(e));
      failed.current = { message, conversationId, key };
      // Give the words back so nothing typed is lost.
      setMessages((m) => m.slice(0, -1));
      setInput(message);
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void say(input);
  };

  const restart = () => {
    if (conversationId) void deleteConversation(conversationId).catch(() => undefined);
    setConversationId(undefined);
    setMessages([]);
    setAwaiting(false);
  };

  return (
    <aside className="panel chat" aria-labelledby="chat-title">
      <header className="chat-head">
        <h2 id="chat-title">Assistant</h2>
        <div>
          {messages.length > 0 && (
            <button type="button" className="btn btn-small btn-ghost" onClick={restart}>
              New chat
            </button>
          )}
          <button type="button" className="icon-btn" aria-label="Close assistant" onClick={onClose}>
            ×
          </button>
        </div>
      </header>
      {unavailable ? (
        <p className="muted chat-empty" role="status">
          The assistant is not available on this server yet. Everything else works as usual — use the quick-add box to add tasks.
        </p>
      ) : (
        <>
          <ol className="chat-log" ref={listRef} aria-live="polite" aria-label="Conversation">
            {messages.length === 0 && (
              <li className="muted chat-empty">Ask me to add, change, complete or find tasks — e.g. “What is due this week?”</li>
            )}
            {messages.map((m, i) => (
              <li key={i} className={`msg msg-${m.role}`}>
                <span className="sr-only">{m.role === 'user' ? 'You:' : 'Assistant:'}</span>
                <p>{m.content}</p>
                {m.actions?.filter((a) => a.tasks.length || a.kind !== 'listed').map((a, j) => (
                  <p key={j} className="msg-action">
                    {describeAction(a)}
                  </p>
                ))}
              </li>
            ))}
            {send.isPending && <li className="msg msg-assistant muted">Thinking…</li>}
          </ol>
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          {awaiting && !send.isPending && (
            <div className="chat-confirm" role="group" aria-label="Confirm">
              <button type="button" className="btn btn-primary btn-small" disabled={!online} onClick={() => void say('yes')}>
                Yes
              </button>
              <button type="button" className="btn btn-small" disabled={!online} onClick={() => void say('no')}>
                No
              </button>
            </div>
          )}
          <form className="chat-form" onSubmit={submit}>
            <label htmlFor="chat-input" className="sr-only">
              Message the assistant
            </label>
            <textarea
              id="chat-input"
              ref={inputRef}
              rows={2}
              maxLength={2000}
              value={input}
              placeholder="Message the assistant"
              onChange={(e) => setInput(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && !e.shiftKey) {
                  e.preventDefault();
                  void say(input);
                }
              }}
            />
            <button type="submit" className="btn btn-primary" disabled={!input.trim() || send.isPending || !online}>
              Send
            </button>
          </form>
        </>
      )}
    </aside>
  );
}
