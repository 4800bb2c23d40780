/* sessionkit reader UI.
 *
 * A thin client of the HTTP API (docs/api.md): sign in with a reader id, show the current page's
 * images in one Niivue instance per viewport, show its questions with the saved answers, and move
 * with Previous / Next / Finish. Every save goes through POST /api/runs/{run}/submit; the "Saved"
 * indicator only appears after the server has answered (the server fsyncs before answering).
 *
 * No build step, no modules: Niivue is the vendored UMD bundle (window.niivue).
 * Tests use window.sessionkit (see the end of this file).
 */
(function () {
  "use strict";

  // ---------------------------------------------------------------------------------------------
  // State

  const state = {
    runId: null,
    readerId: null,
    token: "",
    current: null, // the last /page (or /submit) answer
    shownPageIndex: null, // page whose images are on screen
    views: [], // [{destination, nv}]
    busy: false,
    clockOffsetMs: 0, // server clock minus browser clock, measured at sign-in and on each answer
    startedAt: null, // when the current question set was displayed (server clock)
    sceneGeneration: 0, // incremented on every scene change; stale loads stop early
  };

  // Test hook: readyPage is the page_index whose viewports have all rendered (null while loading).
  const hook = {
    readyPage: null,
    renderCount: 0,
    lastError: null,
    state: state,
  };
  window.sessionkit = hook;

  const $ = (id) => document.getElementById(id);
  const D = window.sessionkitDisplay; // display attributes (display.js)
  const { chooseWith, confirmWith, watchIdle } = window.sessionkitUi; // dialogs, idle watch (ui.js)


  /** Grid cells of each layout, in reading order (Slicer's positions; FourUp's 3-D tile goes to Red, app.css). */
  const LAYOUT_CELLS = {
    FourUp: ["Red", "Yellow", "Green"],
    TwoOverTwo: ["Red", "Yellow", "Green", "Slice4"],
    OneUpRedSlice: ["Red"],
    SideBySideRedYellow: ["Red", "Yellow"],
  };

  /** sessionStorage key of the signed-in reader id (per tab; cleared when the tab closes). */
  const READER_KEY = "sessionkit.reader";

  const ANSWERABLE = new Set(["Radio", "CheckBox", "Text", "IntegerValue", "FloatValue", "Button"]);

  // ---------------------------------------------------------------------------------------------
  // HTTP

  /** Error carrying the API's {code, message, hint} body. */
  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || "HTTP " + status);
      this.status = status;
      this.code = (body && body.code) || "HTTP" + status;
      this.hint = (body && body.hint) || "";
    }
  }

  /** Calls the API with JSON in and out; throws ApiError on any non-2xx answer. */
  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (state.token) headers.Authorization = "Bearer " + state.token;
    const response = await fetch(path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (!response.ok) throw new ApiError(response.status, data);
    if (data && data.server_time) {
      state.clockOffsetMs = Date.parse(data.server_time) - Date.now();
    }
    return data;
  }

  /** Now, on the server's clock, as ISO 8601 UTC with milliseconds. */
  function serverNow() {
    return new Date(Date.now() + state.clockOffsetMs).toISOString();
  }

  /** "sessionkit-web/<version> (<browser> <major>; <OS>)" for the response log's client column. */
  function clientString() {
    const ua = navigator.userAgent;
    const browser = /(Chrome|Chromium|Firefox|Edg|Safari)\/(\d+)/.exec(ua);
    const os = /(Windows|Mac OS X|Linux|Android|iPhone OS)/.exec(ua);
    return "sessionkit-web/" + (hook.version || "0") + " (" +
      (browser ? browser[1] + " " + browser[2] : "unknown") + "; " + (os ? os[1] : "unknown") + ")";
  }

  // ---------------------------------------------------------------------------------------------
  // Sign-in

  async function initLogin() {
    try {
      const info = await api("GET", "/api/info");
      hook.version = info.version;
      hook.idleTimeoutS = Number(info.idle_timeout_s) || 0;
      $("token-row").hidden = !info.access_token_required;
      $("access-token").required = info.access_token_required;
    } catch (err) {
      $("login-error").textContent = "The server is not answering: " + err.message;
    }
    $("login-form").addEventListener("submit", onLogin);
    // A reload of the tab signs in again with the same id (kept for this tab only).
    const remembered = sessionStorage.getItem(READER_KEY);
    if (remembered) {
      $("reader-id").value = remembered;
      $("login-form").requestSubmit();
    }
  }

  async function onLogin(event) {
    event.preventDefault();
    const readerId = $("reader-id").value.trim();
    state.token = $("access-token").value;
    $("login-button").disabled = true;
    $("login-error").textContent = "";
    try {
      const login = await api("POST", "/api/login", { reader_id: readerId });
      state.runId = login.run_id;
      state.readerId = readerId;
      sessionStorage.setItem(READER_KEY, readerId);
      $("reader").textContent = "Reader: " + readerId;
      $("signout-button").hidden = false;
      $("login-screen").hidden = true;
      $("reading-screen").hidden = false;
      if (login.complete) {
        showBanner("You have already completed this session. Your answers are shown read-only.");
      } else if (login.resumed) {
        showBanner("Welcome back: resuming where you left off.");
      }
      await loadPage();
    } catch (err) {
      $("login-error").textContent = describeError(err);
    } finally {
      $("login-button").disabled = false;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Page display

  /** Fetches the current position (questions, answers, scene) and shows it. */
  async function loadPage() {
    const data = await api("GET", "/api/runs/" + encodeURIComponent(state.runId) + "/page");
    showPage(data);
  }

  function showPage(data) {
    state.current = data;
    state.startedAt = serverNow();
    $("progress").textContent = data.progress_text || "";
    const qs = data.question_set || {};
    const title = [data.descriptor, qs.descriptor].filter(Boolean).join(": ");
    $("page-title").textContent = title || data.page_id || "";
    if (data.complete) {
      showBanner("Session complete. Thank you: your answers are saved and locked. You can still look back through the pages.");
    }
    renderQuestions(qs.questions || [], data.answers || {}, Boolean(data.editable));
    window.sessionkitUi.readOnlyNote(data);
    updateControls();
    if (data.scene && data.scene.page_index !== state.shownPageIndex) {
      showScene(data.scene);
    } else if (!data.scene) {
      showSceneError(data.scene_error);
    } else if (window.sessionkitDrawing) {
      window.sessionkitDrawing.pageShown(data, state.views); // same scene, maybe another instance
    }
    if (data.scene && data.scene.page_index === state.shownPageIndex && state.views.length) {
      D.startInteractionLog(data, state.views, postInteraction); // same scene: another instance or QS
    }
  }

  function showBanner(text) {
    $("banner").textContent = text;
    $("banner").hidden = false;
  }

  function showMessage(text) {
    $("message").textContent = text;
  }

  function setSaved(kind, text) {
    $("saved").dataset.state = kind;
    $("saved").textContent = text;
  }

  /** Enables the navigation controls the current position allows (all off while saving). */
  function updateControls() {
    const data = state.current || {};
    const busy = state.busy;
    $("previous-button").disabled = busy || !data.can_previous;
    $("next-button").hidden = Boolean(data.is_last);
    $("next-button").disabled = busy || !data.can_next;
    $("finish-button").hidden = !data.is_last || Boolean(data.complete);
    $("finish-button").disabled = busy;
    $("repeat-button").hidden = !data.can_repeat;
    $("exit-button").hidden = Boolean(data.complete); // Save & exit: always, except in review (§4)
    $("exit-button").disabled = busy;
    $("review-button").hidden = !data.complete || data.nav_position === 1; // review: back to entry 1
    $("review-button").disabled = busy;
    $("repeat-button").disabled = busy;
    const bookmark = data.bookmark;
    $("bookmark-button").hidden = !bookmark;
    $("bookmark-button").disabled = busy;
    if (bookmark) $("bookmark-button").textContent = bookmark.label || "Return";
    $("questions").disabled = busy || !data.editable;
  }

  // ---------------------------------------------------------------------------------------------
  // Questions

  /** Builds the form for one question set, filled with the saved answers. */
  function renderQuestions(questions, answers, editable) {
    const container = $("questions");
    container.replaceChildren();
    for (const question of questions) {
      container.appendChild(renderQuestion(question, answers[String(question.index)] || []));
    }
    container.disabled = !editable;
  }

  function markDraft() {
    if (state.current && state.current.editable) setSaved("draft", "Not saved yet");
  }

  function renderQuestion(question, saved) {
    const box = document.createElement("fieldset");
    box.className = "question";
    box.dataset.index = question.index;
    box.dataset.type = question.type;
    const legend = document.createElement("legend");
    legend.textContent = question.descriptor || "Question " + question.index;
    box.appendChild(legend);
    const options = document.createElement("div");
    options.className = "options" + (/^horiz/i.test(question.group_layout || "") ? " horizontal" : "");
    box.appendChild(options);
    const builder = OPTION_BUILDERS[question.type] || buildPlaceholder;
    question.options.forEach((option, i) => options.appendChild(builder(question, option, saved[i] || "")));
    if (question.options.length === 0 && !OPTION_BUILDERS[question.type]) {
      options.appendChild(buildPlaceholder(question, null, ""));
    }
    return box;
  }

  function inputId(question, option) {
    return "q" + question.index + "-o" + option.index;
  }

  function buildChoice(question, option, value) {
    const label = document.createElement("label");
    label.className = "choice";
    const input = document.createElement("input");
    input.type = question.type === "Radio" ? "radio" : "checkbox";
    input.name = "q" + question.index;
    input.id = inputId(question, option);
    input.checked = value === "Y";
    label.append(input, document.createTextNode(option.label));
    return label;
  }

  function numberHint(question) {
    const parts = [];
    if (question.min !== null && question.min !== undefined) parts.push("minimum " + question.min);
    if (question.max !== null && question.max !== undefined) parts.push("maximum " + question.max);
    return parts.join("  ");
  }

  function buildField(question, option, value) {
    const field = document.createElement("div");
    field.className = "field";
    const label = document.createElement("label");
    label.htmlFor = inputId(question, option);
    label.textContent = option.label;
    const input = document.createElement("input");
    input.type = "text";
    input.id = inputId(question, option);
    input.value = value;
    if (question.type === "IntegerValue") input.inputMode = "numeric";
    if (question.type === "FloatValue") input.inputMode = "decimal";
    if (question.type === "Text") input.maxLength = 10000;
    field.append(label, input);
    const hint = question.type === "Text" ? "" : numberHint(question);
    if (hint) {
      const small = document.createElement("span");
      small.className = "hint";
      small.textContent = hint;
      field.appendChild(small);
    }
    return field;
  }

  function buildInfo(question, option) {
    const p = document.createElement("p");
    p.className = "info";
    p.textContent = option.label;
    return p;
  }

  function buildPlaceholder(question, option) {
    const p = document.createElement("p");
    p.className = "placeholder";
    const what = question.type === "Button" ? "Button action" : question.type;
    p.textContent = (option ? option.label + ": " : "") + what + " is not available in this version.";
    return p;
  }

  /** Button colours (session-format §7): before, after success, after failure. */
  const BUTTON_COLORS = { on: [173, 220, 237], done: [0, 179, 246], failed: [245, 159, 159] };

  function paintButton(button, rgb) {
    button.style.backgroundColor = "rgb(" + rgb.join(",") + ")";
    button.dataset.color = rgb.join(" ");
  }

  /** A Button option: runs the server-registered action named by the option (D9); value <stem>[-Done]. */
  function buildButton(question, option, value) {
    const stem = option.label.replace(/\\/g, "/").split("/").pop().replace(/\.[^.]*$/, "") || option.label;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "action-button";
    button.id = inputId(question, option);
    button.textContent = stem;
    button.dataset.value = value || stem;
    const colorOn = question.button_color_on || BUTTON_COLORS.on;
    const colorOff = question.button_color_off;
    let toggled = false;
    paintButton(button, button.dataset.value.endsWith("-Done") ? BUTTON_COLORS.done : colorOn);
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const result = await api("POST", "/api/runs/" + encodeURIComponent(state.runId) + "/button",
          { question: question.index, option: option.index });
        if (result.action === "reset_view") D.resetView(state.views);
        if (result.action === "reset_window_level") D.resetWindowLevel(state.views);
        button.dataset.value = result.value;
        if (colorOff) {
          toggled = !toggled;
          paintButton(button, toggled ? colorOff : colorOn);
        } else if (result.registered) {
          paintButton(button, BUTTON_COLORS.done);
        } else {
          showMessage(stem + ": no action is registered for this button; the click was recorded.");
        }
        markDraft();
      } catch (err) {
        paintButton(button, BUTTON_COLORS.failed);
        showMessage(stem + " failed: " + describeError(err));
      } finally {
        button.disabled = false;
      }
    });
    return button;
  }

  /** A Picture option: the image file from the session folder (served by the server, browser formats). */
  function buildPicture(question, option) {
    const figure = document.createElement("figure");
    figure.className = "picture";
    const img = document.createElement("img");
    img.id = inputId(question, option);
    img.alt = option.label;
    img.src = "/api/runs/" + encodeURIComponent(state.runId) + "/pictures/" + question.index + "/" + option.index;
    figure.appendChild(img);
    return figure;
  }

  const OPTION_BUILDERS = {
    Button: buildButton,
    Picture: buildPicture,
    Radio: buildChoice,
    CheckBox: buildChoice,
    Text: buildField,
    IntegerValue: buildField,
    FloatValue: buildField,
    InfoBox: buildInfo,
  };

  /** The form's answers: {"<question index>": [value per option]} for answerable questions. */
  function collectAnswers() {
    const answers = {};
    const questions = ((state.current || {}).question_set || {}).questions || [];
    for (const question of questions) {
      if (!ANSWERABLE.has(question.type)) continue;
      answers[String(question.index)] = question.options.map((option) => {
        const input = document.getElementById(inputId(question, option));
        if (!input) return "";
        if (question.type === "Button") return input.dataset.value;
        if (input.type === "radio" || input.type === "checkbox") return input.checked ? "Y" : "N";
        return input.value.replace(/[\r\n]+/g, " ");
      });
    }
    return answers;
  }

  // ---------------------------------------------------------------------------------------------
  // Submissions

  /** Sends one transition with the current answers; on success shows the new position. */
  async function submit(transition) {
    if (state.busy || !state.current) return;
    state.busy = true;
    updateControls();
    showMessage("");
    markRefusedQuestions("");
    // Contours first: the SK915 confirmation, then every changed drawing saved (drawing.js).
    if (window.sessionkitDrawing) {
      let proceed = false;
      try {
        proceed = await window.sessionkitDrawing.beforeTransition(transition, confirmWith, reconnect);
      } catch (err) {
        hook.lastError = { code: "contour", message: err.message };
        showMessage(err.message);
      }
      if (!proceed) {
        state.busy = false;
        updateControls();
        return;
      }
    }
    const editable = Boolean(state.current.editable);
    const staying = transition === "autosave"; // idle autosave: same page, nothing re-rendered
    if (!staying) {
      await D.leaveInteractionLog("Leaving Page --" + transition.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase()));
    }
    if (editable) setSaved("saving", "Saving…");
    let result;
    try {
      result = await send(transition, editable);
    } catch (err) {
      const outcome = err.code === "HTTP404" ? await reconnect() : "failed";
      if (outcome === "retry") {
        try {
          result = await send(transition, editable);
        } catch (again) {
          err = again;
        }
      } else if (outcome === "moved") {
        if (editable) setSaved("failed", "Not saved");
        showMessage("The server was restarted: you continue at your first unfinished page. " +
          "The answers on the screen you were on were not saved.");
        return;
      }
      if (!result) {
        if (!staying) D.startInteractionLog(state.current, state.views, postInteraction);
        hook.lastError = { code: err.code, message: err.message };
        if (editable) setSaved("failed", "Not saved");
        showMessage(describeError(err));
        markRefusedQuestions(err.message);
        state.busy = false;
        updateControls();
        return;
      }
    }
    if (editable) setSaved("saved", "Saved " + new Date().toLocaleTimeString());
    state.busy = false;
    if (transition === "exit") return showSignedOut();
    if (staying) {
      state.current.state_version = result.state_version; // the form keeps the reader's text as typed
      showNotice("Your answers were saved automatically at " + new Date().toLocaleTimeString() +
        " because there was no activity.");
      updateControls();
      return;
    }
    D.restoreLayout(state.views); // viewing modes were captured in viewer_state; the layout comes back (§4)
    $("banner").hidden = true; // "resuming" is old news once the reader moves
    state.current = result;
    try {
      await loadPage();
    } catch (err) {
      hook.lastError = { code: err.code, message: err.message };
      showMessage("Your answers are saved, but the next page could not be shown: " + describeError(err));
      updateControls();
    }
  }

  /** Outlines the questions a refusal names (the server names each by its Descriptor). */
  function markRefusedQuestions(message) {
    for (const box of document.querySelectorAll("#questions .question")) {
      const name = box.querySelector("legend").textContent;
      box.classList.toggle("refused", Boolean(message) && message.includes(name));
    }
  }

  /** POSTs one submission; resolves with the new position once the server has saved it. */
  function send(transition, editable) {
    return api("POST", "/api/runs/" + encodeURIComponent(state.runId) + "/submit", {
      state_version: state.current.state_version,
      transition: transition,
      answers: editable ? collectAnswers() : {},
      viewer_state: viewerState(),
      client: clientString(),
      started_at: state.startedAt,
    });
  }

  /**
   * The server no longer knows the run (it was restarted): sign in again with the same id. When it
   * lands on the entry on screen, the draft is kept and the submission can be retried ("retry");
   * otherwise the landing entry is shown instead ("moved"). "failed" when sign-in fails.
   */
  async function reconnect() {
    try {
      const login = await api("POST", "/api/login", { reader_id: state.readerId });
      state.runId = login.run_id;
      const fresh = await api("GET", "/api/runs/" + encodeURIComponent(state.runId) + "/page");
      const shown = state.current;
      const same = ["page_index", "rep", "question_set_index"].every((key) => fresh[key] === shown[key]);
      if (same) {
        shown.state_version = fresh.state_version;
        return "retry";
      }
      state.busy = false;
      showPage(fresh);
      return "moved";
    } catch (_) {
      return "failed";
    }
  }

  /** After Save & exit: the viewports go, the tab forgets the reader, the signed-out screen shows. */
  function showSignedOut() {
    sessionStorage.removeItem(READER_KEY);
    disposeViews();
    state.shownPageIndex = null;
    state.current = null;
    $("reading-screen").hidden = true;
    $("signout-button").hidden = true;
    $("reader").textContent = "";
    $("signedout-screen").hidden = false;
  }

  function showNotice(text) {
    $("notice").textContent = text;
    $("notice").hidden = false;
  }

  /** Idle-timeout autosave (reading-flow §4): an unsaved draft is saved, no confirmation; a notice says so. */
  function autosaveWhenIdle() {
    const data = state.current;
    if (data && data.editable && !state.busy && $("saved").dataset.state === "draft") submit("autosave");
  }

  /** Back to the sign-in form (a shared workstation's next reader must not resume this run). */
  function signOut() {
    sessionStorage.removeItem(READER_KEY);
    window.location.reload(); // unsaved edits are autosaved on the way out
  }

  /** Autosave (reading-flow §4): a page closed with unsaved edits sends them as a beacon. */
  function autosaveOnHide() {
    const data = state.current;
    if (!data || !data.editable || state.busy || $("saved").dataset.state !== "draft") return;
    const body = JSON.stringify({
      state_version: data.state_version,
      transition: "autosave",
      answers: collectAnswers(),
      viewer_state: viewerState(), // captured without restoring the layout (§4)
      client: clientString(),
      started_at: state.startedAt,
    });
    const url = "/api/runs/" + encodeURIComponent(state.runId) + "/submit";
    navigator.sendBeacon(url, new Blob([body], { type: "application/json" }));
  }

  /** A reader-facing sentence for an API or network failure. */
  function describeError(err) {
    if (err instanceof ApiError) {
      if (err.code === "SK909") {
        return err.message + "\nYour answers here are kept. " + (err.hint || "Reload the page to continue.");
      }
      return err.message + (err.hint ? "\n" + err.hint : "");
    }
    return "The server did not answer (" + err.message + "). Your answers are still here; try again.";
  }

  function bindControls() {
    $("questions").addEventListener("input", markDraft);
    // Enter in a text field must not submit the form (that would reload the page).
    $("question-form").addEventListener("submit", (event) => event.preventDefault());
    window.addEventListener("pagehide", autosaveOnHide);
    $("previous-button").addEventListener("click", () => submit("previous"));
    $("next-button").addEventListener("click", async () => {
      if (!(state.current || {}).can_repeat) return submit("next");
      // IQ asks on Next whenever Repeat is available here (reading-flow §4, Next row).
      const choice = await chooseWith("Repeat this page for another finding, or continue?", "Continue", "Repeat");
      if (choice !== "cancel") submit(choice === "alt" ? "repeat" : "next");
    });
    $("exit-button").addEventListener("click", async () => {
      if (await confirmWith("Leave now? Your answers are saved and you can resume later.", "Save & exit")) {
        submit("exit");
      }
    });
    $("signin-again").addEventListener("click", () => window.location.reload());
    $("bookmark-button").addEventListener("click", () => submit("goto_bookmark"));
    $("review-button").addEventListener("click", () => submit("review"));
    $("signout-button").addEventListener("click", signOut);
    $("finish-button").addEventListener("click", async () => {
      if (await confirmWith("Finish the session and lock your answers?", "Finish")) submit("finish");
    });
    $("repeat-button").addEventListener("click", async () => {
      if (await confirmWith("Save this page and repeat it for another finding?", "Repeat")) submit("repeat");
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Viewports (one Niivue instance each)

  /** Replaces the viewports with those of `scene`; resolves when every view has rendered. */
  async function showScene(scene) {
    const generation = ++state.sceneGeneration;
    hook.readyPage = null;
    $("viewer").dataset.ready = "no";
    disposeViews();
    state.shownPageIndex = scene.page_index;
    const byDestination = Object.fromEntries(scene.views.map((view) => [view.destination, view]));
    const cells = scene.views.length ? LAYOUT_CELLS[scene.layout] || ["Red"] : [];
    const grid = $("viewer");
    grid.className = "viewer layout-" + (cells.length ? scene.layout : "none");
    grid.replaceChildren();
    if (!cells.length) grid.appendChild(note("This page has no images."));
    const loads = [];
    for (const destination of cells) {
      const view = byDestination[destination];
      const cell = makeCell(destination, view);
      grid.appendChild(cell.element);
      if (view) loads.push(loadView(view, cell, generation));
    }
    const loaded = (await Promise.all(loads)).filter(Boolean);
    if (generation !== state.sceneGeneration) return;
    state.views = loaded;
    window.sessionkitLegend.pageShown(scene, loaded); // overlay legend, defaults reset (legend.js)
    if (window.sessionkitDrawing) await window.sessionkitDrawing.pageShown(state.current, loaded);
    if (generation !== state.sceneGeneration) return;
    if (scene.link_views && loaded.length > 1) D.linkViews(loaded); // LinkViews="Y"
    D.startInteractionLog(state.current, loaded, postInteraction);
    await nextFrames(2);
    if (generation !== state.sceneGeneration) return;
    hook.readyPage = scene.page_index;
    hook.renderCount += 1;
    grid.dataset.ready = "yes";
  }

  /** The page's images could not be prepared (SK901): say so; the questions stay usable. */
  function showSceneError(error) {
    state.sceneGeneration += 1;
    disposeViews();
    state.shownPageIndex = null;
    const grid = $("viewer");
    grid.className = "viewer layout-none";
    grid.replaceChildren(note("The images of this page could not be shown: " +
      ((error && error.message) || "unknown error"), true));
    hook.lastError = error || null;
  }

  function note(text, isError) {
    const div = document.createElement("div");
    div.className = "viewport-note" + (isError ? " error" : "");
    div.textContent = text;
    return div;
  }

  /** One grid cell: a coloured title bar and a body holding the canvas (or a note). */
  function makeCell(destination, view) {
    const element = document.createElement("div");
    element.className = "viewport dest-" + destination;
    element.dataset.destination = destination;
    const label = document.createElement("div");
    label.className = "viewport-label";
    label.textContent = destination + (view ? " · " + view.orientation : "");
    const body = document.createElement("div");
    body.className = "viewport-body";
    element.append(label, body);
    if (!view) {
      body.appendChild(note("No image in this view"));
      return { element: element, body: body, canvas: null };
    }
    const canvas = document.createElement("canvas");
    canvas.id = "view-" + destination;
    body.appendChild(canvas);
    return { element: element, body: body, canvas: canvas };
  }

  /** Creates the Niivue instance of one viewport and loads its layers (background first). */
  async function loadView(view, cell, generation) {
    try {
      const nv = new window.niivue.Niivue({
        backColor: [0, 0, 0, 1],
        crosshairWidth: 0,
        isNearestInterpolation: true, // label edges stay sharp
        isRadiologicalConvention: true,
        sagittalNoseLeft: true, // as Slicer's sagittal view: anterior on the left
        dragAndDropEnabled: false,
        multiplanarShowRender: 0, // never a 3-D tile
        logLevel: "warn",
        loadingText: "loading...",
      });
      await nv.attachTo(cell.canvas.id);
      D.configure(nv, view, state.current);
      nv.setRadiologicalConvention(true);
      nv.setSliceType(D.SLICE_TYPE[view.orientation] ?? 0);
      // Label colour tables set before the GPU upload (saves one); volumes tagged with their layer (legend.js).
      const layers = {};
      const entries = view.layers.map((layer, i) => {
        const name = i + "-" + layer.volume_key + ".nii.gz";
        layers[name] = layer;
        return D.volumeEntry(layer, name, state.current);
      });
      nv.addEventListener("volumeAddedFromUrl", (event) => {
        const layer = layers[event.detail.imageOptions.name];
        event.detail.volume.skLayer = layer;
        if (layer && layer.kind === "labelmap" && layer.colormap_label) event.detail.volume.setColormapLabel(layer.colormap_label);
      });
      await nv.loadVolumes(entries);
      if (generation !== state.sceneGeneration) {
        disposeNiivue(nv);
        return null;
      }
      const initial = D.applyInitialView(nv, view, state.current); // W/L, zoom, pan, slice, frame
      const background = view.layers[0] || {};
      const shown = { destination: view.destination, orientation: view.orientation, imageId: background.image_id, nv: nv, initial: initial };
      D.frameSlider(shown, cell.body);
      D.sliceReadout(shown, cell.body);
      D.viewModeControl(shown, cell.element, (mode) => postViewMode(view.destination, mode));
      return shown;
    } catch (err) {
      hook.lastError = { code: "viewer", message: String(err) };
      cell.body.appendChild(note("The image could not be shown: " + err.message, true));
      return null;
    }
  }

  /** A viewport is about to switch view mode: the state before it goes to events.jsonl (§12; editable only). */
  function postViewMode(destination, mode) {
    if (!state.current || !state.current.editable) return;
    const body = { destination: destination, viewing_mode: mode, viewer_state: viewerState() };
    api("POST", "/api/runs/" + encodeURIComponent(state.runId) + "/view-mode", body).catch(() => {});
  }

  /** Window, level, slice offset (mm), orientation, destination, viewing mode of every viewport (§12). */
  function viewerState() {
    return { views: state.views.map(D.viewState) };
  }

  /** Posts one interaction-log record (pages with UserInteractionLog="Y"). */
  function postInteraction(body) {
    return api("POST", "/api/runs/" + encodeURIComponent(state.runId) + "/interaction", body);
  }

  /** Frees the WebGL contexts of the current viewports before new ones are made. */
  function disposeViews() {
    D.stopInteractionLog();
    if (window.sessionkitDrawing) window.sessionkitDrawing.pageLeft();
    window.sessionkitLegend.pageLeft();
    for (const view of state.views) disposeNiivue(view.nv);
    state.views = [];
  }

  function disposeNiivue(nv) {
    try {
      nv.cleanup();
      const lose = nv.gl && nv.gl.getExtension("WEBGL_lose_context");
      if (lose) lose.loseContext();
    } catch (_) {
      // a context that is already gone needs no cleanup
    }
  }

  function nextFrames(count) {
    return new Promise((resolve) => {
      const step = (n) => (n <= 0 ? resolve() : requestAnimationFrame(() => step(n - 1)));
      step(count);
    });
  }

  // ---------------------------------------------------------------------------------------------

  bindControls();
  watchIdle(() => (hook.idleTimeoutS || 0) * 1000, autosaveWhenIdle);
  initLogin();
})();
