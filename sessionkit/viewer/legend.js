/* sessionkit reader UI: the overlay legend (issue 17 item 2; clarifications C13).
 *
 * Every page whose label layers show segments gets a legend in the side panel: one row per segment
 * (colour swatch, name, show/hide box), a "Show" box (key H), an "Outline" box (key O: outline only or
 * fill) and the fill-opacity slider. Label layers are drawn with an opaque outline (Niivue atlasOutline
 * 1, display.js) and their fill at the layer opacity, Slicer's 2-D default 0.5 (the scene's
 * `opacity`); everything here resets to those defaults and to the session's ContourVisibility on each
 * page. H works on every page with label layers, legend or not (drawing.js hides drawings with it too).
 *
 * Only segments the session shows reach the browser (the server zeroes the others), so the legend
 * cannot reveal a hidden one. Hiding a segment (or all of them, H) zeroes its label value in a copy of
 * the layer's voxels: Niivue draws a label's outline whatever the alpha of its colour-table entry, and
 * an overlay of opacity 0 is not reliably skipped (measured: the first overlay is still drawn), so that
 * is the way a hidden segment loses its fill and its outline.
 *
 * app.js tags each loaded volume with its scene layer (`volume.skLayer`) and calls
 * window.sessionkitLegend.pageShown(scene, views) once the viewports have loaded and pageLeft() when
 * they go. The row pattern is the drawing panel's (drawing.js): same classes, same element helper.
 */
(function () {
  "use strict";

  /** Interior opacity that leaves only the opaque outline (not 0: Niivue would skip the layer). */
  const OUTLINE_INTERIOR_OPACITY = 0.001;

  const ctx = {
    views: [], // [{nv, ...}] of the page on screen
    segments: [], // [{key, value, name, color}] once per image and segment
    hidden: new Set(), // keys of segments the reader hid
    shown: true, // H
    outline: true, // O; starts as the session's ContourVisibility
    opacity: 0.5, // fill opacity; starts as the scene's label-layer opacity
    page: null, // page_index shown (tests wait for it)
  };

  const $ = (id) => document.getElementById(id);
  const { element } = window.sessionkitUi;

  const segmentKey = (layer, segment) => layer.image_id + "/" + segment.segment_id;

  /** Volumes of a viewport tagged with their scene layer by app.js. */
  function tagged(view) {
    return view.nv.volumes.filter((volume) => volume.skLayer);
  }

  /** Resets the legend to the page's defaults and shows it when a label layer shows segments. */
  function pageShown(scene, views) {
    ctx.views = views.filter(Boolean);
    ctx.hidden = new Set();
    ctx.shown = true;
    ctx.outline = scene.contour_visibility === "Outline";
    const seen = new Map();
    let opacity = null;
    for (const view of ctx.views) {
      for (const volume of tagged(view)) {
        const layer = volume.skLayer;
        if (layer.kind !== "labelmap") continue;
        if (opacity === null) opacity = layer.opacity;
        for (const segment of layer.segments) {
          const key = segmentKey(layer, segment);
          if (!seen.has(key)) seen.set(key, { key: key, value: segment.label_value, name: segment.name, color: segment.color });
        }
      }
    }
    ctx.opacity = opacity === null ? 0.5 : opacity;
    ctx.segments = [...seen.values()];
    render();
    apply();
    ctx.page = scene.page_index;
  }

  function pageLeft() {
    ctx.views = [];
    ctx.segments = [];
    ctx.page = null;
    const panel = $("overlay-legend");
    if (panel) {
      panel.hidden = true;
      panel.replaceChildren();
    }
  }

  /** The label values of `volume` the reader hid (all of them while H hides the overlays). */
  function hiddenValues(volume) {
    const layer = volume.skLayer;
    const hidden = layer.segments.filter((s) => !ctx.shown || ctx.hidden.has(segmentKey(layer, s)));
    return new Set(hidden.map((s) => s.label_value));
  }

  /** Zeroes the hidden label values in the volume's voxels (from a kept copy of the original). */
  function applyHidden(volume) {
    const values = hiddenValues(volume);
    const signature = [...values].sort((a, b) => a - b).join(",");
    if (signature === (volume.skHiddenSignature || "")) return false;
    if (!volume.skOriginal) volume.skOriginal = volume.img.slice();
    const original = volume.skOriginal;
    const img = volume.img;
    for (let i = 0; i < img.length; i++) img[i] = values.has(original[i]) ? 0 : original[i];
    volume.skHiddenSignature = signature;
    return true;
  }

  /** Pushes show/hide, outline/fill, fill opacity and the hidden segments to every viewport. */
  function apply() {
    for (const view of ctx.views) {
      for (const volume of tagged(view)) {
        if (volume.skLayer.kind !== "labelmap") continue;
        applyHidden(volume);
        volume.opacity = ctx.outline ? OUTLINE_INTERIOR_OPACITY : Math.max(ctx.opacity, OUTLINE_INTERIOR_OPACITY);
      }
      view.nv.updateGLVolume();
    }
    renderState();
  }

  function render() {
    const panel = $("overlay-legend");
    if (!panel) return;
    panel.replaceChildren();
    panel.hidden = !ctx.segments.length;
    if (!ctx.segments.length) return;
    panel.append(element("h3", { textContent: "Segments" }));
    const list = element("div", { className: "segments", id: "legend-list" });
    for (const segment of ctx.segments) {
      const swatch = element("span", { className: "swatch" });
      swatch.style.background = "rgb(" + segment.color.slice(0, 3).join(",") + ")";
      const visible = element("input", { type: "checkbox", className: "segment-visible", checked: true, title: "show this segment" });
      visible.addEventListener("change", () => {
        if (visible.checked) ctx.hidden.delete(segment.key);
        else ctx.hidden.add(segment.key);
        apply();
      });
      const row = element("label", { className: "segment" }, [swatch, element("span", { className: "segment-name", textContent: segment.name }), visible]);
      row.dataset.key = segment.key;
      list.append(row);
    }
    panel.append(list);
    const show = element("input", { type: "checkbox", id: "overlays-shown", checked: ctx.shown });
    show.addEventListener("change", () => setShown(show.checked));
    const outline = element("input", { type: "checkbox", id: "overlays-outline", checked: ctx.outline });
    outline.addEventListener("change", () => {
      ctx.outline = outline.checked;
      apply();
    });
    const opacity = element("input", { type: "range", id: "overlays-opacity", min: "0", max: "1", step: "0.05", value: String(ctx.opacity) });
    opacity.addEventListener("input", () => {
      ctx.opacity = Number(opacity.value);
      apply();
    });
    panel.append(element("div", { className: "drawing-row" }, [
      element("label", {}, [show, " Show ", element("kbd", { textContent: "H" })]),
      element("label", {}, [" ", outline, " Outline ", element("kbd", { textContent: "O" })]),
      element("label", { title: "fill opacity (the outline stays opaque)" }, [" Fill ", opacity]),
    ]));
  }

  /** Reflects the state in the controls (keys change it too). */
  function renderState() {
    const show = $("overlays-shown");
    if (show) show.checked = ctx.shown;
    const outline = $("overlays-outline");
    if (outline) outline.checked = ctx.outline;
    const opacity = $("overlays-opacity");
    if (opacity) {
      opacity.value = String(ctx.opacity);
      opacity.disabled = ctx.outline; // Outline mode shows no fill
    }
  }

  function setShown(shown) {
    ctx.shown = shown;
    apply();
  }

  function onKey(event) {
    if (!ctx.views.length || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) && target.type !== "range" &&
      target.type !== "radio" && target.type !== "checkbox")) return;
    const key = event.key.toLowerCase();
    if (key === "h") {
      setShown(!ctx.shown);
    } else if (key === "o" && ctx.segments.length) {
      ctx.outline = !ctx.outline;
      apply();
    } else {
      return;
    }
    event.preventDefault();
  }

  document.addEventListener("keydown", onKey);

  window.sessionkitLegend = { pageShown, pageLeft, setShown, state: ctx };
})();
