/* sessionkit reader UI: contouring (issue #7; reading-flow §4, §7, §11; clarifications C1, C9).
 *
 * On a page with EnableSegmentEditor="Y" (the /page answer carries `drawing`), every viewport whose
 * background is one of `drawing.images` gets Niivue's drawing layer. The drawing is ONE bitmap per
 * image: the viewports showing the same image (e.g. axial and coronal) share the same Uint8Array, and
 * a stroke in one refreshes the others. Undo/redo are ours (a stack of voxel differences per image),
 * because Niivue's own undo stack is per Niivue instance.
 *
 * Saving: PUT /api/runs/{run}/drawings/{image} with the gzipped NIfTI of the drawing (Niivue's
 * saveImage({isSaveDrawing:true}) is on the background's native grid), every 30 s while it changed and
 * before every transition (app.js awaits beforeTransition). "Contour saved hh:mm:ss" only after the
 * server acknowledged (it fsyncs the .nrrd and the annotations.csv row before answering).
 *
 * Fill: the voxels whose centres lie inside the traced polygon (the RTSTRUCT rule), whatever the brush;
 * Niivue's filled pen (which fills inside the brush-painted outline) only draws the one-voxel trace.
 *
 * Display: the session's ContourVisibility (default Outline, D1) picks outline or fill; Niivue draws an
 * outline through drawRimOpacity (edge pixels of each label get that alpha) with a nearly transparent
 * interior (drawOpacity 0.001: at 0 Niivue skips the drawing, rims included). Each segment's opacity
 * is the alpha of its entry in the draw colormap (0 hides it); in outline mode the rim alpha is one
 * value for all segments, so per-segment opacity there only hides (0) or shows.
 *
 * app.js calls window.sessionkitDrawing at three points: pageShown(data, views) when a position is
 * shown, beforeTransition(transition, confirm) before a submission, pageLeft() when viewports go;
 * pageShown and pageLeft are passed on to the measurement lines (lines.js), and a transition first
 * waits for their saves.
 */
(function () {
  "use strict";

  const AUTOSAVE_MS = 30000;
  const UNDO_LIMIT = 100; // strokes kept per image
  const OUTLINE_INTERIOR_OPACITY = 0.001; // below one 8-bit step, but not 0 (see above)

  /** Tools, their keys and Niivue pen settings (value null: the selected segment). */
  const TOOLS = [
    { id: "navigate", label: "Navigate", key: "N", title: "click moves the crosshair, no drawing" },
    { id: "paint", label: "Paint", key: "P", title: "paint the selected segment with the brush" },
    { id: "erase", label: "Erase", key: "E", title: "erase with the brush" },
    { id: "fill", label: "Fill", key: "F", title: "draw a closed outline: it is filled on release (current slice)" },
  ];

  const ctx = {
    key: null, // run id + page instance whose drawings are loaded
    data: null, // the /page answer
    editable: false,
    images: new Map(), // image id -> record (see makeRecord)
    tool: "paint",
    segment: null, // selected label value
    hidden: new Set(), // label values not shown
    segmentOpacity: new Map(), // label value -> 0..1 (absent: 1)
    shown: true,
    outline: true, // ContourVisibility="Outline" (D1); O toggles
    opacity: 0.8,
    radiusMm: null,
    spacing: 1, // smallest voxel spacing (mm) of the drawable images
    timer: null,
    generation: 0,
    lastSaved: null, // ISO time of the last acknowledged save
    loaded: null, // page instance whose drawings are loaded (tests wait for it)
    lastEdited: null, // record of the last stroke, undo or redo
    trace: null, // pointer path of the Fill stroke in progress: {nv, axis, points}
  };

  /** Canvases whose pointer events are watched (once per canvas, across pages). */
  const hooked = new WeakSet();

  const $ = (id) => document.getElementById(id);
  const app = () => window.sessionkit.state;
  const { element } = window.sessionkitUi;

  // ---------------------------------------------------------------------------------------------
  // Page life cycle

  /** Shows the position `data` on `views`: the drawing tools and drawings, and the measurement lines (lines.js). */
  async function pageShown(data, views) {
    const lines = window.sessionkitLines;
    await Promise.all([showDrawings(data, views), lines ? lines.pageShown(data, views) : null]);
  }

  /** The viewports go away: drawings and lines are forgotten. */
  function pageLeft() {
    forget();
    if (window.sessionkitLines) window.sessionkitLines.pageLeft();
  }

  /** Shows the drawing tools and loads the reader's drawings of the position `data` on `views`. */
  async function showDrawings(data, views) {
    const drawing = data && data.drawing;
    const targets = drawing && data.scene ? views.filter((v) => v && drawing.images.includes(v.imageId)) : [];
    const key = targets.length ? app().runId + "/" + data.page_instance : null;
    const sameViews = key === ctx.key && targets.every((v) => (ctx.images.get(v.imageId) || { nvs: [] }).nvs.includes(v.nv));
    ctx.data = data;
    if (key && sameViews) {
      setEditable(Boolean(data.editable));
      return;
    }
    forget();
    if (!key) return;
    const generation = ctx.generation;
    ctx.key = key;
    ctx.editable = Boolean(data.editable);
    ctx.segment = drawing.segments.length ? drawing.segments[0].value : 1;
    ctx.hidden = new Set();
    ctx.segmentOpacity = new Map();
    ctx.outline = !data.scene || data.scene.contour_visibility !== "Fill";
    for (const view of targets) {
      if (!ctx.images.has(view.imageId)) ctx.images.set(view.imageId, makeRecord(view.imageId));
      ctx.images.get(view.imageId).nvs.push(view.nv);
    }
    ctx.spacing = Math.min(...targets.map((v) => smallestSpacing(v.nv)));
    ctx.radiusMm = drawing.radius_mm || 15 * 0.5 * ctx.spacing; // session-format §5 default
    await Promise.all([...ctx.images.values()].map((record) => loadRecord(record, generation)));
    if (generation !== ctx.generation) return;
    // A saved contour that could not be shown must not be overwritten by a new, partial one.
    const failed = [...ctx.images.values()].filter((record) => record.loadError);
    if (failed.length) {
      ctx.editable = false;
      setStatus("failed", "Saved contour not loaded (" + failed.map((r) => r.imageId + ": " + r.loadError).join("; ") +
        "); drawing is off on this page. Reload the page to try again.");
    }
    renderPanel();
    applySettings();
    if (ctx.editable) ctx.timer = setInterval(autosave, AUTOSAVE_MS);
    ctx.loaded = data.page_instance;
  }

  /** Forgets the current drawings (their viewports are going away or another instance is shown). */
  function forget() {
    ctx.generation += 1;
    if (ctx.timer) clearInterval(ctx.timer);
    ctx.timer = null;
    for (const record of ctx.images.values()) {
      for (const nv of record.nvs) nv.onDrawingChanged = () => {};
    }
    ctx.images = new Map();
    ctx.lastEdited = null;
    ctx.key = null;
    ctx.loaded = null;
    const panel = $("drawing-tools");
    if (panel) {
      panel.hidden = true;
      panel.replaceChildren();
    }
  }

  function makeRecord(imageId) {
    return {
      imageId: imageId,
      nvs: [],
      bitmap: null, // the shared drawing (Niivue's RAS-ordered grid)
      reference: null, // copy at the last recorded stroke, to find what a stroke changed
      undo: [],
      redo: [],
      version: 0, // incremented on every change
      savedVersion: 0,
      chain: Promise.resolve(), // saves of this image, one at a time
      loadError: null, // why the saved drawing could not be loaded (drawing then stays off)
    };
  }

  function smallestSpacing(nv) {
    const pix = nv.volumes[0].hdr.pixDims;
    return Math.min(Math.abs(pix[1]), Math.abs(pix[2]), Math.abs(pix[3])) || 1;
  }

  /** GETs the saved drawing (204: none) and installs it, shared, in every viewport of the image. */
  async function loadRecord(record, generation) {
    const url = "/api/runs/" + encodeURIComponent(app().runId) + "/drawings/" + encodeURIComponent(record.imageId) + ".nii.gz";
    const first = record.nvs[0];
    let loaded = false;
    try {
      const response = await fetch(url, { headers: authHeaders(), cache: "no-store" });
      if (generation !== ctx.generation) return;
      if (response.status === 200) {
        const image = await window.niivue.NVImage.new(await response.arrayBuffer(), "drawing.nii.gz");
        if (generation !== ctx.generation) return;
        loaded = first.loadDrawing(image);
        if (!loaded) record.loadError = "it does not match the image's grid";
      } else if (response.status !== 204) {
        record.loadError = await errorText(response);
      }
    } catch (err) {
      record.loadError = err.message;
    }
    if (generation !== ctx.generation) return;
    if (!loaded) {
      if (first.drawBitmap) first.closeDrawing();
      first.createEmptyDrawing();
    }
    record.bitmap = first.drawBitmap;
    record.reference = record.bitmap.slice();
    for (const nv of record.nvs) {
      if (nv !== first) {
        nv.createEmptyDrawing(); // creates the GPU texture
        nv.drawBitmap = record.bitmap;
        nv.refreshDrawing(true);
      }
      nv.onDrawingChanged = (action) => {
        if (action === "draw") strokeDone(record, nv);
      };
      watchPointer(nv);
    }
  }

  function authHeaders() {
    const token = app().token;
    return token ? { Authorization: "Bearer " + token } : {};
  }

  async function errorText(response) {
    try {
      const body = await response.json();
      return (body.message || "HTTP " + response.status) + (body.hint ? "\n" + body.hint : "");
    } catch (_) {
      return "HTTP " + response.status;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Strokes, undo, redo

  /** A stroke ended in `nv`: record what changed, share it with the image's other viewports. */
  function strokeDone(record, nv) {
    if (ctx.tool === "fill") fillTraced(record, nv);
    const current = nv.drawBitmap;
    if (current !== record.bitmap) record.bitmap = current; // the filled pen replaces the array
    const change = difference(record.reference, current);
    if (!change) return;
    record.undo.push(change);
    if (record.undo.length > UNDO_LIMIT) record.undo.shift();
    record.redo = [];
    ctx.lastEdited = record;
    changed(record, nv);
  }

  // ---------------------------------------------------------------------------------------------
  // Fill: the polygon the pointer traced, filled at voxel centres (the RTSTRUCT rule, io/rtstruct.py)

  /**
   * Records the pointer path of a Fill stroke in `nv` (continuous voxel coordinates of Niivue's RAS
   * grid). Niivue's own filled pen fills the outline it painted with the brush, so a traced outline
   * grew by the brush width; its result is replaced by `fillTraced` when the stroke ends.
   */
  function watchPointer(nv) {
    if (hooked.has(nv.canvas)) return;
    hooked.add(nv.canvas);
    const add = (event) => {
      const point = pointerVoxel(nv, event);
      if (point && ctx.trace && ctx.trace.nv === nv && point.axis === ctx.trace.axis) ctx.trace.points.push(point.vox);
    };
    nv.canvas.addEventListener("pointerdown", (event) => {
      ctx.trace = null;
      if (event.button !== 0 || ctx.tool !== "fill" || !ctx.editable) return;
      const point = pointerVoxel(nv, event);
      if (point) ctx.trace = { nv: nv, axis: point.axis, points: [point.vox] };
    }, true);
    nv.canvas.addEventListener("pointermove", (event) => {
      if (event.buttons & 1) add(event);
    }, true);
    nv.canvas.addEventListener("pointerup", add, true);
  }

  /** `{axis, vox}` under the pointer: the slice axis (0 axial, 1 coronal, 2 sagittal) and the voxel. */
  function pointerVoxel(nv, event) {
    const rect = nv.canvas.getBoundingClientRect();
    const dpr = nv.uiData.dpr || window.devicePixelRatio || 1;
    const x = (event.clientX - rect.left) * dpr;
    const y = (event.clientY - rect.top) * dpr;
    const tile = nv.tileIndex(x, y);
    if (tile < 0 || !nv.screenSlices[tile] || nv.screenSlices[tile].axCorSag > 2) return null;
    const frac = nv.canvasPos2frac([x, y]);
    if (frac[0] < 0) return null;
    const dims = nv.back.dimsRAS;
    return {
      axis: nv.screenSlices[tile].axCorSag,
      vox: [frac[0] * dims[1] - 0.5, frac[1] * dims[2] - 0.5, frac[2] * dims[3] - 0.5],
    };
  }

  /**
   * The Fill stroke just ended in `nv`: the drawing becomes the one before the stroke with the
   * voxels whose centres lie inside the traced polygon set to the segment (even-odd rule; a voxel
   * is inside when a ray from its centre crosses the outline an odd number of times).
   */
  function fillTraced(record, nv) {
    const trace = ctx.trace;
    ctx.trace = null;
    const filled = record.reference.slice();
    if (trace && trace.nv === nv && trace.points.length > 2) {
      fillPolygon(filled, nv.back.dimsRAS, trace.axis, trace.points, ctx.segment);
    }
    record.bitmap.set(filled);
    nv.drawBitmap = record.bitmap;
    nv.refreshDrawing(true);
  }

  /** Sets the voxels of one slice whose centres are inside `points` (closed polygon) to `value`. */
  function fillPolygon(bitmap, dims, axis, points, value) {
    const [a, b] = axis === 0 ? [0, 1] : axis === 1 ? [0, 2] : [1, 2];
    const c = 3 - a - b;
    const stride = [1, dims[1], dims[1] * dims[2]];
    const slice = Math.round(points[0][c]);
    if (slice < 0 || slice >= dims[c + 1]) return;
    const rows = points.map((p) => p[b]);
    const first = Math.max(0, Math.ceil(Math.min(...rows)));
    const last = Math.min(dims[b + 1] - 1, Math.floor(Math.max(...rows)));
    for (let row = first; row <= last; row++) {
      const crossings = [];
      for (let i = 0; i < points.length; i++) {
        const p = points[i];
        const q = points[(i + 1) % points.length];
        if ((p[b] > row) !== (q[b] > row)) crossings.push(p[a] + ((row - p[b]) * (q[a] - p[a])) / (q[b] - p[b]));
      }
      crossings.sort((x, y) => x - y);
      for (let k = 0; k + 1 < crossings.length; k += 2) {
        const from = Math.max(0, Math.ceil(crossings[k]));
        const to = Math.min(dims[a + 1], Math.ceil(crossings[k + 1]));
        for (let column = from; column < to; column++) {
          bitmap[column * stride[a] + row * stride[b] + slice * stride[c]] = value;
        }
      }
    }
  }

  /** Voxels where `after` differs from `before`: {index, before, after}, or null when none. */
  function difference(before, after) {
    const index = [];
    for (let i = 0; i < after.length; i++) if (after[i] !== before[i]) index.push(i);
    if (!index.length) return null;
    const idx = Uint32Array.from(index);
    return { index: idx, before: Uint8Array.from(idx, (i) => before[i]), after: Uint8Array.from(idx, (i) => after[i]) };
  }

  function changed(record, origin) {
    record.reference.set(record.bitmap);
    record.version += 1;
    for (const nv of record.nvs) {
      if (nv.drawBitmap !== record.bitmap) nv.drawBitmap = record.bitmap;
      if (nv !== origin) nv.refreshDrawing(true);
    }
    setStatus("draft", "Contour not saved yet");
    renderHistory();
  }

  /** Undo (`back`) or redo the last change of the image under the last stroke. */
  function step(back) {
    if (!ctx.editable) return;
    const record = lastEdited();
    if (!record) return;
    const change = (back ? record.undo : record.redo).pop();
    if (!change) return;
    const values = back ? change.before : change.after;
    for (let k = 0; k < change.index.length; k++) record.bitmap[change.index[k]] = values[k];
    (back ? record.redo : record.undo).push(change);
    ctx.lastEdited = record;
    changed(record, null);
  }

  /** The image of the most recent stroke, undo or redo (else the first image). */
  function lastEdited() {
    return ctx.lastEdited || ctx.images.values().next().value || null;
  }

  function anyDrawn() {
    for (const record of ctx.images.values()) {
      if (record.bitmap && record.bitmap.some((v) => v !== 0)) return true;
    }
    return false;
  }

  // ---------------------------------------------------------------------------------------------
  // Saving

  /** Saves every image changed since its last acknowledged save; rejects with a reader-facing Error. */
  function saveAll() {
    const pending = [];
    for (const record of ctx.images.values()) {
      if (record.version !== record.savedVersion) {
        record.chain = record.chain.catch(() => {}).then(() => saveRecord(record, ctx.generation));
      }
      pending.push(record.chain);
    }
    return Promise.all(pending);
  }

  async function saveRecord(record, generation) {
    const version = record.version;
    if (version === record.savedVersion || generation !== ctx.generation) return;
    setStatus("saving", "Saving contour…");
    const raw = await record.nvs[0].saveImage({ filename: "", isSaveDrawing: true, volumeByIndex: 0 });
    const body = await gzip(raw);
    const url = "/api/runs/" + encodeURIComponent(app().runId) + "/drawings/" + encodeURIComponent(record.imageId);
    let response;
    try {
      response = await fetch(url, {
        method: "PUT",
        headers: { ...authHeaders(), "Content-Type": "application/octet-stream" },
        body: body,
        cache: "no-store",
      });
    } catch (err) {
      if (generation === ctx.generation) setStatus("failed", "Contour not saved");
      throw new Error("The contour could not be saved: the server did not answer (" + err.message + ").");
    }
    if (!response.ok) {
      const text = await errorText(response);
      if (generation === ctx.generation) setStatus("failed", "Contour not saved");
      const error = new Error("The contour on image " + record.imageId + " could not be saved: " + text);
      error.status = response.status;
      throw error;
    }
    const result = await response.json();
    record.savedVersion = Math.max(record.savedVersion, version);
    ctx.lastSaved = result.saved_at || new Date().toISOString();
    if (generation === ctx.generation) {
      const dirty = [...ctx.images.values()].some((r) => r.version !== r.savedVersion);
      setStatus(dirty ? "draft" : "saved", "Contour saved " + new Date(ctx.lastSaved).toLocaleTimeString());
    }
  }

  /** gzip through the browser's CompressionStream (the server also takes plain .nii). */
  async function gzip(bytes) {
    if (typeof CompressionStream === "undefined") return bytes;
    const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  function autosave() {
    if (!ctx.editable || app().busy) return;
    saveAll().catch((err) => setStatus("failed", err.message));
  }

  /**
   * Before a transition: the SK915 confirmation (reading-flow §4; autosave never asks), then every
   * changed drawing saved. Resolves false when the reader cancels; rejects when a save fails. A save
   * answered 404 (the server was restarted and no longer knows the run) signs in again through
   * `reconnect` (app.js) and, when the reader is still on the same entry ("retry"), saves once more.
   */
  async function beforeTransition(transition, confirm, reconnect) {
    if (window.sessionkitLines) await window.sessionkitLines.flush(); // line saves in flight are answered first
    if (!ctx.key || !ctx.editable) return true;
    if (transition !== "autosave" && ctx.data && ctx.data.confirm_no_contours && !anyDrawn()) {
      const proceed = await confirm("No contours drawn — continue?", "Continue");
      await logConfirmation(transition, proceed);
      if (!proceed) return false;
    }
    try {
      await saveAll();
    } catch (err) {
      if (err.status !== 404 || !reconnect) throw err;
      const outcome = await reconnect();
      if (outcome === "moved") return false;
      if (outcome !== "retry") throw err;
      await saveAll();
    }
    return true;
  }

  /** Logs the reader's SK915 answer in events.jsonl (IQ: "Canc for contouring"); failures are ignored. */
  async function logConfirmation(transition, proceed) {
    const url = "/api/runs/" + encodeURIComponent(app().runId) + "/confirmations";
    const body = { code: "SK915", answer: proceed ? "continue" : "cancel", transition: transition };
    try {
      await fetch(url, {
        method: "POST",
        headers: { ...authHeaders(), "Content-Type": "application/json" },
        body: JSON.stringify(body),
        cache: "no-store",
      });
    } catch (_) {
      // the answer itself is what matters; the log line is best effort
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Tools and settings

  /** Brush width in voxels for Niivue's square pen (odd; 1 at the minimum radius, ½ spacing). */
  function penSize() {
    return 2 * Math.max(0, Math.round(ctx.radiusMm / ctx.spacing - 0.5)) + 1;
  }

  function drawLut() {
    const segments = (ctx.data.drawing.segments || []).slice().sort((a, b) => a.value - b.value);
    const lut = { R: [0], G: [0], B: [0], A: [0], I: [0], labels: [""] };
    for (const segment of segments) {
      lut.R.push(segment.color[0]);
      lut.G.push(segment.color[1]);
      lut.B.push(segment.color[2]);
      lut.A.push(ctx.hidden.has(segment.value) ? 0 : Math.round(255 * segmentOpacity(segment.value)));
      lut.I.push(segment.value);
      lut.labels.push(segment.name);
    }
    return lut;
  }

  function segmentOpacity(value) {
    return ctx.segmentOpacity.has(value) ? ctx.segmentOpacity.get(value) : 1;
  }

  /** Pushes tool, pen, colours and opacity to every drawing viewport. */
  function applySettings() {
    const lut = drawLut();
    for (const record of ctx.images.values()) {
      for (const nv of record.nvs) {
        nv.setDrawColormap(lut);
        nv.drawRimOpacity = ctx.outline ? ctx.opacity : -1;
        nv.setDrawOpacity(ctx.shown ? (ctx.outline ? OUTLINE_INTERIOR_OPACITY : ctx.opacity) : 0);
        nv.opts.penSize = ctx.tool === "fill" ? 1 : penSize(); // Fill: a thin trace, filled on release
        nv.drawFillOverwrites = true;
        nv.setDrawingEnabled(ctx.editable && ctx.tool !== "navigate");
        if (ctx.tool === "erase") nv.setPenValue(0, false);
        else nv.setPenValue(ctx.segment, ctx.tool === "fill");
      }
    }
    renderState();
  }

  function setEditable(editable) {
    if ([...ctx.images.values()].some((record) => record.loadError)) editable = false;
    if (editable === ctx.editable) return;
    ctx.editable = editable;
    if (!editable && ctx.timer) {
      clearInterval(ctx.timer);
      ctx.timer = null;
    }
    renderPanel();
    applySettings();
  }

  function setTool(tool) {
    ctx.tool = tool;
    if (window.sessionkitLines) window.sessionkitLines.setActive(false); // one tool at a time
    applySettings();
  }

  function setRadius(mm) {
    const min = 0.5 * ctx.spacing;
    ctx.radiusMm = Math.min(Math.max(mm, min), 60 * min);
    applySettings();
  }

  function setStatus(kind, text) {
    const element = $("contour-saved");
    if (!element) return;
    element.hidden = false;
    element.dataset.state = kind;
    element.textContent = text;
  }

  // ---------------------------------------------------------------------------------------------
  // Panel

  function renderPanel() {
    const panel = $("drawing-tools");
    if (!panel) return;
    panel.replaceChildren();
    panel.hidden = false;
    const segments = ctx.data.drawing.segments || [];
    panel.append(element("h3", { textContent: ctx.editable ? "Contour" : "Contour (read-only)" }));
    if (ctx.editable) {
      const tools = element("div", { className: "drawing-row tools" });
      for (const tool of TOOLS) {
        const button = element("button", { type: "button", id: "tool-" + tool.id, title: tool.title });
        button.append(tool.label + " ", element("kbd", { textContent: tool.key }));
        button.addEventListener("click", () => setTool(tool.id));
        tools.append(button);
      }
      const undo = element("button", { type: "button", id: "drawing-undo", title: "undo the last stroke" });
      undo.append("Undo ", element("kbd", { textContent: "Ctrl+Z" }));
      undo.addEventListener("click", () => step(true));
      const redo = element("button", { type: "button", id: "drawing-redo", title: "redo" });
      redo.append("Redo ", element("kbd", { textContent: "Ctrl+Y" }));
      redo.addEventListener("click", () => step(false));
      tools.append(undo, redo);
      panel.append(tools);
      const min = 0.5 * ctx.spacing;
      const radius = element("input", {
        type: "range", id: "brush-radius", min: String(min), max: String(60 * min), step: String(min),
        value: String(ctx.radiusMm),
      });
      radius.addEventListener("input", () => setRadius(Number(radius.value)));
      panel.append(element("label", { className: "drawing-row" }, [
        "Brush ", radius, element("span", { id: "brush-text" }), element("kbd", { textContent: "[ ]" }),
      ]));
    }
    const list = element("div", { className: "segments", id: "segment-list" });
    segments.forEach((segment, i) => {
      const pick = element("input", { type: "radio", name: "segment", value: String(segment.value), disabled: !ctx.editable });
      pick.addEventListener("change", () => {
        ctx.segment = segment.value;
        if (ctx.tool === "erase" || ctx.tool === "navigate") ctx.tool = "paint";
        applySettings();
      });
      const swatch = element("span", { className: "swatch" });
      swatch.style.background = "rgb(" + segment.color.slice(0, 3).join(",") + ")";
      const visible = element("input", {
        type: "checkbox", className: "segment-visible", checked: !ctx.hidden.has(segment.value), title: "show this segment",
      });
      visible.addEventListener("change", () => {
        if (visible.checked) ctx.hidden.delete(segment.value);
        else ctx.hidden.add(segment.value);
        applySettings();
      });
      const alpha = element("input", {
        type: "range", className: "segment-opacity", min: "0", max: "1", step: "0.05",
        value: String(segmentOpacity(segment.value)), title: "opacity of this segment",
      });
      alpha.style.width = "4rem";
      alpha.addEventListener("input", () => {
        ctx.segmentOpacity.set(segment.value, Number(alpha.value));
        applySettings();
      });
      const name = element("span", { className: "segment-name", textContent: segment.value + " " + segment.name });
      const key = i < 9 ? element("kbd", { textContent: String(i + 1) }) : "";
      list.append(element("label", { className: "segment" }, [pick, swatch, name, key, visible, alpha]));
      list.lastChild.dataset.value = String(segment.value);
    });
    panel.append(list);
    const show = element("input", { type: "checkbox", id: "drawing-shown", checked: ctx.shown });
    show.addEventListener("change", () => {
      ctx.shown = show.checked;
      applySettings();
    });
    const opacity = element("input", { type: "range", id: "drawing-opacity", min: "0", max: "1", step: "0.05", value: String(ctx.opacity) });
    opacity.addEventListener("input", () => {
      ctx.opacity = Number(opacity.value);
      applySettings();
    });
    const outline = element("input", { type: "checkbox", id: "drawing-outline", checked: ctx.outline });
    outline.addEventListener("change", () => {
      ctx.outline = outline.checked;
      applySettings();
    });
    panel.append(element("div", { className: "drawing-row" }, [
      element("label", {}, [show, " Show ", element("kbd", { textContent: "H" })]),
      element("label", {}, [" ", outline, " Outline ", element("kbd", { textContent: "O" })]),
      element("label", {}, [" Opacity ", opacity]),
    ]));
    if (ctx.editable) {
      panel.append(element("p", {
        className: "hint",
        textContent: "Keys: N navigate, P paint, E erase, F fill, 1-9 segment, [ ] brush size, " +
          "Ctrl+Z undo, Ctrl+Y redo, H show/hide, O outline/fill. Saved every 30 s and before leaving the page.",
      }));
    }
  }

  /** Reflects the current tool, segment and brush in the panel. */
  function renderState() {
    for (const tool of TOOLS) {
      const button = $("tool-" + tool.id);
      if (button) button.setAttribute("aria-pressed", String(tool.id === ctx.tool));
    }
    for (const input of document.querySelectorAll("#segment-list input[type=radio]")) {
      input.checked = Number(input.value) === ctx.segment;
    }
    const text = $("brush-text");
    if (text) text.textContent = " " + ctx.radiusMm.toFixed(2) + " mm (" + penSize() + " voxels) ";
    const radius = $("brush-radius");
    if (radius) radius.value = String(ctx.radiusMm);
    const shown = $("drawing-shown");
    if (shown) shown.checked = ctx.shown;
    const outline = $("drawing-outline");
    if (outline) outline.checked = ctx.outline;
    renderHistory();
  }

  function renderHistory() {
    const record = lastEdited();
    const undo = $("drawing-undo");
    const redo = $("drawing-redo");
    if (undo) undo.disabled = !record || !record.undo.length;
    if (redo) redo.disabled = !record || !record.redo.length;
  }

  // ---------------------------------------------------------------------------------------------
  // Keyboard

  function onKey(event) {
    if (!ctx.key) return;
    const target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) && target.type !== "range" &&
      target.type !== "radio" && target.type !== "checkbox")) return;
    const key = event.key.toLowerCase();
    let handled = true;
    if (event.ctrlKey || event.metaKey) {
      if (key === "z" && !event.shiftKey) step(true);
      else if (key === "y" || (key === "z" && event.shiftKey)) step(false);
      else handled = false;
    } else if (event.altKey) {
      handled = false;
    } else if (key === "h") {
      ctx.shown = !ctx.shown;
      applySettings();
    } else if (key === "o") {
      ctx.outline = !ctx.outline;
      applySettings();
    } else if (!ctx.editable) {
      handled = false;
    } else if (key === "n" || key === "p" || key === "e" || key === "f") {
      setTool({ n: "navigate", p: "paint", e: "erase", f: "fill" }[key]);
    } else if (key === "[" || key === "]") {
      setRadius(ctx.radiusMm + (key === "]" ? 1 : -1) * 0.5 * ctx.spacing);
    } else if (/^[1-9]$/.test(key) && ctx.data.drawing.segments[Number(key) - 1]) {
      ctx.segment = ctx.data.drawing.segments[Number(key) - 1].value;
      if (ctx.tool === "erase" || ctx.tool === "navigate") ctx.tool = "paint";
      applySettings();
    } else {
      handled = false;
    }
    if (handled) event.preventDefault();
  }

  document.addEventListener("keydown", onKey);
  // Leaving the tab: start a save of what changed (best effort; the 30 s autosave bounds the loss).
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") autosave();
  });

  window.sessionkitDrawing = {
    pageShown: pageShown,
    pageLeft: pageLeft,
    beforeTransition: beforeTransition,
    saveNow: saveAll,
    undo: () => step(true),
    redo: () => step(false),
    setTool: setTool,
    penSize: penSize,
    state: ctx,
  };
})();
