// A very small DOM, just enough to run the built app in node: elements parsed
// from the built index.html, the properties and methods the app uses, and a
// selector matcher for simple selectors ("#id .cls[data-x='y']", descendant
// combinator only).

const VOID = new Set(['meta', 'link', 'input', 'br', 'img', 'hr', 'source']);

export class HTMLElement {
  constructor(tag) {
    this.tagName = tag.toUpperCase();
    this.children = [];
    this.parentElement = null;
    this.dataset = {};
    this.attrs = new Map();
    this.listeners = new Map();
    this.ownText = '';
    this.hidden = false;
    this.disabled = false;
    this.style = {};
    this.classes = new Set();
    const el = this;
    this.classList = {
      add: (...c) => c.forEach((x) => el.classes.add(x)),
      remove: (...c) => c.forEach((x) => el.classes.delete(x)),
      contains: (c) => el.classes.has(c),
      toggle: (c, force) => {
        const on = force === undefined ? !el.classes.has(c) : force;
        if (on) el.classes.add(c);
        else el.classes.delete(c);
        return on;
      },
    };
    this.relList = { supports: () => true };
  }
  get className() { return [...this.classes].join(' '); }
  set className(v) { this.classes = new Set(String(v).split(/\s+/).filter(Boolean)); }
  get id() { return this.attrs.get('id') ?? ''; }
  get title() { return this.attrs.get('title') ?? ''; }
  set title(v) { this.attrs.set('title', String(v)); }
  setAttribute(name, value) {
    value = String(value);
    if (name === 'hidden') this.hidden = true;
    else if (name === 'disabled') this.disabled = true;
    else if (name === 'class') this.className = value;
    else if (name.startsWith('data-')) this.dataset[camel(name.slice(5))] = value;
    else this.attrs.set(name, value);
  }
  getAttribute(name) {
    if (name === 'hidden') return this.hidden ? '' : null;
    if (name === 'class') return this.className;
    if (name.startsWith('data-')) return this.dataset[camel(name.slice(5))] ?? null;
    return this.attrs.get(name) ?? null;
  }
  hasAttribute(name) { return this.getAttribute(name) !== null; }
  removeAttribute(name) {
    if (name === 'hidden') this.hidden = false;
    else if (name.startsWith('data-')) delete this.dataset[camel(name.slice(5))];
    else this.attrs.delete(name);
  }
  append(...nodes) {
    for (const node of nodes) {
      if (typeof node === 'string') { this.ownText += node; continue; }
      node.remove();
      node.parentElement = this;
      this.children.push(node);
    }
  }
  appendChild(node) { this.append(node); return node; }
  replaceChildren(...nodes) {
    for (const c of [...this.children]) c.remove();
    this.ownText = '';
    this.append(...nodes);
  }
  remove() {
    const p = this.parentElement;
    if (!p) return;
    p.children.splice(p.children.indexOf(this), 1);
    this.parentElement = null;
  }
  get childElementCount() { return this.children.length; }
  get firstElementChild() { return this.children[0] ?? null; }
  get textContent() { return this.ownText + this.children.map((c) => c.textContent).join(''); }
  set textContent(v) { for (const c of [...this.children]) c.remove(); this.ownText = String(v ?? ''); }
  addEventListener(type, fn, options) {
    if (!this.listeners.has(type)) this.listeners.set(type, []);
    this.listeners.get(type).push({ fn, once: Boolean(options && options.once) });
  }
  removeEventListener(type, fn) {
    const list = this.listeners.get(type) ?? [];
    this.listeners.set(type, list.filter((l) => l.fn !== fn));
  }
  dispatchEvent(event) {
    event.target ??= this;
    for (let el = this; el; el = event.bubbles ? el.parentElement : null) {
      const list = el.listeners.get(event.type) ?? [];
      for (const l of [...list]) {
        if (l.once) el.removeEventListener(event.type, l.fn);
        l.fn.call(el, event);
      }
    }
    return !event.defaultPrevented;
  }
  click() {
    if (this.disabled) return;
    this.dispatchEvent(makeEvent('click', true));
    if (this.tagName === 'BUTTON' && (this.type ?? 'submit') === 'submit') this.closest('form')?.requestSubmit();
  }
  focus() {}
  closest(selector) {
    for (let el = this; el; el = el.parentElement) if (matches(el, selector)) return el;
    return null;
  }
  matches(selector) { return matches(this, selector); }
  querySelectorAll(selector) {
    const out = [];
    const walk = (el) => { for (const c of el.children) { if (matchesChain(c, selector, this)) out.push(c); walk(c); } };
    walk(this);
    return out;
  }
  querySelector(selector) { return this.querySelectorAll(selector)[0] ?? null; }
  get scrollHeight() { return 0; }
}

function makeEvent(type, bubbles) {
  return { type, bubbles, defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } };
}

export class HTMLDivElement extends HTMLElement {}
export class HTMLSpanElement extends HTMLElement {}
export class HTMLParagraphElement extends HTMLElement {}
export class HTMLUListElement extends HTMLElement {}
export class HTMLLIElement extends HTMLElement {}
export class HTMLButtonElement extends HTMLElement {
  type = 'submit';
}
export class HTMLInputElement extends HTMLElement {
  value = '';
  placeholder = '';
  type = 'text';
}
export class HTMLTextAreaElement extends HTMLElement {
  value = '';
}
export class HTMLFormElement extends HTMLElement {
  requestSubmit() { this.dispatchEvent(makeEvent('submit', true)); }
}
export class HTMLVideoElement extends HTMLElement {
  srcObject = null;
  muted = false;
  autoplay = false;
  playsInline = false;
  play() { return Promise.resolve(); }
  requestVideoFrameCallback(cb) { setTimeout(() => cb(performance.now(), {}), 0); return 1; }
}

const CLASSES = {
  div: HTMLDivElement, span: HTMLSpanElement, p: HTMLParagraphElement, ul: HTMLUListElement,
  li: HTMLLIElement, button: HTMLButtonElement, input: HTMLInputElement, textarea: HTMLTextAreaElement,
  form: HTMLFormElement, video: HTMLVideoElement,
};

export function createElement(tag) {
  const Class = CLASSES[tag.toLowerCase()] ?? HTMLElement;
  return new Class(tag);
}

function camel(s) { return s.replace(/-([a-z])/g, (_, c) => c.toUpperCase()); }

// ------------------------------------------------------------ selectors

function parseCompound(text) {
  const re = /([a-zA-Z][\w-]*)|#([\w-]+)|\.([\w-]+)|\[([\w-]+)(?:=["']?([^"'\]]*)["']?)?\]/g;
  const parts = { tag: null, id: null, classes: [], attrs: [] };
  let m;
  while ((m = re.exec(text))) {
    if (m[1]) parts.tag = m[1].toUpperCase();
    else if (m[2]) parts.id = m[2];
    else if (m[3]) parts.classes.push(m[3]);
    else parts.attrs.push([m[4], m[5]]);
  }
  return parts;
}

function matches(el, selector) {
  const p = parseCompound(selector);
  if (p.tag && el.tagName !== p.tag) return false;
  if (p.id && el.id !== p.id) return false;
  if (!p.classes.every((c) => el.classes.has(c))) return false;
  return p.attrs.every(([name, value]) => {
    const actual = el.getAttribute(name);
    return value === undefined ? actual !== null : actual === value;
  });
}

/** Descendant combinator only: "a b c" matches c with a b ancestors (within scope). */
function matchesChain(el, selector, scope) {
  const steps = selector.trim().split(/\s+(?![^\[]*\])/);
  if (!matches(el, steps.at(-1))) return false;
  let i = steps.length - 2;
  for (let a = el.parentElement; a && i >= 0; a = a.parentElement) {
    if (matches(a, steps[i])) i--;
    if (a === scope && i >= 0) return false;
  }
  return i < 0;
}

// ------------------------------------------------------------ html parsing

/** Parses index.html into a tree of fake elements; returns [html, head, body]. */
export function parseHtml(html) {
  const root = new HTMLElement('#root');
  const stack = [root];
  const re = /<!--[\s\S]*?-->|<!doctype[^>]*>|<\/([a-zA-Z0-9]+)\s*>|<([a-zA-Z0-9]+)((?:\s+[^\s=>\/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*(\/?)>|([^<]+)/gi;
  let m;
  while ((m = re.exec(html))) {
    const top = stack.at(-1);
    if (m[1]) {
      const tag = m[1].toUpperCase();
      while (stack.length > 1 && stack.pop().tagName !== tag);
    } else if (m[2]) {
      const el = createElement(m[2]);
      const attrRe = /([^\s=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;
      let a;
      while ((a = attrRe.exec(m[3] ?? ''))) {
        const value = a[2] ?? a[3] ?? a[4] ?? '';
        if (a[1] === 'muted') el.muted = true;
        else if (a[1] === 'autoplay') el.autoplay = true;
        else if (a[1] === 'playsinline') el.playsInline = true;
        else if (a[1] === 'type' && 'type' in el) el.type = value;
        else el.setAttribute(a[1], value);
      }
      top.append(el);
      if (!VOID.has(m[2].toLowerCase()) && !m[4]) stack.push(el);
    } else if (m[5] && top !== root) {
      const text = m[5].replace(/\s+/g, ' ');
      if (text.trim()) top.ownText += text.trim();
    }
  }
  const html_ = root.querySelector('html');
  return [html_, html_.querySelector('head'), html_.querySelector('body')];
}
