/**
 * Query keys shared across features, so live updates can refresh what a feature shows
 * without importing that feature.
 */
export const queryKeys = {
  me: ['me'] as const,
  tasks: ['tasks'] as const,
  /** Under tasks: each project's open-task count changes with them, so whatever refreshes the
   * tasks refreshes the projects too. */
  projects: ['tasks', 'projects'] as const,
  suggestions: ['suggestions'] as const,
  preferences: ['preferences'] as const,
  conversations: ['conversations'] as const,
};
