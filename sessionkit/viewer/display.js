/* sessionkit reader UI: display attributes of a page's viewports (session-format §6, reading-flow §12,
 * §14.4). Loaded before app.js; app.js calls window.sessionkitDisplay.
 *
 * - configure(nv, view, page): before the volumes load: Niivue's atlasOutline 1 draws label borders
 *   opaque in both ContourVisibility modes (clarifications C13: opaque outline).
 * - labelOpacity(layer, page): the opacity a label layer is loaded with: its fill opacity (0.5, Slicer's
 *   2-D default) in Fill mode, 0.001 in Outline mode (the interior then does not show, the border does).
 * - sliceReadout(view, body): "Slice k/N · <axis> <mm> mm (LPS)" in a corner of the viewport.
 * - applyInitialView(nv, view, page): window/level (restored > WindowLevel > automatic), ZoomFactor
 *   and PanOrigin (LPS mm) from the viewport's Background (D7), slice offset (restored > InitialSliceOffset
 *   > volume centre), VolumeSequence frame.
 * - volumeEntry(layer, name, page): Niivue loadVolumes entry (colormap from the Slicer ColorTable name).
 * - viewState(view): what a submission records for one viewport (reading-flow §12), viewing mode included.
 * - viewModeControl / setViewMode / restoreLayout: alternate view modes ("3 Planes", "1 Plane ...").
 * - linkViews(views): LinkViews="Y" through Niivue's broadcastTo.
 * - frameSlider(view, body): slider for 4-D volumes.
 * - interaction: UserInteractionLog="Y" pages post every view change (corner geometry) to the server,
 *   with zoom and pan frozen while on the page (D8).
 * - resetView / resetWindowLevel: the registered Button actions reset_view.py / reset_window_level.py.
 */
(function () {
  "use strict";

  /** Axis (RAS, mm) along which each orientation's slice offset is measured (Slicer's slice offset). */
  const NORMAL_AXIS = { Sagittal: 0, Coronal: 1, Axial: 2 };

  /** Niivue's slice types for the session's DefaultOrientation values. */
  const SLICE_TYPE = { Axial: 0, Coronal: 1, Sagittal: 2 };

  /** Slicer colour-table names with a close Niivue colormap; anything else is shown in gray. */
  const COLORMAPS = {
    Grey: "gray", Iron: "hotiron", Rainbow: "jet", FullRainbow: "jet", Ocean: "winter",
    Red: "red", Green: "green", Blue: "blue", "PET-Heat": "hot", Viridis: "viridis",
    Magma: "magma", Inferno: "inferno", Plasma: "plasma", Cividis: "cividis",
    Warm1: "warm", Warm2: "warm", Warm3: "warm", Cool1: "cool", Cool2: "cool", Cool3: "cool",
    WarmShade1: "warm", WarmShade2: "warm", WarmShade3: "warm", WarmTint1: "warm", WarmTint2: "warm",
    WarmTint3: "warm", CoolShade1: "cool", CoolShade2: "cool", CoolShade3: "cool", CoolTint1: "cool",
    CoolTint2: "cool", CoolTint3: "cool", Yellow: "gold", Magenta: "violet", fMRI: "redyell",
    fMRIPA: "redyell", "PET-Rainbow": "nih", ColdToHotRainbow: "jet", DivergingBlueRed: "blue2red",
    InvertedGrey: "sk_inverted_grey", // registered by display.js
  };

  /** Opacity of a label layer's interior in Outline mode (below one 8-bit step: invisible). */
  const OUTLINE_INTERIOR_OPACITY = 0.001;

  function restoreOf(view, page) {
    const restores = (page && page.restore_views) || [];
    const background = view.layers[0] || {};
    return restores.find((r) => r.destination === view.destination && r.image_id === background.image_id) ||
      restores.find((r) => r.destination === view.destination) || null;
  }

  function outlineMode(page) {
    return Boolean(page && page.scene && page.scene.contour_visibility === "Outline");
  }

  /** Slicer's InvertedGrey (white to black), registered in Niivue's global colormap table. */
  const INVERTED_GREY = { R: [255, 0], G: [255, 0], B: [255, 0], A: [0, 128], I: [0, 255] };

  function configure(nv, view, page) {
    nv.addColormap("sk_inverted_grey", INVERTED_GREY);
    // Border voxels of label volumes (NIfTI intent 1002) get alpha 1; the interior keeps the layer opacity.
    nv.opts.atlasOutline = 1;
  }

  /**
   * Fill mode: the layer's fill opacity (0.5 from the scene; the border stays opaque). Outline mode:
   * nearly transparent, so only the borders (alpha atlasOutline = 1) show. Not 0: Niivue skips a layer
   * of opacity 0 altogether, borders included (measured). `outline` overrides the page's mode.
   */
  function labelOpacity(layer, page, outline) {
    const asOutline = outline === undefined ? outlineMode(page) : outline;
    return asOutline ? OUTLINE_INTERIOR_OPACITY : layer.opacity;
  }

  /** Niivue loadVolumes entry for one scene layer. */
  function volumeEntry(layer, name, page) {
    const opacity = layer.kind === "labelmap" ? labelOpacity(layer, page) : layer.opacity;
    const entry = { url: layer.url, name: name, opacity: opacity };
    if (layer.kind === "volume") {
      entry.colormap = COLORMAPS[layer.colormap] || "gray";
      if (layer.window_level) {
        const [window_, level] = layer.window_level;
        entry.cal_min = level - window_ / 2;
        entry.cal_max = level + window_ / 2;
      }
    }
    return entry;
  }

  function setWindowLevel(volume, window_, level) {
    volume.cal_min = level - window_ / 2;
    volume.cal_max = level + window_ / 2;
  }

  /**
   * Pan that centres the view on `lps` (mm; null: the volume centre) at `zoom`. Niivue draws its 2-D
   * field of view in the background's "ortho" frame as (box - pan) / zoom, so the middle of the view
   * shows (box centre - pan) / zoom.
   */
  function panFor(nv, zoom, lps) {
    const back = nv.volumes[0];
    const centre = [0, 1, 2].map((i) => (back.extentsMinOrtho[i] + back.extentsMaxOrtho[i]) / 2);
    let target = centre;
    if (lps) {
      const m = back.mm2ortho; // gl-matrix mat4, column-major
      const ras = [-lps[0], -lps[1], lps[2]];
      target = m ? [0, 1, 2].map((r) => m[r] * ras[0] + m[4 + r] * ras[1] + m[8 + r] * ras[2] + m[12 + r]) : ras;
    }
    return [0, 1, 2].map((i) => centre[i] - zoom * target[i]).concat([zoom]);
  }

  function applyInitialView(nv, view, page) {
    const restore = restoreOf(view, page);
    const back = nv.volumes[0];
    const initial = { window: null, level: null };
    if (back) {
      initial.window = back.cal_max - back.cal_min;
      initial.level = (back.cal_max + back.cal_min) / 2;
      if (restore && restore.window !== null && restore.level !== null) {
        setWindowLevel(back, restore.window, restore.level);
        nv.updateGLVolume();
      }
    }
    const zoom = view.zoom_factor || 1;
    nv.scene.pan2Dxyzmm = panFor(nv, zoom, view.pan_origin);
    const offset = restore && restore.slice_offset !== null && restore.slice_offset !== undefined
      ? restore.slice_offset : view.initial_slice_offset;
    if (offset !== null && offset !== undefined) {
      const mm = nv.frac2mm(nv.scene.crosshairPos);
      mm[NORMAL_AXIS[view.orientation] ?? 2] = offset;
      nv.scene.crosshairPos = nv.mm2frac([mm[0], mm[1], mm[2]]);
    }
    if (back && back.nFrame4D > 1 && restore && Number.isInteger(restore.frame)) {
      nv.setFrame4D(back.id, Math.min(Math.max(restore.frame, 0), back.nFrame4D - 1));
    }
    nv.drawScene();
    return { initialWindow: initial, initialPan: nv.scene.pan2Dxyzmm.slice(), initialCrosshair: nv.scene.crosshairPos.slice() };
  }

  /** Restores slice, zoom and pan of every viewport to their values at display (Button reset_view.py). */
  function resetView(views) {
    for (const view of views) {
      view.nv.scene.pan2Dxyzmm = view.initial.initialPan.slice();
      view.nv.scene.crosshairPos = view.initial.initialCrosshair.slice();
      view.nv.drawScene();
    }
  }

  /** Restores the window/level of every viewport's background (Button reset_window_level.py). */
  function resetWindowLevel(views) {
    for (const view of views) {
      const back = view.nv.volumes[0];
      const initial = view.initial.initialWindow;
      if (!back || initial.window === null) continue;
      setWindowLevel(back, initial.window, initial.level);
      view.nv.updateGLVolume();
    }
  }

  /**
   * What a submission records for one viewport (reading-flow §12). In a "1 Plane" mode the orientation
   * is the plane shown and the slice offset is measured along its normal; "3 Planes" keeps the
   * viewport's own orientation.
   */
  function viewState(view) {
    const nv = view.nv;
    const back = nv.volumes[0];
    const mm = nv.frac2mm(nv.scene.crosshairPos);
    const orientation = shownOrientation(view);
    return {
      destination: view.destination,
      image_id: view.imageId,
      orientation: orientation,
      slice_offset: mm[NORMAL_AXIS[orientation] ?? 2],
      window: back ? back.cal_max - back.cal_min : null,
      level: back ? (back.cal_max + back.cal_min) / 2 : null,
      zoom: nv.scene.pan2Dxyzmm[3],
      viewing_mode: view.viewingMode || "Default",
      frame: back && back.nFrame4D > 1 ? back.frame4D : null,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Alternate view modes (reading-flow §4 common rules, §12; IQ's "3 Planes" / "1 Plane" buttons)

  /** Viewing modes a viewport offers; "Default" is the page layout's own orientation. */
  const VIEW_MODES = ["Default", "3 Planes", "1 Plane Axial", "1 Plane Sagittal", "1 Plane Coronal"];

  /** The orientation whose slices a viewport shows: the plane of a "1 Plane" mode, else its own. */
  function shownOrientation(view) {
    const mode = view.viewingMode || "Default";
    return mode.startsWith("1 Plane ") ? mode.slice("1 Plane ".length) : view.orientation;
  }

  /** Switches one viewport to `mode` (Niivue multiplanar for "3 Planes", one slice type otherwise). */
  function setViewMode(view, mode) {
    if (!VIEW_MODES.includes(mode)) throw new Error("unknown viewing mode " + mode);
    view.viewingMode = mode;
    const nv = view.nv;
    nv.setSliceType(mode === "3 Planes" ? nv.sliceTypeMultiplanar : SLICE_TYPE[shownOrientation(view)] ?? 0);
    if (view.modeSelect) view.modeSelect.value = mode;
    if (view.updateReadout) view.updateReadout();
  }

  /** A view-mode chooser in the viewport's title bar; onSwitch(mode) runs just before each switch. */
  function viewModeControl(view, cell, onSwitch) {
    const select = document.createElement("select");
    select.className = "view-mode";
    select.id = "view-mode-" + view.destination;
    select.setAttribute("aria-label", "View mode of the " + view.destination + " viewport");
    for (const mode of VIEW_MODES) select.add(new Option(mode, mode));
    view.viewingMode = "Default";
    view.modeSelect = select;
    select.addEventListener("change", () => {
      if (onSwitch) onSwitch(select.value); // the state before the switch is captured first (§12)
      setViewMode(view, select.value);
    });
    cell.querySelector(".viewport-label").appendChild(select);
  }

  /** The page layout back (every viewport to "Default"), after its state was captured (§4). */
  function restoreLayout(views) {
    for (const view of views) {
      if ((view.viewingMode || "Default") !== "Default") setViewMode(view, "Default");
    }
  }

  /**
   * Slice number and position of a viewport, kept up to date: "Slice k/N · S 12.50 mm". Niivue shows the
   * background's voxel planes reoriented to the nearest RAS axes; k counts them (1-based) along the
   * viewport normal from the left, posterior or inferior end (Niivue's frac 0), and the position is the LPS coordinate of that plane's centre along the normal (x sagittal, y
   * coronal, z axial), labelled by the LPS letter of its positive direction (L, P, S).
   */
  function sliceReadout(view, body) {
    const readout = document.createElement("div");
    readout.className = "slice-readout";
    readout.id = "slice-" + view.destination;
    body.appendChild(readout);
    const update = () => {
      const nv = view.nv;
      const back = nv.volumes[0];
      if (!back || !back.dimsRAS) return;
      const axis = NORMAL_AXIS[shownOrientation(view)] ?? 2;
      const count = back.dimsRAS[axis + 1];
      const frac = Array.from(nv.scene.crosshairPos).slice(0, 3);
      const index = Math.min(Math.max(Math.round(frac[axis] * count - 0.5), 0), count - 1);
      frac[axis] = (index + 0.5) / count; // the centre of the plane shown
      const ras = nv.frac2mm(frac);
      const lps = axis === 2 ? ras[2] : -ras[axis];
      readout.textContent = "Slice " + (index + 1) + "/" + count + " · " + "LPS"[axis] + " " + lps.toFixed(2) + " mm";
    };
    view.nv.addEventListener("locationChange", update);
    update();
    view.updateReadout = update;
  }

  function linkViews(views) {
    for (const view of views) {
      const others = views.filter((other) => other !== view).map((other) => other.nv);
      view.nv.broadcastTo(others, { "2d": true, "3d": true });
    }
  }

  /** A frame slider under a 4-D background (VolumeSequence); nothing for 3-D volumes. */
  function frameSlider(view, body) {
    const back = view.nv.volumes[0];
    if (!back || !(back.nFrame4D > 1)) return;
    const label = document.createElement("label");
    label.className = "frame-slider";
    const input = document.createElement("input");
    input.type = "range";
    input.min = "0";
    input.max = String(back.nFrame4D - 1);
    input.value = String(back.frame4D || 0);
    input.id = "frame-" + view.destination;
    const text = document.createElement("span");
    text.textContent = "Frame " + (Number(input.value) + 1) + "/" + back.nFrame4D;
    input.addEventListener("input", () => {
      view.nv.setFrame4D(back.id, Number(input.value));
      text.textContent = "Frame " + (Number(input.value) + 1) + "/" + back.nFrame4D;
    });
    label.append(input, text);
    body.appendChild(label);
  }

  // -------------------------------------------------------------------------------------------
  // Interaction log (reading-flow §14.4)

  const interaction = {
    post: null, // (body) => Promise, set by start()
    views: [],
    layout: "",
    shownAt: 0,
    timer: null,
    active: false,
    listeners: [], // [element, type, handler, capture] added while on the page (freeze, D8)
  };

  function listen(element, type, handler, capture) {
    element.addEventListener(type, handler, capture);
    interaction.listeners.push([element, type, handler, capture]);
  }

  /**
   * D8: zoom and pan stay as displayed while on an interaction-log page. The middle-button drag (Niivue's
   * pan/zoom) is swallowed before Niivue sees it, and any other change is undone after the gesture.
   */
  function freeze(view) {
    const nv = view.nv;
    const frozen = nv.scene.pan2Dxyzmm.slice();
    const swallow = (event) => {
      if (event.button === 1) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    };
    const restore = () => setTimeout(() => {
      if (frozen.some((value, i) => value !== nv.scene.pan2Dxyzmm[i])) {
        nv.scene.pan2Dxyzmm = frozen.slice();
        nv.drawScene();
      }
    }, 0);
    for (const type of ["pointerdown", "mousedown"]) listen(nv.canvas, type, swallow, true);
    for (const type of ["pointerup", "wheel", "keyup"]) listen(nv.canvas, type, restore, false);
  }

  /** Screen (CSS px from the canvas' top-left) -> RAS mm, row-major 4x4, from three in-plane points. */
  function screenToRas(nv) {
    const ratio = nv.uiData && nv.uiData.dpr ? nv.uiData.dpr : window.devicePixelRatio || 1;
    const centreMm = nv.frac2mm(nv.scene.crosshairPos);
    const axis = [2, 1, 0][nv.opts.sliceType] ?? 2;
    const inPlane = [0, 1, 2].filter((i) => i !== axis);
    const points = [centreMm.slice(0, 3)];
    for (const i of inPlane) {
      const p = centreMm.slice(0, 3);
      p[i] += 10;
      points.push(p);
    }
    const screen = points.map((p) => nv.frac2canvasPos(nv.mm2frac(p)).map((v) => v / ratio));
    // Solve [dx dy] -> mm for the two in-plane directions.
    const du = [screen[1][0] - screen[0][0], screen[1][1] - screen[0][1]];
    const dv = [screen[2][0] - screen[0][0], screen[2][1] - screen[0][1]];
    const det = du[0] * dv[1] - du[1] * dv[0];
    if (!det) return null;
    // mm = P0 + a*10*e_u + b*10*e_v with [dx, dy] = a*du + b*dv.
    const inv = [[dv[1] / det, -dv[0] / det], [-du[1] / det, du[0] / det]];
    const m = [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]];
    for (let r = 0; r < 3; r++) {
      const eu = r === inPlane[0] ? 10 : 0;
      const ev = r === inPlane[1] ? 10 : 0;
      m[r][0] = eu * inv[0][0] + ev * inv[1][0];
      m[r][1] = eu * inv[0][1] + ev * inv[1][1];
      m[r][3] = points[0][r] - m[r][0] * screen[0][0] - m[r][1] * screen[0][1];
    }
    return m.flat();
  }

  function sample() {
    return interaction.views.map((view) => {
      const canvas = view.nv.canvas;
      return {
        destination: view.destination,
        width: canvas.clientWidth,
        height: canvas.clientHeight,
        screen_to_ras: screenToRas(view.nv),
      };
    }).filter((v) => v.screen_to_ras);
  }

  function uptime() {
    return Math.round(performance.now() - interaction.shownAt);
  }

  function flush() {
    interaction.timer = null;
    if (!interaction.active) return;
    interaction.post({ uptime_ms: uptime(), layout: interaction.layout, views: sample() }).catch(() => {});
  }

  function schedule() {
    if (!interaction.active || interaction.timer) return;
    interaction.timer = setTimeout(flush, 150);
  }

  /** Starts logging the page's view changes (only when the page asks for it). */
  function startInteractionLog(page, views, post) {
    stopInteractionLog();
    const scene = page && page.scene;
    interaction.active = Boolean(page && page.user_interaction_log && page.editable && views.length);
    if (!interaction.active) return;
    interaction.post = post;
    interaction.views = views;
    interaction.layout = scene ? scene.layout : "";
    interaction.shownAt = performance.now();
    for (const view of views) {
      freeze(view);
      view.nv.onLocationChange = schedule;
      view.nv.onIntensityChange = schedule;
      view.nv.onZoom3DChange = schedule;
    }
    schedule();
  }

  /** Sends the transition row (e.g. "Leaving Page --Next") and stops logging; resolves when written. */
  async function leaveInteractionLog(text) {
    if (!interaction.active) return;
    if (interaction.timer) {
      clearTimeout(interaction.timer);
      flush();
    }
    interaction.active = false;
    try {
      await interaction.post({ uptime_ms: uptime(), transition: text });
    } catch (_) {
      // the log is best effort; the submission itself reports failures
    }
  }

  function stopInteractionLog() {
    for (const [element, type, handler, capture] of interaction.listeners) {
      element.removeEventListener(type, handler, capture);
    }
    interaction.listeners = [];
    if (interaction.timer) clearTimeout(interaction.timer);
    interaction.timer = null;
    interaction.active = false;
    interaction.views = [];
  }

  window.sessionkitDisplay = {
    NORMAL_AXIS,
    SLICE_TYPE,
    VIEW_MODES,
    volumeEntry,
    setViewMode,
    viewModeControl,
    restoreLayout,
    configure,
    labelOpacity,
    applyInitialView,
    resetView,
    resetWindowLevel,
    viewState,
    linkViews,
    frameSlider,
    sliceReadout,
    startInteractionLog,
    leaveInteractionLog,
    stopInteractionLog,
    screenToRas,
  };
})();
