// A few DOM helpers: the UI is plain TypeScript, one screen rendered at a time.

type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;
type Child = Node | string | number | null | undefined | false;

export function h(tag: string, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") {
      el.addEventListener(k.slice(2), v as EventListener);
    } else if (k === "class") {
      el.className = String(v);
    } else if (v === true) {
      el.setAttribute(k, "");
    } else {
      el.setAttribute(k, String(v));
    }
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function field(label: string, input: HTMLElement, hint?: HTMLElement | null): HTMLElement {
  return h("label", { class: "field" }, h("span", { class: "field-label" }, label), input, hint ?? null);
}

export function select(
  id: string,
  options: { code: string; label: string }[],
  value: string | null,
  placeholder = "请选择",
): HTMLSelectElement {
  const el = h(
    "select",
    { id },
    h("option", { value: "" }, placeholder),
    ...options.map((o) => h("option", { value: o.code, selected: o.code === value }, o.label)),
  ) as HTMLSelectElement;
  return el;
}

export function input(id: string, attrs: Attrs = {}): HTMLInputElement {
  return h("input", { id, ...attrs }) as HTMLInputElement;
}

export function button(id: string, label: string, onclick: () => void, cls = "btn"): HTMLElement {
  return h("button", { id, class: cls, type: "button", onclick: () => onclick() }, label);
}

export function value(id: string): string {
  const el = document.getElementById(id) as HTMLInputElement | HTMLSelectElement | null;
  return el ? el.value.trim() : "";
}

export function num(id: string): number | null {
  const v = value(id);
  if (v === "") return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

export function checked(id: string): boolean {
  const el = document.getElementById(id) as HTMLInputElement | null;
  return !!el?.checked;
}

/// `replaceChildren` that skips the parts a screen leaves out (`null`).
export function fill(el: HTMLElement, ...children: (Node | null | false | undefined)[]): void {
  el.replaceChildren(...children.filter((c): c is Node => !!c));
}
