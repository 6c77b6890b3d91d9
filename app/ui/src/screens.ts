// The screens. Each one reads what it shows from the shell and returns its element.
import {
  api,
  asUiError,
  BuildingSummary,
  Choice,
  Fields,
  FieldValue,
  HouseholdView,
  ItemView,
  photoUrl,
  thumbUrl,
} from "./api";
import { button, checked, field, fill, h, input, num, select, value } from "./dom";
import { app, back, changed, go, home, isStreet, refreshStatus, render, renderStatus, showError, showNotice } from "./main";

export type Screen =
  | { name: "enroll"; form?: boolean }
  | { name: "buildings"; form?: boolean }
  | { name: "addBuilding"; form?: boolean }
  | { name: "building"; id: string; form?: boolean }
  | { name: "household"; building: string; household: string | null; form?: boolean }
  | { name: "itemForm"; building: string; household: string | null; category: string; item?: ItemView; form?: boolean }
  | { name: "item"; building: string; item: string; form?: boolean }
  | { name: "step"; building: string; item: string; kind: string; label: string; form?: boolean }
  | { name: "revisits"; form?: boolean }
  | { name: "verify"; form?: boolean }
  | { name: "device"; form?: boolean };

export async function renderScreen(s: Screen): Promise<HTMLElement> {
  switch (s.name) {
    case "enroll":
      return enrollScreen();
    case "buildings":
      return buildingsScreen();
    case "addBuilding":
      return addBuildingScreen();
    case "building":
      return buildingScreen(s.id);
    case "household":
      return householdScreen(s.building, s.household);
    case "itemForm":
      return itemFormScreen(s.building, s.household, s.category, s.item);
    case "item":
      return itemScreen(s.building, s.item);
    case "step":
      return stepScreen(s.building, s.item, s.kind, s.label);
    case "revisits":
      return revisitsScreen();
    case "verify":
      return verifyScreen();
    case "device":
      return deviceScreen();
  }
}

const choices = () => app.choices!;
const labelOf = (list: Choice[], code: FieldValue | undefined) =>
  list.find((c) => c.code === code)?.label ?? (code === undefined || code === null ? "" : String(code));

function title(text: string, withBack = true, extra: HTMLElement | null = null): HTMLElement {
  return h(
    "div",
    { class: "title" },
    withBack ? button("back", "‹ 返回", back, "btn back") : null,
    h("h1", {}, text),
    extra,
  );
}

async function busy<T>(btn: HTMLElement, work: () => Promise<T>): Promise<T | undefined> {
  const b = btn as HTMLButtonElement;
  b.disabled = true;
  try {
    return await work();
  } catch (e) {
    showError(e);
    return undefined;
  } finally {
    b.disabled = false;
  }
}

// ── Enrollment ───────────────────────────────────────────────────────────────

function enrollScreen(): HTMLElement {
  const go = button("enroll-btn", "注册本机", () =>
    void busy(go, async () => {
      // A new attempt: the last attempt's error no longer applies.
      app.error = null;
      app.notice = null;
      renderStatus();
      go.textContent = "正在连接服务器…";
      let account;
      try {
        account = await api.enroll(value("server-url"), value("enroll-code"), value("device-name") || "我的手机");
      } finally {
        go.textContent = "注册本机";
      }
      showNotice(`注册成功：${account.name}`);
      app.stack = [{ name: "buildings" }];
      await refreshStatus();
      await render();
    }),
  "btn primary wide");
  return h(
    "section",
    { id: "enroll" },
    h("h1", { class: "brand" }, "棚网"),
    h("p", { class: "muted" }, "高层建筑外墙可燃雨棚、突出防护网排查整治"),
    field("服务器地址", input("server-url", { type: "url", placeholder: "例如 http://192.168.1.10:8080", autocomplete: "off" })),
    field("注册码", input("enroll-code", { placeholder: "管理员发给您的一次性注册码", autocomplete: "off" })),
    field("本机名称", input("device-name", { value: "我的手机" })),
    go,
    h("p", { class: "muted small" }, "注册码只能使用一次。注册后，离线时也能登记，联网后自动同步。"),
  );
}

// ── My buildings ─────────────────────────────────────────────────────────────

function progress(done: number, total: number): HTMLElement {
  const pct = total === 0 ? 0 : Math.round((done * 100) / total);
  return h("div", { class: "progress" }, h("div", { class: "bar", style: `width:${pct}%` }));
}

function buildingCard(b: BuildingSummary): HTMLElement {
  return h(
    "button",
    { type: "button", class: "card", id: `building-${b.id}`, "data-building": b.id, onclick: () => go({ name: "building", id: b.id }) },
    h(
      "div",
      { class: "card-title" },
      h("span", {}, `${b.estate} ${b.number}`),
      h("span", { class: `badge ${b.height_class === "高层" ? "high" : ""}` }, b.height_class),
      b.needs_height_check ? h("span", { class: "badge warn" }, "需核实高度") : null,
      b.overdue > 0 ? h("span", { class: "badge bad overdue" }, `逾期 ${b.overdue}`) : null,
    ),
    b.address ? h("div", { class: "muted small" }, b.address) : null,
    h("div", { class: "small" }, `已排查 ${b.surveyed}/${b.households} 户 · 隐患 ${b.items} 处 · 已销号 ${b.closed}`),
    progress(b.surveyed, b.households),
    b.revisits > 0 ? h("div", { class: "small warn-text" }, `待复访 ${b.revisits} 户`) : null,
  );
}

async function buildingsScreen(): Promise<HTMLElement> {
  const list = await api.myBuildings();
  const s = app.status!;
  return h(
    "section",
    { id: "buildings" },
    title("我的楼栋", false, h("span", { class: "muted small who" }, `${s.account!.name} · ${s.role_label ?? ""}`)),
    button("add-building", "＋ 新增楼栋", () => go({ name: "addBuilding", form: true }), "btn primary wide"),
    list.length === 0
      ? h("p", { class: "muted empty" }, "还没有楼栋。点“新增楼栋”开始排查。")
      : h("div", { class: "cards" }, ...list.map(buildingCard)),
  );
}

// ── Add a building ───────────────────────────────────────────────────────────

async function addBuildingScreen(): Promise<HTMLElement> {
  const places = await api.places();
  const placeChoices = places.map((p) => ({ code: p.community, label: `${p.street_name.replace(/街道$|镇$/, "")} · ${p.community_name.replace(/社区居民委员会$|居民委员会$/, "社区")}` }));
  const klass = h("div", { id: "b-class", class: "class-preview" }, "填写层数或高度后显示高层/多层");
  const update = async () => {
    const use = value("b-use");
    if (!use) return;
    const c = await api.heightClass(use, num("b-height"), num("b-floors"));
    fill(
      klass,
      h("span", { class: `badge ${c.high_rise ? "high" : ""}`, id: "b-class-label" }, c.high_rise ? "高层" : "多层"),
      c.needs_check ? h("span", { class: "badge warn", id: "b-needs-check" }, "需核实高度") : null,
    );
  };
  const community = select("b-community", placeChoices, places.length === 1 ? places[0].community : null, "选择社区");
  const use = select("b-use", choices().building_uses, "residential");
  const floors = input("b-floors", { type: "number", inputmode: "numeric", min: 1 });
  const height = input("b-height", { type: "number", inputmode: "decimal", step: "0.1", placeholder: "不清楚可不填" });
  for (const el of [use, floors, height]) el.addEventListener("input", () => void update());
  const save = button("save-building", "保存楼栋", () =>
    void busy(save, async () => {
      if (!value("b-community") || !value("b-estate") || !value("b-number")) {
        showError({ code: "invalid", message: "请填写社区、小区和楼栋号。", detail: "" });
        return;
      }
      const id = await api.createBuilding({
        community: value("b-community"),
        estate: value("b-estate"),
        number: value("b-number"),
        address: value("b-address"),
        use: value("b-use") || "residential",
        floors: num("b-floors"),
        height_m: num("b-height"),
        units: num("b-units"),
      });
      await changed();
      go({ name: "building", id }, true);
    }),
  "btn primary wide");
  setTimeout(() => void update(), 0);
  return h(
    "section",
    { id: "add-building-form" },
    title("新增楼栋"),
    field("社区", community),
    field("小区", input("b-estate", { placeholder: "如 阳光花园" })),
    field("楼栋号", input("b-number", { placeholder: "如 3栋" })),
    field("地址", input("b-address", { placeholder: "街路门牌" })),
    field("用途", use),
    h("div", { class: "row" }, field("地上层数", floors), field("高度(米)", height)),
    field("单元数", input("b-units", { type: "number", inputmode: "numeric", min: 1 })),
    klass,
    h("p", { class: "muted small" }, "住宅高于27米、其他建筑高于24米为高层；不知道高度时按层数推定，临界层数标“需核实高度”。"),
    save,
  );
}

// ── A building: households ───────────────────────────────────────────────────

const resultClass: Record<string, string> = { no_hazard: "ok", hazard: "bad", not_reached: "warn" };

function householdGrid(building: string, households: HouseholdView[]): HTMLElement {
  const units = [...new Set(households.map((x) => x.unit))];
  return h(
    "div",
    { id: "household-grid" },
    ...units.map((u) => {
      const inUnit = households.filter((x) => x.unit === u);
      const floors = [...new Set(inUnit.map((x) => x.floor ?? 0))].sort((a, b) => b - a);
      return h(
        "div",
        { class: "unit" },
        h("h3", {}, `${u || "—"}单元`),
        ...floors.map((f) =>
          h(
            "div",
            { class: "floor" },
            h("span", { class: "floor-no" }, `${f}层`),
            ...inUnit
              .filter((x) => (x.floor ?? 0) === f)
              .map((x) =>
                h(
                  "button",
                  {
                    type: "button",
                    id: `hh-${u}-${x.room}`,
                    class: `room ${resultClass[x.survey_result ?? ""] ?? ""} ${x.deleted ? "held" : ""}`,
                    title: x.deleted_label ?? x.survey_label ?? "未排查",
                    onclick: () => go({ name: "household", building, household: x.id }),
                  },
                  x.room,
                  x.items > 0 ? h("sup", {}, x.items) : null,
                  x.deleted ? h("span", { class: "held-mark" }, "已删") : null,
                ),
              ),
          ),
        ),
      );
    }),
  );
}

async function buildingScreen(id: string): Promise<HTMLElement> {
  const [list, households] = await Promise.all([api.myBuildings(), api.households(id)]);
  const b = list.find((x) => x.id === id);
  if (!b) throw { code: "not_found", message: "找不到这栋楼。", detail: id };
  const gen = button("gen-grid", "生成户表", () =>
    void busy(gen, async () => {
      const units = num("g-units") ?? 0;
      const floors = num("g-floors") ?? 0;
      const rooms = num("g-rooms") ?? 0;
      const added = await api.addHouseholdGrid(id, units, floors, rooms);
      showNotice(`已生成 ${added} 户`);
      await changed();
      await render();
    }),
  "btn primary");
  const addOne = button("add-one", "添加", () =>
    void busy(addOne, async () => {
      await api.addHousehold(id, value("one-unit"), num("one-floor") ?? 1, value("one-room"));
      await changed();
      await render();
    }),
  "btn");
  return h(
    "section",
    { id: "building" },
    title(`${b.estate} ${b.number}`),
    h(
      "div",
      { class: "badges" },
      h("span", { class: `badge ${b.height_class === "高层" ? "high" : ""}` }, b.height_class),
      b.needs_height_check ? h("span", { class: "badge warn" }, "需核实高度") : null,
      b.overdue > 0 ? h("span", { class: "badge bad" }, `逾期 ${b.overdue}`) : null,
      h("span", { class: "muted small" }, [b.use_label, b.floors ? `${b.floors}层` : null, b.height_m ? `${b.height_m}米` : null].filter(Boolean).join(" · ")),
    ),
    h("div", { class: "small" }, `已排查 ${b.surveyed}/${b.households} 户 · 隐患 ${b.items} 处 · 已销号 ${b.closed} · 待复访 ${b.revisits}`),
    progress(b.surveyed, b.households),
    h(
      "details",
      { class: "panel", open: households.length === 0 },
      h("summary", {}, "按 单元 × 楼层 × 每层户数 生成户表"),
      h(
        "div",
        { class: "row3" },
        field("单元数", input("g-units", { type: "number", inputmode: "numeric", min: 1, value: 1 })),
        field("层数", input("g-floors", { type: "number", inputmode: "numeric", min: 1, value: b.floors ?? "" })),
        field("每层户数", input("g-rooms", { type: "number", inputmode: "numeric", min: 1, value: 2 })),
      ),
      gen,
      h("p", { class: "muted small" }, "房号按“楼层+两位序号”生成（如 101、1802），已有的不会重复添加。"),
    ),
    households.length > 0
      ? h(
          "div",
          { class: "legend small" },
          h("span", { class: "room" }, "未排查"),
          h("span", { class: "room ok" }, "无隐患"),
          h("span", { class: "room bad" }, "有隐患"),
          h("span", { class: "room warn" }, "待复访"),
        )
      : null,
    householdGrid(id, households),
    ...households
      .filter((x) => x.deleted)
      .map((x) =>
        h("p", { class: "bad-text small held-note", id: `held-${x.unit}-${x.room}` }, `${x.unit}单元 ${x.room}：${x.deleted_label ?? ""}`),
      ),
    h(
      "details",
      { class: "panel" },
      h("summary", {}, "添加单户"),
      h(
        "div",
        { class: "row3" },
        field("单元", input("one-unit", { value: "1" })),
        field("楼层", input("one-floor", { type: "number", inputmode: "numeric" })),
        field("房号", input("one-room")),
      ),
      addOne,
    ),
    button("common-items", "公共部位隐患（楼道、屋顶等）", () => go({ name: "household", building: id, household: null }), "btn wide"),
  );
}

// ── A household ──────────────────────────────────────────────────────────────

function itemCard(building: string, it: ItemView): HTMLElement {
  const before = it.photos.find((p) => p.role === "before");
  return h(
    "button",
    { type: "button", class: "card item-card", id: `item-${it.id}`, onclick: () => go({ name: "item", building, item: it.id }) },
    before ? h("img", { class: "thumb", src: thumbUrl(before.hash), alt: "整改前照片" }) : h("div", { class: "thumb empty" }, "无照片"),
    h(
      "div",
      {},
      h("div", { class: "card-title" }, h("span", {}, it.category_label), it.conflicts > 0 ? h("span", { class: "badge bad" }, "有冲突") : null),
      h("div", { class: "small" }, `${labelOf(choices().positions, it.fields.position)} ${it.state_label ?? ""}`),
      it.overdue ? h("span", { class: "badge bad" }, "逾期") : null,
    ),
  );
}

async function householdScreen(building: string, household: string | null): Promise<HTMLElement> {
  const items = await api.items(building, household);
  const addAwning = button("add-awning", "＋ 雨棚", () => go({ name: "itemForm", building, household, category: "awning", form: true }), "btn primary");
  const addNet = button("add-net", "＋ 防护网", () => go({ name: "itemForm", building, household, category: "net", form: true }), "btn primary");
  const itemsPart = [
    h("h2", {}, `隐患（${items.length}）`),
    h("div", { class: "cards" }, ...items.map((it) => itemCard(building, it))),
    h("div", { class: "row" }, addAwning, addNet),
  ];
  if (household === null) {
    return h("section", { id: "household" }, title("公共部位"), ...itemsPart);
  }
  const households = await api.households(building);
  const x = households.find((y) => y.id === household);
  if (!x) throw { code: "not_found", message: "找不到这一户。", detail: household };
  const record = { record: "household" as const, id: household };
  // Each field saves on its own and the form is never redrawn under the user's fingers: only the
  // parts the saved value changes are updated, so focus and text being typed elsewhere stay.
  const saved = h("span", { id: "h-saved", class: "muted small" });
  const set = async (key: string, v: FieldValue): Promise<boolean> => {
    try {
      await api.setField(building, record, key, v);
      saved.textContent = "已保存";
      await changed();
      return true;
    } catch (e) {
      showError(e);
      return false;
    }
  };
  const onChange = (el: HTMLElement, key: string, after?: (v: string) => void) => {
    el.addEventListener("change", () =>
      void (async () => {
        const text = (el as HTMLInputElement).value.trim();
        if ((await set(key, text === "" ? null : text)) && after) after(text);
      })(),
    );
    return el;
  };
  const heading = title(`${x.unit}单元 ${x.room}`);
  const results = choices().survey_results.map((r) =>
    h(
      "button",
      {
        type: "button",
        id: `sr-${r.code}`,
        class: `btn choice ${resultClass[r.code]} ${x.survey_result === r.code ? "selected" : ""}`,
        onclick: () =>
          void (async () => {
            if (!(await set("survey_result", r.code))) return;
            for (const b of results) b.classList.toggle("selected", b.id === `sr-${r.code}`);
          })(),
      },
      r.label,
    ),
  );
  let visits = x.visit_attempts ?? 0;
  const visitText = h("span", { id: "visit-count" }, `入户次数：${visits}`);
  // Owner name and phone are shown masked (placeholder); what was typed stays in the field.
  const owner = (id: string, key: string, masked: string | null, type = "text") =>
    onChange(input(id, { type, placeholder: masked ?? "" }), key);
  return h(
    "section",
    { id: "household" },
    heading,
    x.deleted
      ? h(
          "div",
          { id: "household-held", class: "banner bad" },
          h("p", {}, x.deleted_label ?? "已删除，但仍有隐患 — 待街道裁定"),
          h("p", { class: "small" }, "这一户在另一台手机上被删除，但这里仍登记有隐患。隐患照常处理，是否删除由街道裁定。"),
        )
      : null,
    h("h2", {}, "排查结果 ", saved),
    h("div", { class: "choice-row" }, ...results),
    h(
      "div",
      { class: "row" },
      field(
        "房号",
        onChange(input("h-room", { value: x.room }), "room", (room) => {
          const h1 = heading.querySelector("h1");
          if (h1) h1.textContent = `${x.unit}单元 ${room}`;
        }),
      ),
      field("使用情况", onChange(select("h-occupancy", choices().occupancies, x.occupancy), "occupancy")),
    ),
    h(
      "div",
      { class: "row" },
      field("业主姓名(选填)", owner("h-owner", "owner_name", x.owner_name)),
      field("电话(选填)", owner("h-phone", "owner_phone", x.owner_phone, "tel")),
    ),
    h(
      "div",
      { class: "row visits" },
      visitText,
      button("visit-plus", "＋1 次", () =>
        void (async () => {
          if (!(await set("visit_attempts", visits + 1))) return;
          visits += 1;
          visitText.textContent = `入户次数：${visits}`;
        })(),
      "btn small"),
    ),
    ...itemsPart,
    x.items === 0 && !x.deleted
      ? button("delete-household", "删除此户（录错时）", () => askDeleteHousehold(building, record, `${x.unit}单元 ${x.room}`), "btn wide")
      : null,
  );
}

/// Asks before deleting a household recorded by mistake (the same dialog as the wipe).
function askDeleteHousehold(building: string, record: { record: "household"; id: string }, name: string): void {
  const root = document.getElementById("modal-root")!;
  const confirm = button("delete-confirm", "确认删除", () =>
    void busy(confirm, async () => {
      await api.deleteRecord(building, record);
      root.replaceChildren();
      showNotice(`已删除 ${name}`);
      await changed();
      back();
    }),
  "btn danger");
  root.replaceChildren(
    h(
      "div",
      { class: "modal", id: "delete-modal" },
      h(
        "div",
        { class: "modal-box" },
        h("h2", {}, `删除 ${name}？`),
        h("p", { id: "delete-warning" }, "只在这一户是录错时删除。删除后它不再出现在户表里，同步后其他手机上也会消失。"),
        h("div", { class: "row" }, button("delete-cancel", "取消", () => root.replaceChildren(), "btn"), confirm),
      ),
    ),
  );
}

// ── Add or edit an item ──────────────────────────────────────────────────────

async function readPhoto(el: HTMLInputElement): Promise<string | null> {
  const file = el.files?.[0];
  if (!file) return null;
  const bytes = new Uint8Array(await file.arrayBuffer());
  return api.ingestPhoto(bytes);
}

/// A camera input (the phone opens the camera; the desktop a file picker) and the photos taken.
function photoPicker(photos: string[], label: string, onChange: () => void): HTMLElement {
  const list = h("div", { id: "photo-list", class: "photos" });
  const redraw = () =>
    list.replaceChildren(...photos.map((p) => h("img", { class: "thumb", src: thumbUrl(p), alt: label, "data-hash": p })));
  const picker = input("photo-input", { type: "file", accept: "image/*", capture: "environment", class: "file" });
  const status = h("span", { id: "photo-status", class: "muted small" }, photos.length ? `已拍 ${photos.length} 张` : "");
  picker.addEventListener("change", async () => {
    status.textContent = "正在处理照片…";
    try {
      const hash = await readPhoto(picker);
      if (hash && !photos.includes(hash)) photos.push(hash);
      status.textContent = `已拍 ${photos.length} 张`;
      status.className = "muted small";
      // The photo that failed before is replaced: its error no longer applies.
      if (app.error?.code === "invalid_photo") {
        app.error = null;
        renderStatus();
      }
    } catch (e) {
      const err = asUiError(e);
      status.textContent = err.message;
      status.className = "bad-text small";
      showError(err);
    }
    picker.value = "";
    redraw();
    onChange();
  });
  redraw();
  return h(
    "div",
    { class: "photo-picker" },
    h("label", { class: "btn camera", for: "photo-input" }, `拍摄${label}`),
    picker,
    status,
    list,
  );
}

function openingCheck(prefix: string): HTMLElement {
  const e = choices().escape;
  const out = h("div", { id: `${prefix}-opening-result`, class: "opening-result muted small" }, `要求：宽≥${e.min_width_m}米，高≥${e.min_height_m}米，窗台≤${e.max_sill_m}米，能从内开启`);
  const update = async () => {
    const [w, hh, s] = [num(`${prefix}-ow`), num(`${prefix}-oh`), num(`${prefix}-os`)];
    if (w === null || hh === null || s === null) return;
    const why = await api.openingShortfall(w, hh, s, checked(`${prefix}-oi`));
    out.className = `opening-result ${why ? "bad" : "ok"}`;
    out.textContent = why ? `不符合逃生口要求：${why}` : "符合逃生口要求";
  };
  setTimeout(() => {
    for (const k of ["ow", "oh", "os", "oi"]) document.getElementById(`${prefix}-${k}`)?.addEventListener("input", () => void update());
    void update();
  }, 0);
  return out;
}

function openingFields(prefix: string, f: Fields = {}): HTMLElement[] {
  const n = (id: string, v: FieldValue | undefined) =>
    input(id, { type: "number", inputmode: "decimal", step: "0.01", value: typeof v === "number" ? v : "" });
  return [
    h(
      "div",
      { class: "row3" },
      field("逃生口宽(米)", n(`${prefix}-ow`, f.opening_width_m)),
      field("高(米)", n(`${prefix}-oh`, f.opening_height_m)),
      field("窗台高(米)", n(`${prefix}-os`, f.opening_sill_m)),
    ),
    h("label", { class: "check" }, input(`${prefix}-oi`, { type: "checkbox", checked: f.opening_inside === true }), " 能从室内开启"),
    openingCheck(prefix),
  ];
}

function itemFields(category: string): Fields {
  const f: Fields = {
    position: value("i-position") || null,
    facade: value("i-facade") || null,
    count: num("i-count"),
    area_m2: num("i-area"),
    length_m: num("i-length"),
    material: value("i-material") || null,
    material_note: value("i-material-note") || null,
    note: value("i-note") || null,
  };
  if (category === "awning") {
    f.fire_grade = value("i-grade") || null;
    f.grade_basis = value("i-basis") || null;
  } else {
    f.protrusion_cm = num("i-protrusion");
    f.fully_enclosed = checked("i-enclosed");
    f.opening_width_m = num("i-ow");
    f.opening_height_m = num("i-oh");
    f.opening_sill_m = num("i-os");
    f.opening_inside = num("i-ow") === null ? null : checked("i-oi");
  }
  return f;
}

function itemFormScreen(building: string, household: string | null, category: string, editing?: ItemView): HTMLElement {
  const f: Fields = editing?.fields ?? {};
  const c = choices();
  const photos: string[] = [];
  const save = button("save-item", editing ? "保存修改" : "保存隐患", () =>
    void busy(save, async () => {
      const fields = itemFields(category);
      if (editing) {
        for (const [k, v] of Object.entries(fields)) {
          const old = f[k] ?? null;
          if (v !== old && !(v === null && old === undefined)) await api.setField(building, { record: "item", id: editing.id }, k, v);
        }
        await changed();
        back();
        return;
      }
      for (const k of Object.keys(fields)) if (fields[k] === null) delete fields[k];
      const id = await api.addItem(building, { category, household, fields, photos, note: "" });
      await changed();
      go({ name: "item", building, item: id }, true);
    }),
  "btn primary wide");
  const refreshSave = () => {
    if (editing) return;
    (save as HTMLButtonElement).disabled = photos.length === 0;
    save.textContent = photos.length === 0 ? "请先拍摄整改前照片" : "保存隐患";
  };
  refreshSave();
  const num_ = (id: string, v: FieldValue | undefined, step = "0.1") =>
    input(id, { type: "number", inputmode: "decimal", step, value: typeof v === "number" ? v : "" });
  const awning = category === "awning";
  return h(
    "section",
    { id: "item-form" },
    title(`${editing ? "修改" : "登记"}${awning ? "可燃雨棚" : "突出外墙防护网"}`),
    field("位置", select("i-position", c.positions, (f.position as string) ?? null)),
    h("div", { class: "row" }, field("立面", input("i-facade", { value: (f.facade as string) ?? "", placeholder: "如 南面" })), field("数量", num_("i-count", f.count ?? 1, "1"))),
    h("div", { class: "row" }, field("面积(㎡)", num_("i-area", f.area_m2)), field("长度(米)", num_("i-length", f.length_m))),
    field("材质", select("i-material", c.awning_materials, (f.material as string) ?? null)),
    field("材质说明(选“其他”时填)", input("i-material-note", { value: (f.material_note as string) ?? "" })),
    ...(awning
      ? [
          field("燃烧性能等级", select("i-grade", c.fire_grades, (f.fire_grade as string) ?? null)),
          field("等级依据", select("i-basis", c.grade_bases, (f.grade_basis as string) ?? null)),
          h("p", { class: "muted small" }, "B2、B3 级或等级未知的雨棚是隐患。"),
        ]
      : [
          h("div", { class: "row" }, field("外凸(厘米)", num_("i-protrusion", f.protrusion_cm, "1")), h("label", { class: "check" }, input("i-enclosed", { type: "checkbox", checked: f.fully_enclosed === true }), " 全封闭")),
          ...openingFields("i", f),
        ]),
    field("备注", input("i-note", { value: (f.note as string) ?? "" })),
    editing ? null : photoPicker(photos, "整改前照片", refreshSave),
    save,
  );
}

// ── An item ──────────────────────────────────────────────────────────────────

function fieldRows(it: ItemView): HTMLElement {
  const c = choices();
  const lists: Record<string, Choice[]> = {
    position: c.positions,
    material: c.awning_materials,
    fire_grade: c.fire_grades,
    grade_basis: c.grade_bases,
    remediation_method: c.remediation_methods,
  };
  const shown = Object.entries(it.fields).filter(([k]) => !["created_by", "deleted"].includes(k));
  return h(
    "dl",
    { class: "fields" },
    ...shown.flatMap(([k, v]) => [
      h("dt", {}, labelOf(c.item_fields, k)),
      h("dd", {}, typeof v === "boolean" ? (v ? "是" : "否") : lists[k] ? labelOf(lists[k], v) : String(v)),
    ]),
  );
}

/// Before and after photos side by side. With `max`, a column shows at most that many (the
/// first one large, the rest small in a row) and says how many more there are.
export function photoPair(it: ItemView, max?: number): HTMLElement {
  const col = (role: string, label: string) => {
    const all = it.photos.filter((p) => p.role === role);
    const ps = max === undefined ? all : all.slice(0, max);
    const more = all.length - ps.length;
    const img = (p: { hash: string }, cls: string) =>
      h("a", { href: photoUrl(p.hash), target: "_blank" }, h("img", { class: cls, src: thumbUrl(p.hash), alt: label, "data-role": role }));
    return h(
      "div",
      { class: `photo-col ${role}` },
      h("div", { class: "small muted" }, all.length > 1 ? `${label}（${all.length}）` : label),
      ps.length === 0
        ? h("div", { class: "photo empty" }, "暂无")
        : max === undefined
          ? ps.map((p) => img(p, "photo"))
          : [
              img(ps[0], "photo"),
              ps.length > 1 || more > 0
                ? h("div", { class: "photo-row" }, ...ps.slice(1).map((p) => img(p, "photo mini")), more > 0 ? h("span", { class: "more small muted" }, `另 ${more} 张`) : null)
                : null,
            ],
    );
  };
  const others = it.photos.filter((p) => p.role !== "before" && p.role !== "after");
  return h(
    "div",
    { class: "photo-pair" },
    col("before", "整改前"),
    col("after", "整改后"),
    others.length ? col(others[0].role, others[0].role_label) : null,
  );
}

async function itemScreen(building: string, id: string): Promise<HTMLElement> {
  const it = await api.item(building, id);
  return h(
    "section",
    { id: "item" },
    title(it.category_label),
    h(
      "div",
      { class: "badges" },
      h("span", { id: "item-state", class: `badge state ${it.state ?? ""}` }, it.state_label ?? "无有效登记"),
      h("span", { class: `badge ${it.hazard ? "bad" : "ok"}` }, it.hazard ? "是隐患" : "不构成隐患"),
      it.overdue ? h("span", { class: "badge bad" }, "逾期") : null,
      it.conflicts > 0 ? h("span", { id: "item-conflict", class: "badge bad" }, `冲突 ${it.conflicts}，待上级裁定`) : null,
    ),
    h("p", { class: "small muted", id: "item-place" }, it.place),
    it.household_deleted ? h("p", { class: "bad-text small", id: "item-household-deleted" }, "所属住户已在另一台手机上删除，但这处隐患仍在 — 待街道裁定。") : null,
    it.opening_shortfall ? h("p", { class: "bad-text small" }, `逃生口不符合：${it.opening_shortfall}`) : null,
    it.persuasion_count > 0 ? h("p", { class: "small" }, `已告知劝导 ${it.persuasion_count} 次`) : null,
    photoPair(it),
    fieldRows(it),
    h("h2", {}, "记录（北京时间）"),
    h(
      "ol",
      { id: "history", class: "history" },
      ...it.history.map((e) =>
        h(
          "li",
          { class: e.invalid ? "invalid" : "" },
          h("span", { class: "when" }, e.at_local),
          h("span", { class: "what" }, e.label),
          h("span", { class: "who muted" }, e.by),
          e.note && e.note !== "probe" ? h("div", { class: "small muted" }, e.note) : null,
          e.invalid ? h("div", { class: "small bad-text" }, "不计入（不符合规则）") : null,
        ),
      ),
    ),
    h("h2", {}, "可进行的操作"),
    it.steps.length
      ? h(
          "div",
          { id: "steps", class: "steps" },
          ...it.steps.map((s) =>
            button(`step-${s.kind}`, s.label, () => go({ name: "step", building, item: id, kind: s.kind, label: s.label, form: true }), `btn step ${s.kind === "close" ? "primary" : ""}`),
          ),
        )
      : h("p", { id: "steps", class: "muted small" }, "当前状态下您没有可进行的操作。"),
    it.state && !["closed", "void"].includes(it.state)
      ? button("edit-item", "修改登记信息", () => go({ name: "itemForm", building, household: it.household, category: it.category, item: it, form: true }), "btn wide")
      : null,
  );
}

// ── A lifecycle step ─────────────────────────────────────────────────────────

const NOTE_LABEL: Record<string, [string, boolean]> = {
  transfer: ["拒不整改原因", true],
  void: ["作废原因", true],
  reopen: ["反弹情况", true],
  return: ["退回原因", true],
  refuse: ["说明(选填)", false],
  propose_refusal: ["业主拒改情况(选填)", false],
};

async function stepScreen(building: string, id: string, kind: string, label: string): Promise<HTMLElement> {
  const c = choices();
  const photos: string[] = [];
  const parts: (HTMLElement | null)[] = [];
  if (kind === "notify") parts.push(field("告知方式", select("s-notice", c.notice_methods, null)));
  if (kind === "start_self_rectify") parts.push(field("整改期限", input("s-deadline", { type: "date" })));
  if (kind === "submit") {
    const method = select("s-method", c.remediation_methods, null);
    const extra = h("div", { id: "s-extra" });
    method.addEventListener("change", () => {
      const m = method.value;
      extra.replaceChildren(
        ...(m === "replaced"
          ? [
              field("新材料等级", select("s-grade", c.fire_grades, null)),
              field("等级依据", select("s-basis", c.grade_bases, null)),
              h("p", { class: "muted small" }, "只有 A 级，或有检测报告的 B1 级，才算更换合格。"),
            ]
          : m === "escape_opening"
            ? openingFields("s")
            : []),
      );
    });
    parts.push(field("整改方式", method), extra, photoPicker(photos, "整改后照片", () => {}));
  }
  if (kind === "enforce") parts.push(field("执法文书编号", input("s-docno")), photoPicker(photos, "拆除照片", () => {}));
  if (kind === "close") parts.push(h("p", {}, "确认该隐患已整改到位，予以复核销号？"), photoPair(await api.item(building, id)));
  if (NOTE_LABEL[kind]) parts.push(field(NOTE_LABEL[kind][0], h("textarea", { id: "s-note", rows: 3 })));
  const submit = button("submit-step", label, () =>
    void busy(submit, async () => {
      const detail: Record<string, unknown> = {};
      if (kind === "notify") detail.notice_method = value("s-notice") || null;
      if (kind === "start_self_rectify") detail.deadline = value("s-deadline") || null;
      if (kind === "submit") {
        detail.method = value("s-method") || null;
        detail.new_grade = value("s-grade") || null;
        detail.grade_basis = value("s-basis") || null;
        if (value("s-method") === "escape_opening") {
          detail.opening = { width_m: num("s-ow") ?? 0, height_m: num("s-oh") ?? 0, sill_m: num("s-os") ?? 0, openable_inside: checked("s-oi") };
        }
      }
      if (kind === "enforce") detail.document_no = value("s-docno") || null;
      await api.recordStep(building, id, { kind, note: value("s-note"), photos, detail });
      showNotice(`已记录：${label}`);
      await changed();
      back();
    }),
  `btn primary wide`);
  return h("section", { id: "step-form" }, title(label), ...parts, submit);
}

// ── Lists ────────────────────────────────────────────────────────────────────

async function revisitsScreen(): Promise<HTMLElement> {
  const list = await api.revisits();
  return h(
    "section",
    { id: "revisits" },
    title("待复访", false),
    list.length === 0
      ? h("p", { class: "muted empty" }, "没有待复访的住户。")
      : h(
          "div",
          { class: "cards", id: "revisit-list" },
          ...list.map((r) =>
            h(
              "button",
              { type: "button", class: "card", onclick: () => go({ name: "household", building: r.building, household: r.household.id }) },
              h("div", { class: "card-title" }, `${r.estate} ${r.number} · ${r.household.unit}单元 ${r.household.room}`),
              h("div", { class: "small muted" }, `已上门 ${r.household.visit_attempts ?? 0} 次`),
            ),
          ),
        ),
  );
}

async function verifyScreen(): Promise<HTMLElement> {
  const list = await api.verificationList();
  const buildings = await api.myBuildings();
  const name = (b: string) => {
    const x = buildings.find((y) => y.id === b);
    return x ? `${x.estate} ${x.number}` : "";
  };
  return h(
    "section",
    { id: "verify" },
    title("待核查销号", false),
    list.length === 0
      ? h("p", { class: "muted empty" }, "没有待核查的隐患。")
      : h(
          "div",
          { class: "cards", id: "verify-list" },
          ...list.map((it) => {
            const close = button(`close-${it.id}`, "复核销号", () =>
              void busy(close, async () => {
                await api.recordStep(it.building, it.id, { kind: "close", note: "", photos: [], detail: {} });
                showNotice("已销号");
                await changed();
                await render();
              }),
            "btn primary");
            const ret = it.steps.find((s) => s.kind === "return");
            return h(
              "div",
              { class: "card verify-card", id: `verify-${it.id}` },
              h("div", { class: "card-title" }, h("span", {}, `${name(it.building)} · ${it.place} · ${it.category_label}`), h("span", { class: "badge" }, it.state_label ?? "")),
              photoPair(it, 3),
              h(
                "div",
                { class: "row" },
                close,
                ret ? button(`return-${it.id}`, "退回整改", () => go({ name: "step", building: it.building, item: it.id, kind: "return", label: "退回整改", form: true }), "btn") : null,
                button(`open-${it.id}`, "详情", () => go({ name: "item", building: it.building, item: it.id }), "btn"),
              ),
            );
          }),
        ),
  );
}

// ── This device ──────────────────────────────────────────────────────────────

export function askWipe(): void {
  const p = app.status?.pending ?? { docs: 0, photos: 0 };
  const root = document.getElementById("modal-root")!;
  const unsynced = p.docs + p.photos > 0;
  const confirm = button("wipe-confirm", "确认清除", () =>
    void busy(confirm, async () => {
      const wiped = await api.wipe();
      root.replaceChildren();
      app.online = false;
      showNotice(`已清除本机数据（${wiped.buildings} 栋楼）。`);
      await refreshStatus();
      home("buildings");
    }),
  "btn danger");
  root.replaceChildren(
    h(
      "div",
      { class: "modal", id: "wipe-modal" },
      h(
        "div",
        { class: "modal-box" },
        h("h2", {}, "清除本机数据？"),
        h(
          "p",
          { id: "wipe-warning", class: unsynced ? "bad-text" : "" },
          unsynced
            ? `还有 ${p.docs} 项修改、${p.photos} 张照片没有上传到服务器，清除后将永久丢失！`
            : "本机数据都已上传，清除后可用新的注册码重新注册。",
        ),
        h("div", { class: "row" }, button("wipe-cancel", "取消", () => root.replaceChildren(), "btn"), confirm),
      ),
    ),
  );
}

async function deviceScreen(): Promise<HTMLElement> {
  await refreshStatus();
  const s = app.status!;
  const a = s.account!;
  return h(
    "section",
    { id: "device" },
    title("本机", false),
    s.revoked ? h("p", { class: "bad-text small" }, "本机已停用：只能查看，不能再登记或修改。") : null,
    h(
      "dl",
      { class: "fields" },
      h("dt", {}, "账号"),
      h("dd", { id: "account-name" }, a.name),
      h("dt", {}, "角色"),
      h("dd", { id: "account-role" }, s.role_label ?? a.role),
      h("dt", {}, "设备编号"),
      h("dd", { id: "device-id", class: "small" }, s.device_id ?? ""),
      h("dt", {}, "服务器"),
      h("dd", {}, s.server_url ?? ""),
      h("dt", {}, "未上传"),
      h("dd", {}, `${s.pending.docs} 项修改，${s.pending.photos} 张照片`),
      h("dt", {}, "辖区冲突"),
      h("dd", {}, `${s.open_conflicts} 处（我登记的 ${s.my_conflicts} 处）`),
      h("dt", {}, "上次同步"),
      h("dd", { id: "last-sync" }, s.last_sync_local ? `${s.last_sync_local}（北京时间）` : "从未"),
    ),
    isStreet() ? null : h("p", { class: "muted small" }, "复核销号由街道核查人员进行。"),
    button("wipe-btn", "清除本机数据", askWipe, "btn danger wide"),
  );
}
