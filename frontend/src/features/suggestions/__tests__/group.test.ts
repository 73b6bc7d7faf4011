import { describe, expect, it } from 'vitest';
import type { Suggestion } from '@/lib/types';
import { groupByKind } from '../api';
import { describeRecurrence } from '@/features/tasks/recurrence';

const sg = (id: string, kind: string, status: Suggestion['status'] = 'open'): Suggestion => ({
  id,
  kind,
  status,
  title: id,
  message: '',
  taskId: null,
  proposedChange: null,
  items: [],
  createdAt: '2026-11-28T00:00:00Z',
  expiresAt: '2026-12-05T00:00:00Z',
  resolvedAt: null,
});

describe('groupByKind', () => {
  it('groups open suggestions, most pressing kinds first, keeping order inside a group', () => {
    const groups = groupByKind([sg('a', 'stale'), sg('b', 'overdue'), sg('c', 'priority'), sg('d', 'overdue'), sg('e', 'overdue', 'dismissed'), sg('f', 'novel')]);
    expect(groups.map((g) => [g.kind, g.items.map((s) => s.id)])).toEqual([
      ['overdue', ['b', 'd']],
      ['priority', ['c']],
      ['stale', ['a']],
      ['novel', ['f']],
    ]);
  });
});

describe('describeRecurrence', () => {
  it('reads as a short phrase', () => {
    expect(describeRecurrence({ frequency: 'daily' })).toBe('Every day');
    expect(describeRecurrence({ frequency: 'weekly', interval: 2, weekdays: ['mon', 'fri'] })).toBe('Every 2 weeks on Mon, Fri');
    expect(describeRecurrence({ frequency: 'monthly', count: 3 })).toBe('Every month, 3 times');
    expect(describeRecurrence({ frequency: 'yearly', until: '2030-01-01' })).toBe('Every year, until 2030-01-01');
  });
});
