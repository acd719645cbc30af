/* toksmith playground, messages mode: a conversation (JSON messages) counted per tokenizer as
   its model family formats it (POST /api/messages). app.js's playground calls update() in this
   mode instead of drawing tokens. */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const el = (...args) => window.ToksmithCharts.el(...args);
  const TEXT_KEY = "toksmith.messages.text";
  const SAMPLE = JSON.stringify([
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", content: "Hello, how are you?" },
  ], null, 2);
  const TEXT_MODE_PARTS = ["panels", "samples", "text-options", "playground-legend"];
  let mode = "text";
  let textModeText = "";
  let controller = null;

  function active() { return mode === "messages"; }

  function setMode(next) {
    if (next === mode) return;
    const area = $("text");
    if (next === "messages") {
      textModeText = area.value;
      area.value = localStorage.getItem(TEXT_KEY) || SAMPLE;
    } else {
      try { localStorage.setItem(TEXT_KEY, area.value.length < 100000 ? area.value : ""); } catch (error) { /* full */ }
      area.value = textModeText;
    }
    mode = next;
    for (const id of TEXT_MODE_PARTS) { const node = $(id); if (node) node.hidden = next === "messages"; }
    $("messages-output").hidden = next !== "messages";
    $("messages-help").hidden = next !== "messages";
    document.querySelectorAll("#playground-mode button").forEach((button) => {
      button.classList.toggle("on", button.dataset.mode === next);
      button.setAttribute("aria-pressed", String(button.dataset.mode === next));
    });
    area.dispatchEvent(new Event("input"));  // app.js schedules its update, which comes here
  }

  async function update(selected) {
    const text = $("text").value;
    try { localStorage.setItem(TEXT_KEY, text.length < 100000 ? text : ""); } catch (error) { /* full */ }
    const output = $("messages-output");
    const problem = $("playground-error");
    if (!selected.length) {
      output.replaceChildren(el("p", { class: "help", text: "Choose at least one tokenizer." }));
      return;
    }
    if (controller) controller.abort();
    controller = new AbortController();
    try {
      const response = await fetch("/api/messages", {
        method: "POST", signal: controller.signal,
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text, tokenizers: selected }),
      });
      let body = null;
      try { body = await response.json(); } catch (error) { body = null; }
      if (!response.ok) throw new Error(body && body.error ? body.error : `${response.status} ${response.statusText}`);
      problem.hidden = true;
      problem.textContent = "";
      output.replaceChildren(table(body));
    } catch (error) {
      if (error.name === "AbortError") return;
      problem.hidden = false;
      problem.textContent = error.message || String(error);
    }
  }

  function table(body) {
    const number = (value) => (value === null || value === undefined ? "–" : value.toLocaleString("en-US"));
    const numeric = new Set(["content", "overhead", "total"]);
    const head = el("tr", {}, ["tokenizer", "content", "overhead", "total", "format"].map(
      (name) => el("th", { text: name, class: numeric.has(name) ? "num" : null })));
    const rows = body.results.map((row) => {
      if (row.error) {
        return el("tr", { "data-tokenizer": row.requested, class: "no-format" }, [
          el("td", { text: row.requested }),
          el("td", { colspan: "4", class: "error-cell", text: row.error }),
        ]);
      }
      return el("tr", { "data-tokenizer": row.requested }, [
        el("td", { text: row.requested }),
        el("td", { class: "num", "data-stat": "content_tokens", text: number(row.content_tokens) }),
        el("td", { class: "num", "data-stat": "overhead_tokens", text: number(row.overhead_tokens) }),
        el("td", { class: "num", "data-stat": "total_tokens" }, [el("b", { text: number(row.total_tokens) })]),
        el("td", { title: row.format_description || "", text: row.format }),
      ]);
    });
    const caption = el("caption", { text: `${body.messages} message${body.messages === 1 ? "" : "s"}` });
    return el("table", { class: "messages-table" }, [caption, el("thead", {}, [head]), el("tbody", {}, rows)]);
  }

  document.querySelectorAll("#playground-mode button").forEach((button) => {
    button.addEventListener("click", () => setMode(button.dataset.mode));
  });

  window.ToksmithMessages = { active, update };
})();
