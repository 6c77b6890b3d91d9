// 棚网 phone UI: app state, the always-visible status bar, automatic sync and navigation.
// Screens live in screens.ts; every call goes through api.ts to the shell's commands.
import "./style.css";
import { api, asUiError, Choices, Status, UiError } from "./api";
import { button, fill, h } from "./dom";
import { askWipe, renderScreen, Screen } from "./screens";

/// How often the app checks whether the server answers (and syncs when it does).
const PROBE_MS = 3000;

export const app = {
  status: null as Status | null,
  choices: null as Choices | null,
  online: false,
  syncing: false,
  error: null as UiError | null,
  notice: null as string | null,
  stack: [{ name: "buildings" }] as Screen[],
  renderToken: 0,
};

export function current(): Screen {
  return app.stack[app.stack.length - 1];
}

export function go(screen: Screen, replace = false): void {
  if (replace) app.stack.pop();
  app.stack.push(screen);
  window.scrollTo(0, 0);
  void render();
}

export function back(): void {
  if (app.stack.length > 1) app.stack.pop();
  window.scrollTo(0, 0);
  void render();
}

export function home(name: "buildings" | "revisits" | "verify" | "device"): void {
  app.stack = [{ name }];
  window.scrollTo(0, 0);
  void render();
}

export function showError(e: unknown): void {
  app.error = asUiError(e);
  if (app.error.code === "offline") app.online = false;
  renderStatus();
}

/// A short confirmation under the status bar; it goes away by itself.
export function showNotice(text: string): void {
  app.notice = text;
  app.error = null;
  renderStatus();
  setTimeout(() => {
    if (app.notice === text) {
      app.notice = null;
      renderStatus();
    }
  }, 4000);
}

export function isStreet(): boolean {
  const role = app.status?.account?.role;
  return role === "street_checker" || role === "unit_lead" || role === "city";
}

export async function refreshStatus(): Promise<void> {
  try {
    app.status = await api.status();
  } catch (e) {
    app.error = asUiError(e);
  }
  renderStatus();
}

/// After every local change: the status counts change, and a reachable server gets it soon.
export async function changed(): Promise<void> {
  await refreshStatus();
  if (app.online) setTimeout(() => void syncNow(), 300);
}

function pendingAny(): boolean {
  const p = app.status?.pending;
  return !!p && p.docs + p.photos > 0;
}

/// Whether the user is typing or choosing in a field: a redraw would throw that away.
function editing(): boolean {
  const el = document.activeElement;
  return !!el && ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName);
}

export async function syncNow(): Promise<void> {
  if (app.syncing || !app.status?.account || app.status.revoked) return;
  app.syncing = true;
  renderStatus();
  let received = 0;
  try {
    const report = await api.sync();
    received = report.docs_received;
    app.online = true;
    app.error = null;
    if (report.refused.length > 0) {
      app.error = {
        code: "refused",
        message: `服务器拒收了 ${report.refused.length} 栋楼的修改，请联系管理员。`,
        detail: report.refused.join("\n"),
      };
    } else if (report.photo_error) {
      app.error = {
        code: "photo_upload",
        message: "照片上传中断，稍后会自动继续。",
        detail: report.photo_error,
      };
    }
  } catch (e) {
    showError(e);
  } finally {
    app.syncing = false;
  }
  await refreshStatus();
  // Redraw the screen only when the server sent something new (本机 shows the sync itself), and
  // never under the user's fingers. A revocation locks the screen's edit controls at once.
  const shown = current().name;
  if ((received > 0 || shown === "device" || app.status?.revoked) && !current().form && !editing()) void render();
}

async function probe(): Promise<void> {
  const s = app.status;
  if (!s?.account || s.revoked || app.syncing) return;
  const was = app.online;
  app.online = await api.serverReachable();
  if (app.online && (!was || pendingAny())) {
    await syncNow();
  } else {
    renderStatus();
  }
}

function syncText(): { text: string; cls: string } {
  const s = app.status;
  if (!s?.account) return { text: "未注册", cls: "muted" };
  if (s.revoked) return { text: "本机已停用", cls: "bad" };
  if (app.syncing) return { text: "同步中…", cls: "busy" };
  if (pendingAny()) return { text: "未同步", cls: "warn" };
  if (s.last_sync_at === null) return { text: "尚未同步", cls: "muted" };
  return { text: "已同步", cls: "ok" };
}

export function renderStatus(): void {
  const bar = document.getElementById("status-bar");
  if (!bar) return;
  const s = app.status;
  const sync = syncText();
  const pending = s?.pending ?? { docs: 0, photos: 0 };
  const conflicts = s?.my_conflicts ?? 0;
  fill(
    bar,
    h(
      "div",
      { class: "status-row" },
      h(
        "span",
        { id: "net-state", class: `net ${app.online ? "online" : "offline"}` },
        app.online ? "在线" : "离线",
      ),
      h(
        "span",
        { id: "sync-state", class: `sync ${sync.cls}` },
        sync.text,
        pendingAny()
          ? h(
              "span",
              { class: "counts" },
              h("b", { id: "pending-docs" }, pending.docs),
              " 项修改 ",
              h("b", { id: "pending-photos" }, pending.photos),
              " 张照片",
            )
          : null,
      ),
      conflicts > 0
        ? h(
            "span",
            { id: "conflict-badge", class: "badge bad", title: `您登记的隐患有 ${conflicts} 处冲突` },
            `冲突 ${conflicts}`,
          )
        : null,
      s?.account && !s.revoked
        ? button("sync-btn", app.syncing ? "同步中" : "同步", () => void syncNow(), "btn small")
        : null,
    ),
    s?.revoked
      ? h(
          "div",
          { id: "revoked-banner", class: "banner bad" },
          h("p", {}, "本机已被服务器停用，同步已停止。修改不会再上传。"),
          h("p", { class: "muted small" }, "请联系管理员重新发放注册码；如要交还手机，可清除本机数据。"),
          button("revoked-wipe", "清除本机数据", askWipe, "btn danger"),
        )
      : null,
    app.error && !(s?.revoked && app.error.code === "revoked")
      ? h(
          "div",
          { id: "error", class: "banner bad", onclick: () => ((app.error = null), renderStatus()) },
          h("p", {}, app.error.message),
          app.error.detail
            ? h("details", { class: "detail", onclick: (e: Event) => e.stopPropagation() }, h("summary", {}, "技术详情"), app.error.detail)
            : null,
        )
      : null,
    app.notice && !app.error
      ? h(
          "div",
          { id: "notice", class: "banner ok", onclick: () => ((app.notice = null), renderStatus()) },
          app.notice,
        )
      : null,
  );
}

function tabs(): HTMLElement {
  const name = app.stack[0].name;
  const tab = (id: string, target: "buildings" | "revisits" | "verify" | "device", label: string) =>
    h("button", { id, type: "button", class: `tab ${name === target ? "active" : ""}`, onclick: () => home(target) }, label);
  return h(
    "nav",
    { id: "tabs" },
    tab("tab-buildings", "buildings", "楼栋"),
    tab("tab-revisits", "revisits", "待复访"),
    isStreet() ? tab("tab-verify", "verify", "核查") : null,
    tab("tab-device", "device", "本机"),
  );
}

export async function render(): Promise<void> {
  const root = document.getElementById("app");
  if (!root) return;
  const token = ++app.renderToken;
  renderStatus();
  let content: HTMLElement;
  try {
    content = await renderScreen(app.status?.account ? current() : { name: "enroll", form: true });
  } catch (e) {
    showError(e);
    content = h("section", {}, h("p", { class: "muted" }, "无法显示此页面。"), button("back", "返回", back, "btn"));
  }
  if (token !== app.renderToken) return;
  if (app.status?.revoked) lockEdits(content);
  root.replaceChildren(content, app.status?.account ? tabs() : h("span"));
}

/// The controls that change records (ids, or id prefixes ending in "-").
const EDIT_CONTROLS = [
  "add-building", "save-building", "gen-grid", "add-one", "sr-", "visit-plus", "add-awning", "add-net",
  "delete-household", "save-item", "step-", "edit-item", "submit-step", "close-", "return-",
];

/// A revoked phone refuses edits (the core says revoked_read_only): its screens say so and
/// disable every control that would change a record; looking around and wiping stay possible.
function lockEdits(content: HTMLElement): void {
  let locked = 0;
  for (const el of content.querySelectorAll<HTMLButtonElement | HTMLInputElement>("button, input, select, textarea")) {
    const id = el.id;
    const edit =
      el.tagName !== "BUTTON" || EDIT_CONTROLS.some((c) => (c.endsWith("-") ? id.startsWith(c) : id === c));
    if (edit) {
      el.disabled = true;
      locked++;
    }
  }
  for (const label of content.querySelectorAll<HTMLElement>("label.camera")) label.classList.add("disabled");
  if (locked > 0) {
    const note = h("p", { id: "readonly-note", class: "banner bad small" }, "本机已停用，不能再登记或修改。如需继续工作，请向管理员索取新的注册码。");
    const heading = content.querySelector(".title");
    if (heading) heading.after(note);
    else content.prepend(note);
  }
}

async function start(): Promise<void> {
  await refreshStatus();
  try {
    app.choices = await api.choices();
  } catch (e) {
    showError(e);
  }
  await render();
  setInterval(() => void probe(), PROBE_MS);
  void probe();
}

void start();
