/* sessionkit reader UI: measurement lines (issue 17 item 5; reading-flow §11; docs/contours.md).
 *
 * On a page whose GET /api/runs/{run}/lines answer is `enabled` (EnableSegmentEditor="Y" or a
 * MinMarkupLinesRequired attribute), the "Line" tool (key L) places a line with two clicks in any
 * viewport showing one of the answer's `images`; its length in mm is drawn beside it and listed in
 * the panel. Dragging an end moves it; the panel's Delete removes a line. Every change is saved at
 * once (POST / PUT / DELETE .../lines/{image}[/{number}]) as a Slicer .mrk.json on the server, so
 * the SK913 requirement sees it at Next.
 *
 * Coordinates: a click gives Niivue's fractional position; times dimsRAS it is a continuous voxel
 * index of Niivue's RAS-reoriented grid, which the volume's matRAS (row-major, RAS mm; obliquity
 * kept, unlike frac2mm) maps to RAS mm; LPS negates x and y. The through-plane index is snapped
 * to the displayed slice. A line is drawn in a slice view when both ends lie on the displayed slice.
 *
 * Lines are drawn on a 2-D canvas over each Niivue canvas (pointer events pass through it); while
 * the tool is on, mouse presses in the viewports are kept from Niivue (the wheel still scrolls).
 * drawing.js forwards pageShown / pageLeft and waits for `flush()` before a transition.
 */
(function () {
  "use strict";

  const GRAB_PX = 8; // CSS px around an end that grabs it
  const COLOR = "#ffd23f";

  const ctx = {
    key: null, // run id + page instance whose lines are shown
    data: null, // the GET lines answer
    views: [], // [{view, overlay, signature}]
    active: false, // Line tool on
    pending: null, // first click of a new line: {view, lps}
    drag: null, // end being moved: {line, index, view}
    mouse: null, // {view, lps} under the pointer (rubber band)
    chain: Promise.resolve(), // saves, one at a time
    generation: 0,
    frame: null,
    version: 0, // incremented on every change (redraw)
    loaded: null, // page instance whose lines are shown (tests wait for it)
  };

  const $ = (id) => document.getElementById(id);
  const app = () => window.sessionkit.state;
  const wired = new WeakSet(); // viewport bodies whose mouse events are watched

  // ---------------------------------------------------------------------------------------------
  // Coordinates

  /** Continuous voxel index `v` of Niivue's RAS grid -> LPS mm (the volume's matRAS, row-major). */
  function vox2lps(nv, v) {
    const m = nv.back.matRAS;
    const ras = [0, 1, 2].map((r) => m[4 * r] * v[0] + m[4 * r + 1] * v[1] + m[4 * r + 2] * v[2] + m[4 * r + 3]);
    return [-ras[0], -ras[1], ras[2]];
  }

  /** LPS mm -> continuous voxel index of Niivue's RAS grid (inverse of vox2lps). */
  function lps2vox(nv, p) {
    const m = nv.back.matRAS;
    const b = [-p[0] - m[3], -p[1] - m[7], p[2] - m[11]];
    const a = [[m[0], m[1], m[2]], [m[4], m[5], m[6]], [m[8], m[9], m[10]]];
    const det = (x) => x[0][0] * (x[1][1] * x[2][2] - x[1][2] * x[2][1]) - x[0][1] * (x[1][0] * x[2][2] - x[1][2] * x[2][0]) +
      x[0][2] * (x[1][0] * x[2][1] - x[1][1] * x[2][0]);
    const d = det(a);
    return [0, 1, 2].map((k) => det(a.map((row, r) => row.map((value, c) => (c === k ? b[r] : value)))) / d); // Cramer
  }

  /** `{axis, lps}` under a mouse event in `nv` (axis 0 axial, 1 coronal, 2 sagittal), or null. */
  function pointerLps(nv, event) {
    const rect = nv.canvas.getBoundingClientRect();
    const dpr = nv.uiData.dpr || window.devicePixelRatio || 1;
    const x = (event.clientX - rect.left) * dpr;
    const y = (event.clientY - rect.top) * dpr;
    const tile = nv.tileIndex(x, y);
    if (tile < 0 || !nv.screenSlices[tile] || nv.screenSlices[tile].axCorSag > 2) return null;
    const frac = nv.canvasPos2frac([x, y]);
    if (frac[0] < 0) return null;
    const dims = nv.back.dimsRAS;
    const axis = nv.screenSlices[tile].axCorSag;
    const v = [0, 1, 2].map((k) => frac[k] * dims[k + 1] - 0.5);
    v[2 - axis] = Math.round(v[2 - axis]); // on the displayed slice (axial: z, coronal: y, sagittal: x)
    return { axis: axis, lps: vox2lps(nv, v) };
  }

  /** Device-pixel canvas position of `lps` in the tile of `axis`, when it lies on the displayed slice. */
  function screenOf(nv, axis, lps) {
    const dims = nv.back.dimsRAS;
    const v = lps2vox(nv, lps);
    const cross = nv.scene.crosshairPos;
    const through = 2 - axis; // RAS-grid index across the slice
    if (Math.round(v[through]) !== Math.round(cross[through] * dims[through + 1] - 0.5)) return null;
    const frac = [0, 1, 2].map((k) => (k === through ? cross[k] : (v[k] + 0.5) / dims[k + 1]));
    const found = nv.frac2canvasPosWithTile(frac, axis);
    return found ? found.pos : null;
  }

  function lengthOf(points) {
    return Math.hypot(points[1][0] - points[0][0], points[1][1] - points[0][1], points[1][2] - points[0][2]);
  }

  // ---------------------------------------------------------------------------------------------
  // Page life cycle

  /** Loads and shows the lines of the position `data` on `views` (drawing.js calls this for every page). */
  async function pageShown(data, views) {
    const key = data && data.scene ? app().runId + "/" + data.page_instance : null;
    const same = key === ctx.key && views.every((v) => ctx.views.some((w) => w.view.nv === v.nv));
    if (same && ctx.data) return refresh(); // same scene and instance: editability may have changed
    pageLeft();
    if (!key) return;
    const generation = ctx.generation;
    ctx.key = key;
    let answer;
    try {
      answer = await request("GET", "");
    } catch (err) {
      if (generation === ctx.generation) setStatus(err.message);
      return;
    }
    if (generation !== ctx.generation || !answer.enabled) return;
    ctx.data = answer;
    ctx.views = views.filter((v) => v && answer.images.includes(v.imageId)).map((view) => ({ view: view, overlay: overlay(view) }));
    for (const entry of ctx.views) wire(entry.view);
    renderPanel();
    ctx.frame = requestAnimationFrame(tick);
    ctx.loaded = data.page_instance;
  }

  async function refresh() {
    const generation = ctx.generation;
    try {
      const answer = await request("GET", "");
      if (generation !== ctx.generation) return;
      ctx.data = answer;
      if (!answer.editable) setActive(false);
      changed();
    } catch (err) {
      setStatus(err.message);
    }
  }

  /** Removes the lines' overlays and panel (the viewports are going away or another instance is shown). */
  function pageLeft() {
    ctx.generation += 1;
    if (ctx.frame) cancelAnimationFrame(ctx.frame);
    ctx.frame = null;
    for (const entry of ctx.views) entry.overlay.remove();
    Object.assign(ctx, { key: null, data: null, views: [], active: false, pending: null, drag: null, mouse: null, loaded: null });
    const panel = $("line-tools");
    if (panel) panel.remove();
  }

  function overlay(view) {
    const canvas = document.createElement("canvas");
    canvas.className = "line-overlay";
    canvas.style.pointerEvents = "none";
    view.nv.canvas.after(canvas);
    return canvas;
  }

  // ---------------------------------------------------------------------------------------------
  // Server

  function url(path) {
    return "/api/runs/" + encodeURIComponent(app().runId) + "/lines" + path;
  }

  async function request(method, path, body) {
    const headers = { Accept: "application/json" };
    if (app().token) headers.Authorization = "Bearer " + app().token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(url(path), {
      method: method, headers: headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body),
    });
    let answer = null;
    try {
      answer = await response.json();
    } catch (_) {
      answer = null;
    }
    if (!response.ok) {
      throw new Error("The line could not be saved: " + ((answer && answer.message) || "HTTP " + response.status) +
        (answer && answer.hint ? " (" + answer.hint + ")" : ""));
    }
    return answer;
  }

  /** Queues a save; on success `apply(answer)` updates the shown lines; on failure the lines are reloaded. */
  function save(method, path, body, apply) {
    const generation = ctx.generation;
    ctx.chain = ctx.chain.then(async () => {
      try {
        const answer = await request(method, path, body);
        if (generation !== ctx.generation) return;
        apply(answer);
        setStatus("");
      } catch (err) {
        if (generation !== ctx.generation) return;
        setStatus(err.message);
        await refresh();
      }
      changed();
    });
    return ctx.chain;
  }

  function addLine(imageId, points) {
    save("POST", "/" + encodeURIComponent(imageId), { points: points }, (line) => ctx.data.lines.push(line));
  }

  function moveLine(line) {
    const path = "/" + encodeURIComponent(line.image_id) + "/" + line.number;
    save("PUT", path, { points: line.points }, (answer) => Object.assign(line, answer));
  }

  function deleteLine(line) {
    const path = "/" + encodeURIComponent(line.image_id) + "/" + line.number;
    save("DELETE", path, undefined, () => {
      ctx.data.lines = ctx.data.lines.filter((other) => other !== line);
    });
  }

  /** Resolves when every queued save has been answered (drawing.js awaits it before a transition). */
  function flush() {
    return ctx.chain;
  }

  // ---------------------------------------------------------------------------------------------
  // Mouse

  function editable() {
    return Boolean(ctx.data && ctx.data.editable);
  }

  function entryOf(nv) {
    return ctx.views.find((entry) => entry.view.nv === nv) || null;
  }

  /** Mouse presses in a line viewport go to the Line tool (capture phase, before Niivue sees them). */
  function wire(view) {
    const body = view.nv.canvas.parentElement;
    if (!body || wired.has(body)) return;
    wired.add(body);
    const nvOf = () => {
      const canvas = body.querySelector("canvas:not(.line-overlay)");
      const entry = ctx.views.find((e) => e.view.nv.canvas === canvas);
      return entry ? entry.view : null;
    };
    body.addEventListener("mousedown", (event) => {
      const shown = nvOf();
      if (!ctx.active || !editable() || !shown || event.button !== 0) return;
      event.stopPropagation();
      event.preventDefault();
      press(shown, event);
    }, true);
    body.addEventListener("mousemove", (event) => {
      const shown = nvOf();
      if (!ctx.active || !editable() || !shown) return;
      event.stopPropagation();
      const point = pointerLps(shown.nv, event);
      ctx.mouse = point ? { view: shown, lps: point.lps, axis: point.axis } : null;
      if (ctx.drag && point && point.axis === ctx.drag.axis) ctx.drag.line.points[ctx.drag.index] = point.lps;
      changed();
    }, true);
    body.addEventListener("mouseup", (event) => {
      if (!ctx.active || !ctx.drag) return;
      event.stopPropagation();
      const drag = ctx.drag;
      ctx.drag = null;
      if (lengthOf(drag.line.points) > 0) moveLine(drag.line);
    }, true);
  }

  function press(view, event) {
    const point = pointerLps(view.nv, event);
    if (!point) return;
    const grabbed = endAt(view, event);
    if (grabbed && !ctx.pending) {
      ctx.drag = grabbed;
      return;
    }
    if (ctx.pending && ctx.pending.view === view && ctx.pending.axis === point.axis) {
      const points = [ctx.pending.lps, point.lps];
      ctx.pending = null;
      if (lengthOf(points) > 0) addLine(view.imageId, points);
    } else {
      ctx.pending = { view: view, lps: point.lps, axis: point.axis };
    }
    changed();
  }

  /** The shown line end within GRAB_PX of the mouse in `view`: {line, index, axis}, or null. */
  function endAt(view, event) {
    const nv = view.nv;
    const rect = nv.canvas.getBoundingClientRect();
    const dpr = nv.uiData.dpr || 1;
    const x = (event.clientX - rect.left) * dpr;
    const y = (event.clientY - rect.top) * dpr;
    const axis = (pointerLps(nv, event) || {}).axis;
    for (const line of ctx.data.lines) {
      if (line.image_id !== view.imageId) continue;
      for (let index = 0; index < 2; index++) {
        const pos = screenOf(nv, axis, line.points[index]);
        if (pos && Math.hypot(pos[0] - x, pos[1] - y) <= GRAB_PX * dpr) return { line: line, index: index, axis: axis };
      }
    }
    return null;
  }

  // ---------------------------------------------------------------------------------------------
  // Drawing the lines

  function changed() {
    ctx.version += 1;
    renderList();
  }

  function tick() {
    ctx.frame = requestAnimationFrame(tick);
    for (const entry of ctx.views) {
      const nv = entry.view.nv;
      const signature = [ctx.version, nv.canvas.width, nv.canvas.height, ...nv.scene.crosshairPos, ...nv.scene.pan2Dxyzmm,
        nv.opts.sliceType].join(",");
      if (signature !== entry.signature) {
        entry.signature = signature;
        draw(entry);
      }
    }
  }

  function draw(entry) {
    const nv = entry.view.nv;
    const canvas = entry.overlay;
    if (canvas.width !== nv.canvas.width || canvas.height !== nv.canvas.height) {
      canvas.width = nv.canvas.width;
      canvas.height = nv.canvas.height;
    }
    const g = canvas.getContext("2d");
    g.clearRect(0, 0, canvas.width, canvas.height);
    const dpr = nv.uiData.dpr || 1;
    const axes = [...new Set(nv.screenSlices.map((tile) => tile.axCorSag).filter((axis) => axis <= 2))];
    const segments = ctx.data.lines.filter((line) => line.image_id === entry.view.imageId).map((line) => [line.points, true]);
    if (ctx.pending && ctx.pending.view === entry.view) {
      const end = ctx.mouse && ctx.mouse.view === entry.view ? ctx.mouse.lps : ctx.pending.lps;
      segments.push([[ctx.pending.lps, end], false]);
    }
    for (const axis of axes) {
      for (const [points, saved] of segments) {
        const a = screenOf(nv, axis, points[0]);
        const b = screenOf(nv, axis, points[1]);
        if (!a || !b) continue;
        g.strokeStyle = COLOR;
        g.fillStyle = COLOR;
        g.lineWidth = 2 * dpr;
        g.setLineDash(saved ? [] : [4 * dpr, 3 * dpr]);
        g.beginPath();
        g.moveTo(a[0], a[1]);
        g.lineTo(b[0], b[1]);
        g.stroke();
        for (const p of [a, b]) {
          g.beginPath();
          g.arc(p[0], p[1], 3 * dpr, 0, 2 * Math.PI);
          g.fill();
        }
        const text = lengthOf(points).toFixed(1) + " mm";
        g.font = 12 * dpr + "px sans-serif";
        g.lineWidth = 3 * dpr;
        g.strokeStyle = "#000";
        g.strokeText(text, b[0] + 6 * dpr, b[1] - 6 * dpr);
        g.fillText(text, b[0] + 6 * dpr, b[1] - 6 * dpr);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Panel

  function element(tag, props, children) {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children || []) node.append(child);
    return node;
  }

  function renderPanel() {
    let panel = $("line-tools");
    if (!panel) {
      panel = element("section", { id: "line-tools", className: "drawing-tools" });
      $("drawing-tools").after(panel);
    }
    panel.replaceChildren(element("h3", { textContent: editable() ? "Measurement lines" : "Measurement lines (read-only)" }));
    if (editable()) {
      const button = element("button", { type: "button", id: "tool-line", title: "two clicks place a line; drag an end to move it" });
      button.append("Line ", element("kbd", { textContent: "L" }));
      button.addEventListener("click", () => setActive(!ctx.active));
      panel.append(element("div", { className: "drawing-row tools" }, [button]));
    }
    panel.append(element("ul", { id: "line-list", className: "line-list" }));
    panel.append(element("p", { id: "line-status", className: "error", role: "alert" }));
    renderList();
  }

  function renderList() {
    const list = $("line-list");
    if (!list || !ctx.data) return;
    list.replaceChildren();
    for (const line of ctx.data.lines) {
      const item = element("li", { className: "line-item" }, [
        element("span", { className: "line-length", textContent: line.image_id + " · line " + line.number + ": " + lengthOf(line.points).toFixed(1) + " mm" }),
      ]);
      item.dataset.number = String(line.number);
      item.dataset.image = line.image_id;
      if (editable()) {
        const remove = element("button", { type: "button", className: "line-delete secondary", textContent: "Delete" });
        remove.addEventListener("click", () => deleteLine(line));
        item.append(" ", remove);
      }
      list.append(item);
    }
    if (!ctx.data.lines.length) list.append(element("li", { className: "hint", textContent: "No lines yet." }));
    const button = $("tool-line");
    if (button) button.setAttribute("aria-pressed", String(ctx.active));
  }

  function setStatus(text) {
    const status = $("line-status");
    if (status) status.textContent = text;
  }

  /** Turns the Line tool on or off (drawing.js turns it off when a drawing tool is chosen). */
  function setActive(active) {
    ctx.active = Boolean(active) && editable();
    ctx.pending = null;
    ctx.drag = null;
    for (const entry of ctx.views) entry.view.nv.canvas.style.cursor = ctx.active ? "crosshair" : "";
    changed();
  }

  document.addEventListener("keydown", (event) => {
    if (!ctx.data || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) &&
      !["range", "radio", "checkbox"].includes(target.type))) return;
    if (event.key.toLowerCase() === "l" && editable()) {
      setActive(!ctx.active);
      event.preventDefault();
    } else if (event.key === "Escape" && ctx.pending) {
      ctx.pending = null;
      changed();
    }
  });

  window.sessionkitLines = {
    pageShown: pageShown,
    pageLeft: pageLeft,
    flush: flush,
    setActive: setActive,
    vox2lps: vox2lps,
    lps2vox: lps2vox,
    state: ctx,
  };
})();
