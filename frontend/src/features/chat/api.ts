import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, ApiError } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { ChatAction, ChatReply, ChatRequest, ConversationDetail, ConversationList } from '@/lib/types';

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
  actions?: ChatAction[];
}

export class AssistantUnavailable extends Error {
  constructor() {
    super('The assistant is not available on this server yet.');
  }
}

/** Sends one message. `key` is the message's idempotency key: fresh for a new message, the same
 * when sending it again after a failure, so the server answers it once (its changes may have
 * been made before the answer was lost) and a retry gets that answer. */
export async function sendChat(message: string, conversationId: string | undefined, key: string): Promise<ChatReply> {
  try {
    return await api<ChatReply>('/ai/chat', {
      method: 'POST',
      body: (conversationId ? { message, conversationId } : { message }) satisfies ChatRequest,
      headers: { 'idempotency-key': key },
    });
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 405 || e.status === 501)) throw new AssistantUnavailable();
    throw e;
  }
}

export function useSendChat() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ message, conversationId, key }: { message: string; conversationId?: string; key: string }) =>
      sendChat(message, conversationId, key),
    onSuccess: (reply) => {
      // Listing tasks or suggestions changes nothing; every other action does.
      if (reply.actions.some((a) => a.kind !== 'listed' && a.kind !== 'suggestions')) {
        void qc.invalidateQueries({ queryKey: queryKeys.tasks });
        void qc.invalidateQueries({ queryKey: queryKeys.suggestions });
      }
    },
  });
}

export interface RestoredConversation {
  id: string;
  awaitingConfirmation: boolean;
  messages: ChatMessage[];
}

/** The most recent conversation, to continue where the user left off; null when none. */
export async function latestConversation(): Promise<RestoredConversation | null> {
  let list: ConversationList;
  try {
    list = await api<ConversationList>('/ai/conversations');
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 405 || e.status === 501)) throw new AssistantUnavailable();
    throw e;
  }
  const latest = [...list.items].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0];
  if (!latest) return null;
  const detail = await api<ConversationDetail>(`/ai/conversations/${latest.id}`);
  return {
    id: detail.id,
    awaitingConfirmation: detail.awaitingConfirmation,
    messages: detail.messages.map((m) => ({
      role: m.role === 'user' ? 'user' : 'assistant',
      content: m.content,
      // Stored as the replies carried them; the document leaves their shape open.
      actions: Array.isArray(m.actions) ? (m.actions as ChatAction[]) : [],
    })),
  };
}

export function deleteConversation(id: string): Promise<void> {
  return api<void>(`/ai/conversations/${id}`, { method: 'DELETE' }).catch((e) => {
    if (e instanceof ApiError && e.isNotFound) return;
    throw e;
  });
}

const ACTION_VERBS: Record<string, string> = {
  created: 'Created',
  updated: 'Updated',
  completed: 'Completed',
  reopened: 'Reopened',
  deleted: 'Deleted',
  listed: 'Found',
  suggestions: 'Suggestions',
};

export function describeAction(a: ChatAction): string {
  const verb = ACTION_VERBS[a.kind] ?? a.kind.charAt(0).toUpperCase() + a.kind.slice(1);
  const n = a.tasks.length;
  if (a.kind === 'suggestions') return `${a.suggestions?.length ?? 0} open suggestions`;
  if (n === 0) return `${verb}: nothing`;
  if (n === 1) return `${verb}: ${a.tasks[0]!.title}`;
  return `${verb} ${n} tasks`;
}
