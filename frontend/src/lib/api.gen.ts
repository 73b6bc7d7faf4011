// Generated from frontend/openapi.json by `npm run gen:api`; do not edit by hand.
/** A day of the week. The declaration order is the normalised order (weeks start on Monday). */
export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";

export type SpanKind =
  | "date"
  | "time"
  | "priority"
  | "tag"
  | "recurrence"
  | "project"
  | "section";

/** The web app's palette; the `project.color` check constraint lists the same names. */
export type ProjectColor =
  | "grey"
  | "red"
  | "orange"
  | "yellow"
  | "green"
  | "teal"
  | "blue"
  | "purple"
  | "pink";

/**
 * How urgent a task is.
 *
 * Variants are declared from least to most urgent so that the derived `Ord` gives
 * `low < medium < high < urgent`, which is what "sort by priority" means to a user.
 */
export type Priority = "low" | "medium" | "high" | "urgent";

/** How often a task repeats. */
export type Frequency = "daily" | "weekly" | "monthly" | "yearly";

/** What the next due date is counted from. */
export type Basis = "dueDate" | "completion";

export type ActionKind =
  | "created"
  | "updated"
  | "completed"
  | "reopened"
  | "deleted"
  | "listed"
  | "suggestions";

/** "Pick another day": accept a proposed due-time change, but with this due time instead. */
export interface AcceptRequest {
  /** An RFC 3339 instant, or a date alone (the end of that day in the user's time zone). */
  dueAt: string;
}

/** Everything the account holds, as the API shows it. */
export interface AccountExport {
  account: UserResponse;
  conversations: ConversationDetail[];
  /** @format date-time */
  exportedAt: string;
  preferences: PreferencesResponse;
  projects: ProjectResponse[];
  suggestions: SuggestionResponse[];
  tasks: TaskResponse[];
}

/** The user's calendar feed: on with its address, or off. */
export interface CalendarFeedResponse {
  /**
   * When this address was made (turning the feed on, or the last reset). Null when off.
   * @format date-time
   */
  createdAt?: string | null;
  enabled: boolean;
  /**
   * The feed's secret address as an absolute path
   * (`/api/v1/calendar/<token>.ics`); the web app prefixes its own origin. Null when off.
   * @example "/api/v1/calendar/q3Jb0y3T0m0Jk2n5uXH8e9wB4s7dZp1aLf6cVr2KgQ8.ics"
   */
  url?: string | null;
}

export interface ChangePasswordRequest {
  /** @format password */
  currentPassword: string;
  /**
   * @format password
   * @minLength 8
   * @maxLength 128
   */
  newPassword: string;
}

/**
 * Something the assistant did (or, for `listed` and `suggestions`, showed), with the tasks it
 * concerned as they are afterwards (a deleted task as it was).
 */
export interface ChatAction {
  kind: ActionKind;
  /** For `suggestions`: the open suggestions listed. */
  suggestions?: SuggestionResponse[];
  tasks: TaskResponse[];
}

export interface ChatRequest {
  /**
   * Continue this conversation; without it a new one starts.
   * @format uuid
   */
  conversationId?: string | null;
  /**
   * What the user says; up to `CHAT_MAX_MESSAGE_CHARS` characters (default 2000).
   * @example "add task Submit report due friday 5pm"
   */
  message: string;
}

export interface ChatResponse {
  actions: ChatAction[];
  /** A deletion or bulk change waits for "yes" or "no" in the next message. */
  awaitingConfirmation: boolean;
  /** @format uuid */
  conversationId: string;
  reply: string;
}

export interface CompletionResponse {
  /**
   * For a recurring task: the next occurrence (created by this completion or an earlier
   * one); absent when the series has ended or the task does not recur.
   */
  nextTask?: TaskResponse | null;
  task: TaskResponse;
}

export type ConversationDetail = ConversationSummary & {
  messages: MessageResponse[];
};

export interface ConversationList {
  items: ConversationSummary[];
}

export interface ConversationSummary {
  awaitingConfirmation: boolean;
  /** @format date-time */
  createdAt: string;
  /** @format uuid */
  id: string;
  /** The conversation's first message, shortened. */
  title: string;
  /** @format date-time */
  updatedAt: string;
}

export interface CreateProjectRequest {
  /** Defaults to `grey`. */
  color?: ProjectColor | null;
  /**
   * 1–100 characters, one line, unique among the user's projects ignoring case. Required.
   * @example "Work"
   */
  name?: string | null;
  /** Up to 50, in order. */
  sections?: SectionInput[] | null;
}

/**
 * The browser's `PushSubscription.toJSON()`, plus an optional label. Unknown fields are
 * ignored rather than refused: the object is the browser's, and it may grow.
 */
export interface CreatePushSubscriptionRequest {
  /**
   * The push service's URL for this browser: absolute https, at most 2048 characters, at a
   * push service this server knows (`PUSH_ENDPOINT_HOSTS`). Required.
   * @example "https://fcm.googleapis.com/fcm/send/cXx0:APA91b"
   */
  endpoint?: string | null;
  /**
   * When the push service ends the subscription (milliseconds since the epoch), if it says.
   * @format int64
   */
  expirationTime?: number | null;
  /** Required. */
  keys?: PushSubscriptionKeys | null;
  /**
   * What the user calls this browser, e.g. "Chromium on Linux": 1–100 characters, one line.
   * @example "Chromium on Linux"
   */
  label?: string | null;
}

/** `Serialize` too: its canonical JSON is what an `Idempotency-Key` is checked against. */
export interface CreateTaskRequest {
  /** Up to 5000 characters. */
  description?: string | null;
  /**
   * RFC 3339 date-time, or a date alone meaning the end of that day in the user's time zone.
   * @example "2026-12-01T17:00:00+01:00"
   */
  dueAt?: string | null;
  /**
   * Expected effort in minutes, 1–1440; the daily plan fits estimated tasks into the
   * working day.
   * @format int64
   * @min 1
   * @max 1440
   */
  estimateMinutes?: number | null;
  /**
   * Makes the task a subtask of one of the user's tasks that is not a subtask itself. A
   * subtask is in its parent's project and section (give no other) and does not repeat.
   * @format uuid
   */
  parentId?: string | null;
  /** Defaults to `medium`. */
  priority?: Priority | null;
  /**
   * One of the user's projects; the Inbox when absent.
   * @format uuid
   */
  projectId?: string | null;
  /** Makes the task repeat; needs `dueAt`. */
  recurrence?: RecurrenceInput | null;
  /** Up to 5. A task with a due time and no reminder gets the user's default offset. */
  reminders?: ReminderSpec[] | null;
  /**
   * One of that project's sections; none when absent.
   * @format uuid
   */
  sectionId?: string | null;
  /** Up to 20 tags of 1–50 characters, unique ignoring case. */
  tags?: string[] | null;
  /**
   * 1–200 characters, one line. Required.
   * @example "Submit report"
   */
  title?: string | null;
}

export interface Credentials {
  /** @example "ada@example.com" */
  email: string;
  /**
   * @format password
   * @minLength 8
   * @maxLength 128
   */
  password: string;
}

export interface DeleteAccountRequest {
  /**
   * The account's password, to confirm.
   * @format password
   */
  password: string;
}

export interface DeleteProjectResponse {
  /**
   * Tasks deleted.
   * @min 0
   */
  tasksDeleted: number;
  /**
   * Tasks moved to the Inbox.
   * @min 0
   */
  tasksMoved: number;
}

export interface FeedbackList {
  /** Every kind of advice, in a fixed order, answered or not. */
  items: KindFeedback[];
}

export interface Health {
  status: string;
}

/**
 * What the import created (or, in a dry run, would create). The same shape for both, so a
 * client can show the preview and then the result.
 */
export interface ImportReport {
  dryRun: boolean;
  /** Rows imported with something left out or changed. */
  notes: RowNote[];
  project: ImportedProject;
  /** Sections added to the project, in file order (sections it already had are reused). */
  sections: string[];
  /** Rows that created nothing, and why. */
  skipped: SkippedRow[];
  tasks: ImportedTask[];
}

/** Exactly one of `id` and `name`. */
export interface ImportTarget {
  /**
   * One of the user's projects.
   * @format uuid
   */
  id?: string | null;
  /** A new project's name: 1–100 characters, not another project's. */
  name?: string | null;
}

export interface ImportedProject {
  /** Whether the import creates the project. */
  created: boolean;
  /**
   * Absent in a dry run that would create the project.
   * @format uuid
   */
  id?: string | null;
  name: string;
}

export interface ImportedTask {
  /** @format date-time */
  dueAt?: string | null;
  /**
   * The new task; absent in a dry run.
   * @format uuid
   */
  id?: string | null;
  /**
   * The line of the task this one is a subtask of (an indented task in the file).
   * @format int64
   * @min 0
   */
  parentRow?: number | null;
  /**
   * How urgent a task is.
   *
   * Variants are declared from least to most urgent so that the derived `Ord` gives
   * `low < medium < high < urgent`, which is what "sort by priority" means to a user.
   */
  priority: Priority;
  recurrence?: RecurrenceInput | null;
  /**
   * The row's line in the file; the header is line 1.
   * @format int64
   * @min 0
   */
  row: number;
  sectionName?: string | null;
  tags: string[];
  title: string;
}

/** What the user's answers taught the assistants about one kind of advice. */
export interface KindFeedback {
  /**
   * All-time answers to this kind.
   * @format int64
   */
  accepted: number;
  /** @format int64 */
  dismissed: number;
  /**
   * Dismissals since the last accept (or reset); three pause the kind.
   * @format int32
   */
  dismissedInARow: number;
  /** `overdue`, `priority`, `overload`, `stale`, `schedule_adjustment` or `daily_plan`. */
  kind: string;
  /**
   * No advice of this kind before this instant; null when the kind is not paused.
   * @format date-time
   */
  pausedUntil?: string | null;
}

export interface MessageResponse {
  /** For assistant messages: what was done. */
  actions: object[];
  content: string;
  /** @format date-time */
  createdAt: string;
  /** @format uuid */
  id: string;
  /** `user` or `assistant`. */
  role: string;
}

/**
 * A move in the manual order of the list the task is in: its project's tasks in one section
 * (or in none), or one parent's subtasks.
 */
export interface MoveTaskRequest {
  /**
   * The task it goes right after, one of the same list; absent or `null`: first.
   * @format uuid
   */
  afterId?: string | null;
  /**
   * Another section of the task's project to move it into (`null`: out of any section),
   * for a task that is not a subtask; `afterId` is then a task of that section.
   * @format uuid
   */
  sectionId?: string | null;
}

/** Wire form of [`NthWeekday`]. */
export interface NthWeekdayInput {
  /**
   * Week of the month: 1 to 4, or -1 for the last.
   * @format int64
   * @example 2
   */
  week: number;
  /** A day of the week. The declaration order is the normalised order (weeks start on Monday). */
  weekday: Weekday;
}

export interface ParseRequest {
  /**
   * The project on screen, one of the user's: a `/Section` without a `#Project` names one
   * of its sections (without it, one of the Inbox's).
   * @format uuid
   */
  projectId?: string | null;
  /**
   * One line, e.g. `Submit report fri 5pm !high #work every week`; up to 500 characters.
   * @example "Submit report fri 5pm !high #work every week"
   */
  text: string;
}

export interface PreferencesResponse {
  /** Whether the assistants may create suggestions for this user. */
  autonomousAgentsEnabled: boolean;
  /**
   * How many tasks the daily plan proposes at most; 0 turns the plan off.
   * @format int32
   * @min 0
   */
  dailyPlanSize: number;
  /**
   * Minutes before the due time that a task without reminders reminds.
   * @format int32
   * @min 0
   */
  reminderOffsetMinutes: number;
  /**
   * IANA time zone name.
   * @example "Europe/Berlin"
   */
  timeZone: string;
  /** The days the user works, Monday first; the assistants plan on these days only. */
  workDays: Weekday[];
  /** @example "17:00" */
  workEnd: string;
  /**
   * When the working day starts and ends, `HH:MM` in `timeZone`.
   * @example "09:00"
   */
  workStart: string;
}

/** The RFC 9457 body every error response carries. */
export interface Problem {
  /** Stable, machine-readable error code, e.g. `validation_failed`, `not_found`. */
  code: string;
  detail: string;
  /** For `validation_failed`: each invalid field and what is wrong with it. */
  errors?: ProblemField[];
  /**
   * @format int32
   * @min 0
   */
  status: number;
  title: string;
  /** A URI reference naming the problem type; `/problems/{code}`. */
  type: string;
}

export interface ProblemField {
  /** JSON path of the field, e.g. `title`, `recurrence.interval`, `tags[2]`. */
  field: string;
  message: string;
}

export interface ProjectList {
  /** The Inbox first, then by name. */
  items: ProjectResponse[];
}

export interface ProjectResponse {
  /** Hidden from the web app's project list; its tasks stay and can still be listed. */
  archived: boolean;
  /** The web app's palette; the `project.color` check constraint lists the same names. */
  color: ProjectColor;
  /** @format date-time */
  createdAt: string;
  /** @format uuid */
  id: string;
  /** The account's default project: cannot be renamed, archived or deleted. */
  isInbox: boolean;
  name: string;
  /**
   * Open tasks in the project.
   * @format int64
   */
  openTaskCount: number;
  /** In order. */
  sections: SectionResponse[];
  /** @format date-time */
  updatedAt: string;
}

/** The task a line proposes, shaped like a create request so a client can send it as is. */
export interface ProposedTask {
  /** A date (end of that day) or an RFC 3339 date-time with the user's offset. */
  dueAt?: string | null;
  priority?: Priority | null;
  /**
   * The project a `#Name` named, or the one a recognised `/Section` belongs to.
   * @format uuid
   */
  projectId?: string | null;
  recurrence?: RecurrenceInput | null;
  /**
   * The section a `/Name` named, one of `projectId`'s.
   * @format uuid
   */
  sectionId?: string | null;
  tags?: string[] | null;
  /** What is left of the line once the recognised parts are taken out; absent when nothing is. */
  title?: string | null;
}

export interface PushConfigResponse {
  /** Whether this server sends Web Push notifications at all. */
  enabled: boolean;
  /**
   * The VAPID application server key to subscribe with (`applicationServerKey`): base64url
   * without padding, a 65-byte uncompressed P-256 point. `null` when push is off.
   */
  publicKey?: string | null;
}

export interface PushSubscriptionKeys {
  /** The browser's authentication secret: base64url of 16 bytes. Required. */
  auth?: string | null;
  /** The browser's P-256 public key: base64url of the 65-byte uncompressed point. Required. */
  p256dh?: string | null;
}

export interface PushSubscriptionList {
  /** Oldest first. */
  items: PushSubscriptionResponse[];
}

export interface PushSubscriptionResponse {
  /** @format date-time */
  createdAt: string;
  endpoint: string;
  /** @format uuid */
  id: string;
  label?: string | null;
}

export interface QuickAdd {
  spans: Span[];
  /** The task a line proposes, shaped like a create request so a client can send it as is. */
  task: ProposedTask;
}

export interface Readiness {
  database: string;
  /**
   * Age of the oldest of them; grows while the sidecar or broker is down.
   * @format double
   */
  oldestUnpublishedAgeSeconds?: number | null;
  /**
   * Events committed but not yet accepted by the sidecar.
   * @format int64
   */
  outboxBacklog?: number | null;
  status: string;
}

/** The `recurrence` object of a task, as sent by clients and returned in responses. */
export interface RecurrenceInput {
  /** Whether the next due date counts from the due date (default) or from the completion. */
  basis?: Basis | null;
  /**
   * Total number of tasks in the series, the first included; 1 to 1000. Not together with
   * `until`.
   * @format int64
   * @min 1
   * @max 1000
   */
  count?: number | null;
  /** How often a task repeats. */
  frequency: Frequency;
  /**
   * Repeat every this many periods; 1 to 999, default 1.
   * @format int64
   * @min 1
   * @max 999
   * @default 1
   */
  interval?: number | null;
  /** Monthly only: repeat on the n-th weekday of the month instead of on a day of the month. */
  nthWeekday?: NthWeekdayInput | null;
  /**
   * Last day (inclusive, in the user's time zone) a task of the series may be due on. Not
   * together with `count`.
   * @format date
   */
  until?: string | null;
  /**
   * Weekly only: the days of the week to repeat on, each at most once. Without it a weekly
   * task repeats on the weekday of its due date.
   */
  weekdays?: Weekday[] | null;
}

/**
 * One reminder on a task, as the API accepts it and as events carry it.
 *
 * Exactly one of the two shapes: `{"offsetMinutes": 30}` (relative to the due date) or
 * `{"at": "2026-11-28T08:30:00.000Z"}` (absolute). Unknown fields are rejected, so an object
 * carrying both keys matches neither shape instead of silently picking one.
 */
export type ReminderSpec =
  | {
      /**
       * @format int32
       * @min 0
       */
      offsetMinutes: number;
    }
  | {
      /** @format date-time */
      at: string;
    };

export interface RowNote {
  message: string;
  /**
   * @format int64
   * @min 0
   */
  row: number;
}

export interface SectionInput {
  /**
   * An existing section of this project; absent for a new one.
   * @format uuid
   */
  id?: string | null;
  /** 1–100 characters, one line. Required. */
  name?: string | null;
}

export interface SectionResponse {
  /** @format uuid */
  id: string;
  name: string;
}

export interface SkippedRow {
  reason: string;
  /**
   * @format int64
   * @min 0
   */
  row: number;
}

/** A recognised part of the line. `start`/`end` are UTF-16 code-unit offsets (end exclusive). */
export interface Span {
  /** @min 0 */
  end: number;
  kind: SpanKind;
  /** @min 0 */
  start: number;
  text: string;
}

/**
 * One event of the stream as `text/event-stream` carries it: an `event:` line, a `data:`
 * line holding JSON, and on `ready` a `retry:` line.
 */
export interface StreamEvent {
  /**
   * A JSON object: `{}` for `ready`; `{eventType, taskId}` for `task`;
   * `{suggestionId, kind, status, taskId, title}` for `suggestion`; `{taskId, title, dueAt}`
   * for `reminder`.
   */
  data: string;
  /**
   * `ready`, `task`, `suggestion` or `reminder`.
   * @pattern ^(ready|task|suggestion|reminder)$
   */
  event: string;
  /**
   * Milliseconds the browser waits before reconnecting a dropped stream.
   * @format int64
   * @min 0
   */
  retry?: number | null;
}

export interface SubtaskCounts {
  /** @format int64 */
  done: number;
  /** @format int64 */
  total: number;
}

export interface SuggestionItemResponse {
  /**
   * The task's effort estimate in minutes, as it is now.
   * @format int32
   */
  estimateMinutes?: number | null;
  /** The task change accepting this item applies (a PATCH body; `{}` keeps the task as it is). */
  proposedChange: object;
  reason: string;
  /** `open`, `accepted` or `skipped`. */
  status: string;
  /** @format uuid */
  taskId: string;
  /** The task's title as it is now. */
  taskTitle: string;
}

export interface SuggestionList {
  items: SuggestionResponse[];
  /** Open suggestions per kind. */
  openCounts: Partial<Record<string, number>>;
}

export interface SuggestionResponse {
  /** @format date-time */
  createdAt: string;
  /** @format date-time */
  expiresAt: string;
  /**
   * The same reason as one sentence in the words of the assistant's language model, when
   * one is configured and its answer held up; null otherwise (show `reason` then).
   */
  explanation?: string | null;
  /** @format uuid */
  id: string;
  /**
   * The tasks of a suggestion that covers several (a grouped reschedule, a daily plan), in
   * display order; empty otherwise.
   */
  items: SuggestionItemResponse[];
  /**
   * `overdue`, `priority`, `overload`, `stale`, `reminder`, `schedule_adjustment` or
   * `daily_plan`.
   */
  kind: string;
  message: string;
  /** The task change that accepting applies (a PATCH body), when there is one. */
  proposedChange?: object | null;
  /**
   * Why the assistant says it, in one line built from the facts it used (null on
   * suggestions older than reasons).
   */
  reason?: string | null;
  /** @format date-time */
  resolvedAt?: string | null;
  /** `open`, `accepted`, `dismissed` or `expired`. */
  status: string;
  /** @format uuid */
  taskId?: string | null;
  title: string;
}

export interface TaskPage {
  items: TaskResponse[];
  /**
   * Pass as `cursor` (with the same filters, sort and order) for the next page; absent on
   * the last page.
   */
  nextCursor?: string | null;
}

export interface TaskResponse {
  completed: boolean;
  /** @format date-time */
  completedAt?: string | null;
  /** @format date-time */
  createdAt: string;
  description?: string | null;
  /** @format date-time */
  dueAt?: string | null;
  /**
   * Expected effort in minutes.
   * @format int32
   * @min 0
   */
  estimateMinutes?: number | null;
  /** @format uuid */
  id: string;
  /** Open and past its due time. */
  isOverdue: boolean;
  /**
   * Position in the series, from 1.
   * @format int32
   */
  occurrenceNumber: number;
  /**
   * The task this one is a subtask of.
   * @format uuid
   */
  parentId?: string | null;
  /** Its key in the manual order (`sort=position`): compare keys as strings, bytewise. */
  position: string;
  /** @format uuid */
  previousTaskId?: string | null;
  /**
   * How urgent a task is.
   *
   * Variants are declared from least to most urgent so that the derived `Ord` gives
   * `low < medium < high < urgent`, which is what "sort by priority" means to a user.
   */
  priority: Priority;
  /** @format uuid */
  projectId: string;
  recurrence?: RecurrenceInput | null;
  reminders: ReminderSpec[];
  /** @format uuid */
  sectionId?: string | null;
  /**
   * The recurring series this task belongs to (its own id when it is the first or the only
   * one).
   * @format uuid
   */
  seriesId: string;
  /** Its subtasks, and how many are done (both 0 for a task without subtasks). */
  subtasks: SubtaskCounts;
  tags: string[];
  title: string;
  /** @format date-time */
  updatedAt: string;
}

export interface TodoistImportRequest {
  /** The export's text: one Todoist project as CSV, at most 1 MiB and 2,000 rows. Required. */
  csv?: string | null;
  /** `true` reports what the import would do and writes nothing. Required. */
  dryRun?: boolean | null;
  /**
   * The uploaded file's name; `Work.csv` names a new project `Work` when `project` names none.
   * @example "Work.csv"
   */
  fileName?: string | null;
  /**
   * Where the tasks go: an existing project (`id`) or a new one (`name`). Absent: a new
   * project named after `fileName`.
   */
  project?: ImportTarget | null;
}

export interface UpdateAccountRequest {
  /** 1–100 characters, one line; `null` or blank removes it. */
  displayName?: string | null;
}

export interface UpdatePreferencesRequest {
  autonomousAgentsEnabled?: boolean | null;
  /**
   * @format int64
   * @min 0
   * @max 20
   */
  dailyPlanSize?: number | null;
  /**
   * @format int64
   * @min 0
   * @max 40320
   */
  reminderOffsetMinutes?: number | null;
  timeZone?: string | null;
  /** The working days, in any order; `[]` means none. */
  workDays?: Weekday[] | null;
  /**
   * `HH:MM`, after `workStart`.
   * @pattern ^([01][0-9]|2[0-3]):[0-5][0-9]$
   * @example "16:30"
   */
  workEnd?: string | null;
  /**
   * `HH:MM`, before `workEnd`.
   * @pattern ^([01][0-9]|2[0-3]):[0-5][0-9]$
   * @example "08:30"
   */
  workStart?: string | null;
}

/** Only the fields present change. */
export interface UpdateProjectRequest {
  archived?: boolean | null;
  color?: ProjectColor | null;
  name?: string | null;
  /**
   * The project's sections, all of them, in their new order: an entry with an `id` keeps
   * (and may rename) that section, one without adds a section, and a section left out is
   * removed, its tasks staying in the project outside any section.
   */
  sections?: SectionInput[] | null;
}

/**
 * Only the fields present change; `null` clears a nullable field (`description`, `dueAt`,
 * `recurrence`) and empties a list (`tags`, `reminders`).
 */
export interface UpdateTaskRequest {
  description?: string | null;
  dueAt?: string | null;
  /**
   * Expected effort in minutes, 1–1440; `null` clears it.
   * @format int64
   * @min 1
   * @max 1440
   */
  estimateMinutes?: number | null;
  /**
   * Makes the task a subtask of another (which moves it to that task's project and
   * section); `null` makes it a task of its own again, where it is.
   * @format uuid
   */
  parentId?: string | null;
  priority?: Priority | null;
  /**
   * Moves the task to another of the user's projects, out of its section unless `sectionId`
   * names one of the new project's.
   * @format uuid
   */
  projectId?: string | null;
  recurrence?: RecurrenceInput | null;
  reminders?: ReminderSpec[] | null;
  /**
   * A section of the task's project; `null` takes the task out of its section.
   * @format uuid
   */
  sectionId?: string | null;
  tags?: string[] | null;
  title?: string | null;
}

export interface UserResponse {
  /** @format date-time */
  createdAt: string;
  /** What the web app calls the user; absent until they set one. */
  displayName?: string | null;
  email: string;
  /** @format uuid */
  id: string;
}

export interface GetConversationParams {
  /** @format uuid */
  id: string;
}

export interface DeleteConversationParams {
  /** @format uuid */
  id: string;
}

export interface ResetFeedbackParams {
  /** overdue, priority, overload, stale, schedule_adjustment or daily_plan */
  kind: string;
}

export interface GetCalendarParams {
  /** `<token>.ics`, as in the `url` of the feed settings */
  file: string;
}

export interface GetProjectParams {
  /** @format uuid */
  id: string;
}

export interface DeleteProjectParams {
  /** What deleting a project does with its tasks: the request must say. */
  tasks: "moveToInbox" | "delete";
  /** @format uuid */
  id: string;
}

export interface UpdateProjectParams {
  /** @format uuid */
  id: string;
}

export interface DeletePushSubscriptionParams {
  /** @format uuid */
  id: string;
}

export interface ListSuggestionsParams {
  /**
   * open (default), accepted, dismissed, expired or all
   * @pattern ^(open|accepted|dismissed|expired|all)$
   */
  status?: string;
}

export interface AcceptSuggestionParams {
  /** @format uuid */
  id: string;
}

export interface DismissSuggestionParams {
  /** @format uuid */
  id: string;
}

export interface AcceptSuggestionItemParams {
  /** @format uuid */
  id: string;
  /** @format uuid */
  taskId: string;
}

export interface SkipSuggestionItemParams {
  /** @format uuid */
  id: string;
  /** @format uuid */
  taskId: string;
}

export interface ListTasksParams {
  /**
   * `open`, `completed` or `all` (default)
   * @pattern ^\s*(open|completed|all)\s*$
   */
  status?: string;
  /** One or more of low, medium, high, urgent (repeat or comma-separate) */
  priority?: string[];
  /** Tasks with any of these tags (case-insensitive) */
  tag?: string[];
  /**
   * Only the tasks of this project
   * @format uuid
   */
  projectId?: string;
  /** Case-insensitive text in title or description */
  search?: string;
  /** RFC 3339, or a date (includes that whole day) */
  dueBefore?: string;
  /** RFC 3339, or a date (from the start of that day) */
  dueAfter?: string;
  /** Only open tasks past their due time (`true`) or none of them (`false`) */
  overdue?: boolean;
  /**
   * createdAt (default), updatedAt, dueAt, priority, title or position (the manual order)
   * @pattern ^\s*(createdAt|updatedAt|dueAt|priority|title|position)\s*$
   */
  sort?: string;
  /**
   * asc or desc (default)
   * @pattern ^\s*(asc|desc)\s*$
   */
  order?: string;
  /**
   * 1–200, default 50
   * @format int32
   * @min 1
   * @max 200
   */
  limit?: number;
  /** `nextCursor` of the previous page */
  cursor?: string;
}

export interface GetTaskParams {
  /** @format uuid */
  id: string;
}

export interface DeleteTaskParams {
  /** @format uuid */
  id: string;
}

export interface UpdateTaskParams {
  /** @format uuid */
  id: string;
}

export interface CompleteTaskParams {
  /** @format uuid */
  id: string;
}

export interface ReopenTaskParams {
  /** @format uuid */
  id: string;
}

export interface MoveTaskParams {
  /** @format uuid */
  id: string;
}
