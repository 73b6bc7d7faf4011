/**
 * Query keys shared across features, so live updates can refresh what a feature shows
 * without importing that feature.
 */
export const queryKeys = {
  me: ['me'] as const,
  tasks: ['tasks'] as const,
  suggestions: ['suggestions'] as const,
  preferences: ['preferences'] as const,
  conversations: ['conversations'] as const,
};
