/* sessionkit reader UI: page-independent helpers loaded before app.js (window.sessionkitUi).
 *
 * - chooseWith(text, okLabel, altLabel?): the modal #confirm-dialog; resolves "ok", "alt" or "cancel".
 * - confirmWith(text, okLabel): the same with two answers; resolves true on "ok".
 * - watchIdle(limitMs, onIdle): calls onIdle once per idle period of limitMs() milliseconds without a
 *   key, pointer, wheel or input event (limitMs() of 0: never). Used for the idle-timeout autosave.
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

  window.sessionkitUi = { chooseWith, confirmWith, watchIdle };
})();
