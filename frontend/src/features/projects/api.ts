/**
 * Project endpoints and hooks. The list carries each project's open-task count, so it is
 * refreshed with the tasks (its key sits under theirs).
 */
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { CreateProjectInput, Project, ProjectList, TasksOnDelete, UpdateProjectInput } from '@/lib/types';

export const projectsQuery = queryOptions({
  queryKey: queryKeys.projects,
  queryFn: ({ signal }) => api<ProjectList>('/projects', { signal }).then((l) => l.items),
});

export function useProjects() {
  return useQuery(projectsQuery);
}

/** The Inbox and the active projects, for pickers and the sidebar; archived ones apart. */
export function splitArchived(projects: Project[]): { active: Project[]; archived: Project[] } {
  return { active: projects.filter((p) => !p.archived), archived: projects.filter((p) => p.archived) };
}

export function useCreateProject() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: CreateProjectInput) => api<Project>('/projects', { method: 'POST', body: input }),
    onSuccess: () => qc.invalidateQueries({ queryKey: queryKeys.projects }),
  });
}

export function useUpdateProject() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, patch }: { id: string; patch: UpdateProjectInput }) => api<Project>(`/projects/${id}`, { method: 'PATCH', body: patch }),
    // Removing a section moves its tasks out of it.
    onSuccess: () => qc.invalidateQueries({ queryKey: queryKeys.tasks }),
  });
}

export function useDeleteProject() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, tasks }: { id: string; tasks: TasksOnDelete }) =>
      api<{ tasksMoved: number; tasksDeleted: number }>(`/projects/${id}`, { method: 'DELETE', query: { tasks } }),
    onSuccess: () => qc.invalidateQueries({ queryKey: queryKeys.tasks }),
  });
}
