/**
 * Wire shapes of the API under the names the app uses. They are generated into `api.gen.ts`
 * from the backend's OpenAPI document (`npm run gen:api`), so a value or field the backend
 * changes shows up here as a type error. What this file adds: a few narrower shapes the app
 * keeps to, and the value lists that forms show, checked to list every member of the
 * generated unions.
 */
import type * as Api from './api.gen';

export type {
  ChatAction,
  ChatRequest,
  CompletionResponse,
  ConversationDetail,
  ConversationList,
  Credentials,
  Frequency,
  Priority,
  ReminderSpec,
  SpanKind,
  SuggestionList,
  TaskPage,
  Weekday,
} from './api.gen';

export type Task = Api.TaskResponse;
export type Project = Api.ProjectResponse;
export type ProjectList = Api.ProjectList;
export type ProjectColor = Api.ProjectColor;
export type CreateProjectInput = Api.CreateProjectRequest & { name: string };
export type UpdateProjectInput = Api.UpdateProjectRequest;
export type TasksOnDelete = Api.DeleteProjectParams['tasks'];
export type Recurrence = Api.RecurrenceInput;
/** The app always sends a title; the document leaves it optional only so that the API's 422
 * for a missing one can name the field. */
export type CreateTaskInput = Api.CreateTaskRequest & { title: string };
/** PATCH body: absent = unchanged, null = cleared. */
export type UpdateTaskInput = Api.UpdateTaskRequest;
/** What `POST /tasks/parse` proposes for a quick-add line. */
export type QuickAddResult = Api.QuickAdd;
export type Suggestion = Api.SuggestionResponse;
export type KindFeedback = Api.KindFeedback;
export type FeedbackList = Api.FeedbackList;
export type SuggestionItem = Api.SuggestionItemResponse;
export type ImportReport = Api.ImportReport;
export type TodoistImportInput = Api.TodoistImportRequest & { csv: string; dryRun: boolean };
export type Preferences = Api.PreferencesResponse;
export type CalendarFeed = Api.CalendarFeedResponse;
export type PreferencesPatch = Api.UpdatePreferencesRequest;
export type User = Api.UserResponse;
export type ChangePasswordInput = Required<Api.ChangePasswordRequest>;
export type ChatReply = Api.ChatResponse;
/** An error response's body (RFC 9457 problem details). */
export type Problem = Api.Problem;

/** The query parameters of `GET /tasks` and `GET /suggestions`. */
export type TaskListQuery = Api.ListTasksParams;
export type SuggestionListQuery = Api.ListSuggestionsParams;
/** A query string built from these names (the app sends its own spellings of the values,
 * e.g. one priority where the API also takes several). */
export type QueryOf<P> = { [K in keyof P]?: string | number | null };

/**
 * `values` as given, after checking at compile time that they are every member of the union
 * `T`: a value the API adds or drops breaks the build instead of going missing from a form.
 */
function allOf<T extends string>() {
  return <const L extends readonly T[]>(values: L & ([Exclude<T, L[number]>] extends [never] ? unknown : never)): readonly T[] => values;
}

/** In the order forms show them, least urgent first. */
export const PRIORITIES = allOf<Api.Priority>()(['low', 'medium', 'high', 'urgent']);
/** The palette, in the order the colour picker shows it. */
export const PROJECT_COLORS = allOf<Api.ProjectColor>()(['grey', 'red', 'orange', 'yellow', 'green', 'teal', 'blue', 'purple', 'pink']);
/** Weeks start on Monday, as the API normalises them. */
export const WEEKDAYS = allOf<Api.Weekday>()(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
export type PushConfig = Api.PushConfigResponse;
export type PushSubscriptionItem = Api.PushSubscriptionResponse;
export type PushSubscriptionList = Api.PushSubscriptionList;
