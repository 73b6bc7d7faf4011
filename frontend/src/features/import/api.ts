/** Importing another app's export: a Todoist CSV file, previewed (dry run) and then imported. */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { ImportReport, TodoistImportInput } from '@/lib/types';

/** The largest file the server takes (1 MiB), checked here so a big file is refused at once. */
export const MAX_CSV_BYTES = 1024 * 1024;

/** "Work.csv" → "Work": the name a new project gets unless the user types another. */
export function projectNameFromFile(fileName: string): string {
  return fileName.replace(/\.csv$/i, '').trim();
}

export function useTodoistImport() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: TodoistImportInput) => api<ImportReport>('/import/todoist', { method: 'POST', body: input }),
    // The projects' key sits under the tasks', so this refreshes both.
    onSuccess: (report) => {
      if (!report.dryRun) void qc.invalidateQueries({ queryKey: queryKeys.tasks });
    },
  });
}
