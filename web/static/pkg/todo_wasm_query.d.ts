/* tslint:disable */
/* eslint-disable */

/** A task as `GET /api/v1/{user_id}/tasks` returns it, or a row with `tag_ids`; other fields are kept. */
export interface TaskRow {
    id: number;
    title: string;
    description?: string | null;
    completed?: boolean;
    due_datetime?: string | null;
    priority?: "High" | "Medium" | "Low";
    tag_ids?: number[];
    tags?: { id: number; name?: string; color?: string }[];
    created_at: string;
    [field: string]: unknown;
}
/** List parameters of the HTTP API: a query string, URLSearchParams, [name, value] pairs or an object. */
export type QueryParams =
| string
| URLSearchParams
| Iterable<[string, string]>
| Record<string, string | number | boolean | null | undefined | Array<string | number>>;
/** A page of loaded task objects. */
export interface Page { items: TaskRow[]; total: number; limit: number; offset: number; }
/** A page of task ids. */
export interface IdPage { ids: number[]; total: number; limit: number; offset: number; }
/** One rejected field, as in the server's error `details`. */
export interface FieldErrorInfo { field: string; code: string; message: string; }
/** What the functions throw for rejected input (`name` is "ValidationError"). */
export interface TodoValidationError extends Error { field: string; code: string; errors: FieldErrorInfo[]; }
/** The input kinds of `validate`. */
export type InputKind = "task_create" | "task_update" | "tag_create" | "tag_update" | "reminder";
/** A recurring series, named as the API's task fields (or start/end/pattern). */
export interface SeriesSpec {
    recurrence_pattern?: "none" | "daily" | "weekly" | "monthly";
    pattern?: string;
    rrule?: string | null;
    timezone?: string;
    due_datetime?: string;
    start?: string;
    recurrence_end_date?: string | null;
    end?: string | null;
}



/**
 * A user's tasks, queried in memory by the core's engine with the server's semantics.
 */
export class TaskSet {
    free(): void;
    [Symbol.dispose](): void;
    /**
     * The task object with this id, or `undefined`.
     */
    get(id: number): TaskRow | undefined;
    /**
     * Loads `tasks` (an array or iterable of task objects as `GET /tasks` returns them, or rows
     * with `tag_ids`). Throws a `ValidationError` naming `tasks[i].<field>` for a bad row and a
     * `TypeError` for a value that is not a task object. A later task with the same id
     * replaces an earlier one.
     */
    constructor(tasks: Iterable<TaskRow>);
    /**
     * Like [`TaskSet::query`], with the ids of the page instead of the objects:
     * `{ids, total, limit, offset}`.
     */
    queryIds(params: QueryParams): IdPage;
    /**
     * Searches, filters, sorts and pages the tasks with the list parameters of
     * `GET /api/v1/{user_id}/tasks` (`search`, `status`, `priority`, `due_date_start`,
     * `due_date_end`, `tags`, `tags_mode`, `sort_by`, `sort_order`, `limit`, `offset`):
     * `{items, total, limit, offset}` with the loaded objects themselves as items. Throws the
     * server's field errors for invalid parameters.
     */
    query(params: QueryParams): Page;
    /**
     * Removes the task with this id; whether it was there.
     */
    remove(id: number): boolean;
    /**
     * Adds the task, or replaces the one with its id.
     */
    upsert(task: TaskRow): void;
    /**
     * How many tasks are loaded.
     */
    readonly size: number;
}

/**
 * Whether this build has validation and recurrence (the `full` feature); the query-only
 * module answers `false`.
 */
export function hasValidation(): boolean;

/**
 * The normalized form of list parameters, as `{name: value}` in the server's canonical
 * spelling (defaults left out), or the server's field errors.
 */
export function parseQuery(params: QueryParams): Record<string, string>;

/**
 * The crate's version (the workspace's).
 */
export function version(): string;

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly __wbg_taskset_free: (a: number, b: number) => void;
    readonly hasValidation: () => number;
    readonly parseQuery: (a: any) => [number, number, number];
    readonly taskset_get: (a: number, b: number) => any;
    readonly taskset_new: (a: any) => [number, number, number];
    readonly taskset_query: (a: number, b: any) => [number, number, number];
    readonly taskset_queryIds: (a: number, b: any) => [number, number, number];
    readonly taskset_remove: (a: number, b: number) => number;
    readonly taskset_size: (a: number) => number;
    readonly taskset_upsert: (a: number, b: any) => [number, number];
    readonly version: () => [number, number];
    readonly __wbindgen_malloc: (a: number, b: number) => number;
    readonly __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
    readonly __wbindgen_free: (a: number, b: number, c: number) => void;
    readonly __wbindgen_exn_store: (a: number) => void;
    readonly __externref_table_alloc: () => number;
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __externref_table_dealloc: (a: number) => void;
    readonly __wbindgen_start: () => void;
}

export type SyncInitInput = BufferSource | WebAssembly.Module;

/**
 * Instantiates the given `module`, which can either be bytes or
 * a precompiled `WebAssembly.Module`.
 *
 * @param {{ module: SyncInitInput }} module - Passing `SyncInitInput` directly is deprecated.
 *
 * @returns {InitOutput}
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/**
 * If `module_or_path` is {RequestInfo} or {URL}, makes a request and
 * for everything else, calls `WebAssembly.instantiate` directly.
 *
 * @param {{ module_or_path: InitInput | Promise<InitInput> }} module_or_path - Passing `InitInput` directly is deprecated.
 *
 * @returns {Promise<InitOutput>}
 */
export default function __wbg_init (module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;
