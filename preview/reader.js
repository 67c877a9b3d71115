// The reader page: opens the served EPUB with epub.js, paginated like an e-reader, and reloads at
// the same place whenever the server reports a new good build (server-sent events).
"use strict";

// Reading area in CSS pixels: what the screen of each device leaves for the text.
const DEVICES = {
  phone: { width: 390, height: 740 },
  eink: { width: 600, height: 800 },
  tablet: { width: 768, height: 1000 },
};
const THEMES = {
  light: { body: { background: "#ffffff !important", color: "#1a1a1a !important" } },
  sepia: { body: { background: "#f4ecd8 !important", color: "#5b4636 !important" } },
  dark: {
    body: { background: "#1c1c1e !important", color: "#d8d8d8 !important" },
    a: { color: "#8ab4f8 !important" },
  },
};

const params = new URLSearchParams(location.search);
const store = window.sessionStorage;
const prefs = window.localStorage;
const $ = (id) => document.getElementById(id);
const state = { version: 0, book: null, rendition: null, toc: [], opening: false, next: null, files: null };
window.reader = state;

function setting(name, fallback, allowed) {
  const v = params.get(name) || prefs.getItem("preview-" + name) || fallback;
  return allowed[v] ? v : fallback;
}

function showError(text) {
  $("error").hidden = !text;
  $("error-text").textContent = text || "";
  document.body.dataset.error = text ? "1" : "";
}

function locationKey() {
  return "preview-location-" + ($("book-title").textContent || "book");
}

function chapterTitle(href) {
  const base = (href || "").split("#")[0];
  const hit = state.toc.find((item) => item.href.split("#")[0] === base);
  return hit ? hit.label.trim() : "";
}

function buildToc(items, into) {
  for (const item of items) {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.textContent = item.label.trim();
    a.href = "#" + item.href;
    a.dataset.href = item.href;
    a.addEventListener("click", (e) => {
      e.preventDefault();
      state.rendition.display(item.href);
    });
    li.appendChild(a);
    if (item.subitems && item.subitems.length) {
      const ol = document.createElement("ol");
      buildToc(item.subitems, ol);
      li.appendChild(ol);
    }
    into.appendChild(li);
  }
}

function applyDevice(name) {
  const d = DEVICES[name];
  document.body.dataset.device = name;
  $("viewer").style.width = d.width + "px";
  $("viewer").style.height = d.height + "px";
  $("device-frame").style.width = "auto";
  if (state.rendition) state.rendition.resize(d.width, d.height);
}

function applyTheme(name) {
  document.body.dataset.theme = name;
  if (state.rendition) state.rendition.themes.select(name);
}

async function openBook(status) {
  state.version = status.version;
  state.files = status.files || null;
  document.body.dataset.version = String(status.version);
  $("book-title").textContent = status.title || "book";
  document.title = (status.title || "book") + " · 预览";
  const device = setting("device", "eink", DEVICES);
  const theme = setting("theme", "light", THEMES);
  $("device").value = device;
  $("theme").value = theme;
  applyDevice(device);
  applyTheme(theme);

  // As a folder, with nothing replaced: epub.js fetches what it shows, and the browser keeps the
  // fonts and images that did not change (book.tools.preview_files).
  const book = ePub("/book/current/", { openAs: "directory", replacements: "none" });
  state.book = book;
  const d = DEVICES[device];
  const rendition = book.renderTo("viewer", {
    width: d.width, height: d.height, flow: "paginated", spread: "none", allowScriptedContent: false,
  });
  state.rendition = rendition;
  for (const [name, rules] of Object.entries(THEMES)) rendition.themes.register(name, rules);
  rendition.themes.select(theme);

  rendition.on("relocated", (loc) => {
    const start = loc.start;
    store.setItem(locationKey(), JSON.stringify({ cfi: start.cfi, href: start.href, page: start.displayed.page }));
    document.body.dataset.href = start.href;
    document.body.dataset.page = String(start.displayed.page);
    document.body.dataset.cfi = start.cfi;
    $("chapter-name").textContent = chapterTitle(start.href);
    $("page-info").textContent = start.displayed.page + " / " + start.displayed.total;
    let marked = false;
    for (const a of document.querySelectorAll("#toc a")) {
      const here = !marked && a.dataset.href.split("#")[0] === start.href;
      a.classList.toggle("current", here);
      marked = marked || here;
    }
  });
  rendition.on("keyup", onKey);

  const nav = await book.loaded.navigation;
  state.toc = nav.toc;
  $("toc-list").replaceChildren();
  buildToc(nav.toc, $("toc-list"));

  const saved = JSON.parse(store.getItem(locationKey()) || "null");
  const wanted = params.get("at");
  if (wanted || !saved) {
    await rendition.display(wanted || undefined);
  } else {
    // Back to the same page of the same chapter. epub.js's start CFI of a page names the first
    // node partly on it, often a paragraph begun on the page before, so the page number is surer.
    try {
      await rendition.display(saved.href);
    } catch (err) {
      await rendition.display();
    }
    for (let i = 1; i < saved.page; i++) {
      const here = rendition.currentLocation();
      if (!here.start || here.start.href !== saved.href || here.atEnd) break;
      if (here.start.displayed.page >= here.start.displayed.total) break;
      await rendition.next();
    }
  }
  document.body.dataset.ready = String(status.version);
}

function onKey(e) {
  if (!state.rendition) return;
  if (e.key === "ArrowRight" || e.key === "PageDown" || e.key === " ") state.rendition.next();
  if (e.key === "ArrowLeft" || e.key === "PageUp") state.rendition.prev();
  if (e.key === "t") toggleToc();
}

function toggleToc() {
  const toc = $("toc");
  toc.hidden = !toc.hidden;
  $("toc-toggle").setAttribute("aria-expanded", String(!toc.hidden));
}

// `book preview --pdf`: the print pages of the part being edited, laid out after the EPUB.
function showPrint(status) {
  const pdf = status && status.pdf;
  if (!pdf) return;
  const url = "/pdf/current.pdf?v=" + pdf.version;
  $("print-pane").hidden = false;
  $("print-link").href = url;
  $("print-link").textContent = "印刷页 · " + (chapterTitle(pdf.part + ".xhtml") || pdf.part) + " · " + pdf.pages + " 页";
  if ($("print-frame").getAttribute("src") !== url) $("print-frame").setAttribute("src", url);
}

function listen() {
  const events = new EventSource("/events");
  events.addEventListener("pdf", (e) => showPrint(JSON.parse(e.data)));
  events.addEventListener("build", (e) => {
    const status = JSON.parse(e.data);
    showPrint(status);
    $("build-info").textContent = status.ok ? "构建 #" + status.version + " · " + status.seconds + " s" : "构建失败";
    if (!status.ok) {
      console.error(status.error);
      showError(status.error);
      return;
    }
    showError("");
    if (!state.book && status.has_book) openBook(status);
    else if (status.version > state.version) reopen(status);
  });
}

// A new build: the new book replaces the old one in this page, where the reader is (saved on every
// page turn), not where the URL first pointed. Reloading the page instead parsed epub.js again and
// cost as much as the rebuild of one chapter. Builds that arrive meanwhile wait for this one.
async function reopen(status) {
  state.next = status;
  if (state.opening) return;
  state.opening = true;
  try {
    while (state.next && state.next.version > state.version) {
      const latest = state.next;
      state.next = null;
      if (params.has("at")) {
        params.delete("at");
        const url = new URL(location.href);
        url.searchParams.delete("at");
        history.replaceState(null, "", url.href);
      }
      let kept = false;
      try {
        kept = await refresh(latest);
      } catch (err) {
        console.warn("redrawing in place failed, reopening the book:", err);
      }
      if (kept) continue;
      if (state.rendition) state.rendition.destroy();
      if (state.book) state.book.destroy();
      await openBook(latest);
    }
  } finally {
    state.opening = false;
  }
}

// A build that changed chapters only (the package, the navigation, the styles, the fonts and the
// images the same files as on screen: the server sends every file's ETag with each build) keeps the
// book open. The changed chapters are forgotten, to be fetched when next shown, and the one on screen
// gets its new body in its own frame, where the styles and fonts are already loaded and decoded; the
// reader stays on the page it was on. Reopening fetched the package, the navigation and the chapter
// one after the other and laid the chapter out twice in a new frame: most of the wait after a save.
// Anything else, or anything unexpected here (false, or an error), reopens the book.
async function refresh(status) {
  const book = state.book, rendition = state.rendition;
  if (!book || !rendition || !state.files || !status.files || !rendition.manager) return false;
  const root = new URL("/book/current/", location.href);
  const sections = new Map();
  book.spine.each((s) => sections.set(new URL(s.url, location.href).href, s));
  const nav = book.packaging && book.packaging.navPath ? new URL(book.resolve(book.packaging.navPath), location.href).href : "";
  const changed = [];
  for (const name of new Set([...Object.keys(state.files), ...Object.keys(status.files)])) {
    if (state.files[name] === status.files[name]) continue;
    const url = new URL(name, root).href;
    const section = sections.get(url);
    if (!section || url === nav) return false;
    changed.push(section);
  }
  const views = rendition.manager.views.all();
  if (views.length > 1) return false;
  const view = views[0];
  const shown = view && changed.includes(view.section);
  if (shown && !(await redraw(book, view))) return false;
  for (const section of changed) if (!view || section !== view.section) section.unload();
  state.files = status.files;
  state.version = status.version;
  document.body.dataset.version = String(status.version);
  if (shown) await rendition.reportLocation();
  document.body.dataset.ready = String(status.version);
  return true;
}

// The chapter on screen, its new version in place of the old in the same frame. False if it
// cannot be (nothing loaded yet, another head, or a frame that is not the old version's): the
// caller reopens the book.
async function redraw(book, view) {
  const section = view.section, contents = view.contents, doc = view.document;
  const was = section.output; // the version in the frame, as epub.js wrote it there
  if (typeof was !== "string" || !contents || !doc || !doc.body) return false;
  section.unload();
  // As epub.js renders a chapter (its content and serialize hooks); both versions parsed as the
  // frame's srcdoc was, so that their nodes pair with the frame's.
  const now = await section.render(book.load.bind(book));
  const parse = (text) => new DOMParser().parseFromString(text, "text/html");
  const before = parse(was), after = parse(now);
  if (!before.head.isEqualNode(after.head) || !sameElement(before.body, after.body)) return false;
  if (!patch(doc, doc.body, before.body, after.body)) return false;
  contents.linksHandler(); // epub.js's click handlers on the new links, its image listeners
  contents.imageLoadListeners();
  view.expand(); // the frame as wide as the new text's pages
  return true;
}

// `into` (in the frame) made like `now` where `now` differs from `was` (the version `into` was made
// from: `into` has its shape, though epub.js set attributes on it), touching only what differs: the
// same nodes before and after the changed ones stay, and a lone changed element that is the same
// element with the same attributes is patched inside. A paragraph edit replaces that paragraph, and
// the browser keeps the shaped text of every other: a whole new body took 130-190 ms to lay out on
// the 30-chapter book's chapter, the one paragraph 1-5 ms. False (nothing touched) if `into` is
// not shaped as `was`.
function patch(doc, into, was, now) {
  const a = Array.from(was.childNodes), b = Array.from(now.childNodes), live = Array.from(into.childNodes);
  if (live.length !== a.length) return false;
  let head = 0;
  while (head < a.length && head < b.length && a[head].isEqualNode(b[head])) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail].isEqualNode(b[b.length - 1 - tail])) tail++;
  const olds = live.slice(head, a.length - tail), news = b.slice(head, b.length - tail);
  if (olds.some((node, i) => node.nodeName !== a[head + i].nodeName)) return false;
  if (olds.length === 1 && news.length === 1 && sameElement(a[head], news[0])) return patch(doc, olds[0], a[head], news[0]);
  const next = live[a.length - tail] || null; // what the new nodes go before (null: at the end)
  for (const node of olds) node.remove();
  for (const node of news) into.insertBefore(doc.adoptNode(node), next);
  return true;
}

function sameElement(x, y) {
  if (x.nodeType !== Node.ELEMENT_NODE || y.nodeType !== Node.ELEMENT_NODE) return false;
  if (x.namespaceURI !== y.namespaceURI || x.localName !== y.localName || x.attributes.length !== y.attributes.length) return false;
  for (const attr of x.attributes) {
    if (y.getAttributeNS(attr.namespaceURI, attr.localName) !== attr.value) return false;
  }
  return true;
}

async function main() {
  $("device").addEventListener("change", (e) => { prefs.setItem("preview-device", e.target.value); applyDevice(e.target.value); });
  $("theme").addEventListener("change", (e) => { prefs.setItem("preview-theme", e.target.value); applyTheme(e.target.value); });
  $("toc-toggle").addEventListener("click", toggleToc);
  $("prev").addEventListener("click", () => state.rendition && state.rendition.prev());
  $("next").addEventListener("click", () => state.rendition && state.rendition.next());
  document.addEventListener("keyup", onKey);
  if (params.get("toc") === "1") toggleToc();
  const status = await (await fetch("/status")).json();
  if (!status.ok) showError(status.error);
  if (status.has_book) await openBook(status);
  showPrint(status);
  listen();
}

main();
