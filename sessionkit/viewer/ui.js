/* sessionkit reader UI: page-independent helpers loaded before app.js (window.sessionkitUi).
 *
 * - chooseWith(text, okLabel, altLabel?): the modal #confirm-dialog; resolves "ok", "alt" or "cancel".
 * - confirmWith(text, okLabel): the same with two answers; resolves true on "ok".
 * - watchIdle(limitMs, onIdle): calls onIdle once per idle period of limitMs() milliseconds without a
 *   key, pointer, wheel or input event (limitMs() of 0: never). Used for the idle-timeout autosave.
 * - element(tag, props, children): a DOM element with properties and children (the side panels).
 * - readOnlyNote(data): says why a read-only position is greyed (#readonly-note), hides it otherwise.
 * - A question outlined as refused (missing or wrong answer) loses the outline as soon as the reader
 *   answers it; when none is left, the refusal message goes too.
 */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);

  function chooseWith(text, okLabel, altLabel) {
    const dialog = $("confirm-dialog");
    $("confirm-text").textContent = text;
    $("confirm-ok").textContent = okLabel;
    $("confirm-alt").hidden = !altLabel;
    $("confirm-alt").textContent = altLabel || "";
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue || "cancel"), { once: true });
      dialog.returnValue = "";
      dialog.showModal();
    });
  }

  async function confirmWith(text, okLabel) {
    return (await chooseWith(text, okLabel)) === "ok";
  }

  function watchIdle(limitMs, onIdle) {
    let last = Date.now();
    const touch = () => { last = Date.now(); };
    for (const type of ["keydown", "pointerdown", "pointermove", "wheel", "input"]) {
      document.addEventListener(type, touch, { capture: true, passive: true });
    }
    setInterval(() => {
      const limit = limitMs();
      if (!limit || Date.now() - last < limit) return;
      touch();
      onIdle();
    }, 1000);
  }

  function element(tag, props, children) {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children || []) node.append(child);
    return node;
  }

  /** Why the answers of the position `data` (a /page answer) cannot be changed (reading-flow §8). */
  function readOnlyNote(data) {
    const note = $("readonly-note");
    if (!note) return;
    note.hidden = Boolean(data.editable);
    note.textContent = data.complete
      ? "Read-only: the session is finished and its answers are locked. You can look back through the pages."
      : "Read-only: you already completed this page, and this session does not allow changing answers once " +
        "a page is completed. Use Next to continue.";
  }

  /** A refused question stops being marked once it is answered (reading-flow §4: the refusal is about it). */
  function clearRefusal(event) {
    const box = event.target.closest && event.target.closest(".question.refused");
    if (!box) return;
    box.classList.remove("refused");
    if (!document.querySelector("#questions .question.refused")) $("message").textContent = "";
  }

  document.addEventListener("input", clearRefusal);
  document.addEventListener("change", clearRefusal);

  window.sessionkitUi = { chooseWith, confirmWith, watchIdle, element, readOnlyNote };
})();
