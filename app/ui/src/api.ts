// Typed wrappers of the shell's commands (app/tauri/src/commands.rs). Every failure is a
// UiError {code, message, detail}: `message` is plain Chinese and is what the screens show.
import { invoke } from "@tauri-apps/api/core";

export interface UiError {
  code: string;
  message: string;
  detail: string;
}

export type FieldValue = string | number | boolean | null;
export type Fields = Record<string, FieldValue>;
export type RecordRef =
  | { record: "building" }
  | { record: "household"; id: string }
  | { record: "item"; id: string };

export interface Account {
  id: string;
  name: string;
  role: string;
  scope: { kind: string; [k: string]: unknown };
}

export interface Pending {
  docs: number;
  photos: number;
}

export interface Status {
  account: Account | null;
  device_id: string | null;
  role_label: string | null;
  server_url: string | null;
  pending: Pending;
  open_conflicts: number;
  my_conflicts: number;
  last_sync_at: number | null;
  /// `YYYY-MM-DD HH:MM`, Asia/Shanghai (the core formats it: the phone may be in any zone).
  last_sync_local: string | null;
  revoked: string | null;
}

export interface SyncSummary {
  docs_sent: number;
  docs_received: number;
  refused: string[];
  open_conflicts: number;
  photos_uploaded: number;
  photos_pending: number;
  photo_error: string | null;
}

export interface Choice {
  code: string;
  label: string;
}

export interface Choices {
  building_uses: Choice[];
  occupancies: Choice[];
  survey_results: Choice[];
  categories: Choice[];
  positions: Choice[];
  awning_materials: Choice[];
  fire_grades: Choice[];
  grade_bases: Choice[];
  remediation_methods: Choice[];
  notice_methods: Choice[];
  item_fields: Choice[];
  escape: { min_width_m: number; min_height_m: number; max_sill_m: number };
}

export interface Place {
  community: string;
  community_name: string;
  street: string;
  street_name: string;
  unit: string;
}

export interface BuildingSummary {
  id: string;
  estate: string;
  number: string;
  address: string;
  use_label: string | null;
  floors: number | null;
  height_m: number | null;
  height_class: string;
  needs_height_check: boolean;
  households: number;
  surveyed: number;
  revisits: number;
  items: number;
  closed: number;
  overdue: number;
}

export interface HouseholdView {
  id: string;
  unit: string;
  floor: number | null;
  room: string;
  occupancy: string | null;
  survey_result: string | null;
  survey_label: string | null;
  owner_name: string | null;
  owner_phone: string | null;
  visit_attempts: number | null;
  items: number;
  /// Deleted on one phone while another recorded an item there: shown until the street decides.
  deleted: boolean;
  deleted_label: string | null;
}

export interface Revisit {
  building: string;
  estate: string;
  number: string;
  household: HouseholdView;
}

export interface PhotoView {
  hash: string;
  role: string;
  role_label: string;
}

export interface StepView {
  kind: string;
  label: string;
}

export interface HistoryEntry {
  kind: string;
  label: string;
  by: string;
  at: number;
  at_local: string;
  note: string;
  invalid: string | null;
}

export interface ItemView {
  id: string;
  building: string;
  household: string | null;
  place: string;
  household_deleted: boolean;
  category: string;
  category_label: string;
  fields: Fields;
  deleted: boolean;
  state: string | null;
  state_label: string | null;
  persuasion_count: number;
  forked: boolean;
  overdue: boolean;
  hazard: boolean;
  opening_shortfall: string | null;
  photos: PhotoView[];
  steps: StepView[];
  conflicts: number;
  history: HistoryEntry[];
}

export interface HeightClass {
  high_rise: boolean;
  needs_check: boolean;
}

export interface NewBuilding {
  community: string;
  estate: string;
  number: string;
  address: string;
  use: string;
  floors: number | null;
  height_m: number | null;
  units: number | null;
}

export interface StepInput {
  kind: string;
  note: string;
  photos: string[];
  detail: Record<string, unknown>;
}

export const api = {
  status: () => invoke<Status>("status"),
  serverReachable: () => invoke<boolean>("server_reachable"),
  enroll: (serverUrl: string, code: string, deviceName: string) =>
    invoke<Account>("enroll", { serverUrl, code, deviceName }),
  sync: () => invoke<SyncSummary>("sync"),
  wipe: () => invoke<{ buildings: number; unsynced: Pending }>("wipe"),
  choices: () => invoke<Choices>("choices"),
  places: () => invoke<Place[]>("places"),
  heightClass: (use: string, heightM: number | null, floors: number | null) =>
    invoke<HeightClass>("height_class", { buildingUse: use, heightM, floors }),
  openingShortfall: (width: number, height: number, sill: number, inside: boolean) =>
    invoke<string | null>("opening_shortfall", { width, height, sill, inside }),
  myBuildings: () => invoke<BuildingSummary[]>("my_buildings"),
  createBuilding: (building: NewBuilding) => invoke<string>("create_building", { building }),
  households: (building: string) => invoke<HouseholdView[]>("households", { building }),
  addHouseholdGrid: (building: string, units: number, floors: number, rooms: number) =>
    invoke<number>("add_household_grid", { building, units, floors, rooms }),
  addHousehold: (building: string, unit: string, floor: number, room: string) =>
    invoke<string>("add_household", { building, unit, floor, room }),
  setField: (building: string, record: RecordRef, key: string, value: FieldValue) =>
    invoke<null>("set_field", { building, record, key, value }),
  deleteRecord: (building: string, record: RecordRef) =>
    invoke<null>("delete_record", { building, record }),
  revisits: () => invoke<Revisit[]>("revisits"),
  items: (building: string, household: string | null) =>
    invoke<ItemView[]>("items", { building, household }),
  item: (building: string, item: string) => invoke<ItemView>("item", { building, item }),
  // The photo crosses as raw bytes (the request body), never as a base64 JSON string.
  ingestPhoto: (bytes: Uint8Array) => invoke<string>("ingest_photo", bytes),
  addItem: (
    building: string,
    item: { category: string; household: string | null; fields: Fields; photos: string[]; note: string },
  ) => invoke<string>("add_item", { building, item }),
  recordStep: (building: string, item: string, step: StepInput) =>
    invoke<string>("record_step", { building, item, step }),
  verificationList: () => invoke<ItemView[]>("verification_list"),
};

// Stored photos are shown by URL through the shell's `pwphoto:` protocol.
const photoBase = /android|windows/i.test(navigator.userAgent)
  ? "http://pwphoto.localhost/"
  : "pwphoto://localhost/";

export const thumbUrl = (hash: string) => `${photoBase}thumb/${hash}`;
export const photoUrl = (hash: string) => `${photoBase}${hash}`;

export function asUiError(e: unknown): UiError {
  if (e && typeof e === "object" && "message" in e && "code" in e) return e as UiError;
  return { code: "unknown", message: "出现未知错误，请重试。", detail: String(e) };
}
