//! The TypeScript types of the arguments and results (wasm-bindgen copies this text into the
//! generated `.d.ts`).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
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
"#;
