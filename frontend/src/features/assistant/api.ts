/** What the user's answers taught the assistants, per kind of advice, and resuming a paused kind. */
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { FeedbackList, KindFeedback } from '@/lib/types';

/** Under the suggestions' key: answering a suggestion anywhere refreshes it with them. */
const feedbackKey = [...queryKeys.suggestions, 'feedback'] as const;

export const feedbackQuery = () =>
  queryOptions({ queryKey: feedbackKey, queryFn: () => api<FeedbackList>('/assistant/feedback') });

export function useAssistantFeedback() {
  return useQuery(feedbackQuery());
}

export function useResumeKind() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (kind: string) => api<KindFeedback>(`/assistant/feedback/${encodeURIComponent(kind)}`, { method: 'DELETE' }),
    onSuccess: (item) =>
      qc.setQueryData<FeedbackList>(feedbackKey, (list) => list && { items: list.items.map((i) => (i.kind === item.kind ? item : i)) }),
  });
}

/** The kinds as the Settings page names them. */
export const KIND_NAMES: Record<string, string> = {
  overdue: 'Overdue warnings',
  priority: 'Priority advice',
  overload: 'Busy-week warnings',
  stale: '“Still relevant?” questions',
  schedule_adjustment: 'Reschedule proposals',
  daily_plan: 'Daily plans',
};

/** "Paused until Thu 10 Dec after 4 dismissals in a row", or where the kind stands. */
export function feedbackStatus(item: KindFeedback, timeZone: string): string {
  const times = (n: number) => (n === 1 ? '1 dismissal' : `${n} dismissals`);
  if (item.pausedUntil) {
    const until = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', timeZone }).format(new Date(item.pausedUntil));
    return `Paused until ${until} after ${times(item.dismissedInARow)} in a row`;
  }
  if (item.dismissedInARow > 0) return `Active; ${times(item.dismissedInARow)} in a row (3 pause it)`;
  return 'Active';
}
