/** The calendar feed's settings: whether it is on, its secret address, resetting and turning it off. */
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '@/lib/api-client';
import type { CalendarFeed } from '@/lib/types';

const feedKey = ['calendar-feed'] as const;

export const calendarFeedQuery = () => queryOptions({ queryKey: feedKey, queryFn: () => api<CalendarFeed>('/calendar/feed') });

export function useCalendarFeed() {
  return useQuery(calendarFeedQuery());
}

/** Turns the feed on, or gives it a new address (the old one stops working at once). */
export function useResetCalendarFeed() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api<CalendarFeed>('/calendar/feed', { method: 'POST' }),
    onSuccess: (feed) => qc.setQueryData(feedKey, feed),
  });
}

export function useTurnOffCalendarFeed() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api<void>('/calendar/feed', { method: 'DELETE' }),
    onSuccess: () => qc.setQueryData<CalendarFeed>(feedKey, { enabled: false, url: null, createdAt: null }),
  });
}

/**
 * The address to subscribe to, on this site's origin (the API gives a path), and the same as
 * a `webcal:` link, which opens the device's calendar app.
 */
export function subscribeUrls(path: string, location: Pick<Location, 'origin' | 'host'> = window.location) {
  return { https: `${location.origin}${path}`, webcal: `webcal://${location.host}${path}` };
}
