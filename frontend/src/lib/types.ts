/** Wire shapes of the API (see backend/src/tasks/dto.rs and friends). */

export type Priority = 'low' | 'medium' | 'high' | 'urgent';
export const PRIORITIES: Priority[] = ['low', 'medium', 'high', 'urgent'];

export type Frequency = 'daily' | 'weekly' | 'monthly' | 'yearly';
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const WEEKDAYS: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

export interface Recurrence {
  frequency: Frequency;
  interval?: number;
  weekdays?: Weekday[];
  nthWeekday?: { week: number; weekday: Weekday };
  until?: string;
  count?: number;
  basis?: 'dueDate' | 'completion';
}

export type ReminderSpec = { offsetMinutes: number } | { at: string };

export interface Task {
  id: string;
  title: string;
  description: string | null;
  priority: Priority;
  tags: string[];
  dueAt: string | null;
  recurrence: Recurrence | null;
  reminders: ReminderSpec[];
  completed: boolean;
  completedAt: string | null;
  isOverdue: boolean;
  seriesId: string;
  occurrenceNumber: number;
  previousTaskId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface TaskPage {
  items: Task[];
  nextCursor?: string | null;
}

export interface CreateTaskInput {
  title: string;
  description?: string;
  priority?: Priority;
  tags?: string[];
  dueAt?: string;
  recurrence?: Recurrence;
  reminders?: ReminderSpec[];
}

/** PATCH body: absent = unchanged, null = cleared. */
export interface UpdateTaskInput {
  title?: string;
  description?: string | null;
  priority?: Priority;
  tags?: string[] | null;
  dueAt?: string | null;
  recurrence?: Recurrence | null;
  reminders?: ReminderSpec[] | null;
}

export interface CompletionResponse {
  task: Task;
  nextTask?: Task | null;
}

export type SuggestionKind = 'overdue' | 'priority' | 'overload' | 'stale' | 'reminder';

export interface Suggestion {
  id: string;
  kind: SuggestionKind | string;
  status: 'open' | 'accepted' | 'dismissed' | 'expired';
  title: string;
  message: string;
  taskId: string | null;
  proposedChange: Record<string, unknown> | null;
  createdAt: string;
  expiresAt: string;
  resolvedAt: string | null;
}

export interface SuggestionList {
  items: Suggestion[];
  openCounts: Record<string, number>;
}

export interface Preferences {
  autonomousAgentsEnabled: boolean;
  reminderOffsetMinutes: number;
  timeZone: string;
}

export interface User {
  id: string;
  email: string;
  createdAt: string;
}
