/* toksmith local web page: playground, compare view, results view, API list. */
(function () {
  "use strict";

  const C = window.ToksmithCharts;
  const el = C.el;
  const $ = (id) => document.getElementById(id);
  const MAX_RENDERED_TOKENS = 20000;
  const DEBOUNCE_MS = 200;
  const DEFAULT_TOKENIZERS = ["o200k_base", "cl100k_base", "llama3", "mistral-tekken"];
  const DEFAULT_WORDFREQ_LANGUAGES = ["ar", "de", "en", "es", "fr", "hi", "ja", "ko", "ru", "zh"];
  const SAMPLES = {
    English: "Tokenizers split text into pieces a language model can read. Some languages pay more tokens than others for the same meaning.",
    Code: "def fertility(tokens: int, words: int) -> float:\n    \"\"\"Tokens per word.\"\"\"\n    return tokens / words if words else float(\"nan\")\n",
    Multilingual: "Hello, world!\nBonjour le monde !\nПривет, мир!\nこんにちは世界\n你好，世界\nनमस्ते दुनिया\nمرحبا بالعالم",
    "Emoji & bytes": "naïve café 🤗👩‍💻 — zero\u200bwidth\tand tabs\nThe ﬁ ligature, Ω and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢.",
  };

  /* ---------- helpers ---------- */

  async function api(path, options) {
    const response = await fetch(path, Object.assign({ headers: { "Content-Type": "application/json" } }, options || {}));
    let body = null;
    try { body = await response.json(); } catch (error) { body = null; }
    if (!response.ok) {
      const message = body && body.error ? body.error : `${response.status} ${response.statusText}`;
      throw Object.assign(new Error(message), { status: response.status });
    }
    return body;
  }

  function showError(node, error) {
    if (!error) { node.hidden = true; node.textContent = ""; return; }
    node.hidden = false;
    node.textContent = error.message || String(error);
  }

  function loadJSON(key, fallback) {
    try { const value = JSON.parse(localStorage.getItem(key)); return value === null ? fallback : value; } catch (error) { return fallback; }
  }
  function saveJSON(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (error) { /* private mode */ }
  }

  const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const escapeHTML = (s) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]);
  const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zs}\p{Zl}\p{Zp}]/gu;

  function visible(text, showWhitespace) {
    const escaped = escapeHTML(text);
    if (!showWhitespace) return escaped;
    return escaped.replace(INVISIBLE, (c) => {
      if (c === " ") return '<span class="ws">·</span>';
      if (c === "\n") return '<span class="ws">↵</span>\n';
      if (c === "\t") return '<span class="ws">→</span>';
      if (c === "\r") return '<span class="ws">␍</span>';
      const code = c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0");
      return `<span class="ws">⟨U+${code}⟩</span>`;
    });
  }

  const hex = (n) => n.toString(16).toUpperCase().padStart(2, "0");
  const encoder = new TextEncoder();

  function pieceBytes(piece) {
    if (typeof piece === "string") return Array.from(encoder.encode(piece));
    if (Array.isArray(piece)) return piece.flatMap((part) => (typeof part === "number" ? [part] : Array.from(encoder.encode(part))));
    return [];
  }

  function checkboxPicker(container, items, selected, onChange) {
    container.replaceChildren();
    for (const item of items) {
      const input = el("input", { type: "checkbox", value: item.name });
      input.checked = selected.includes(item.name);
      const label = el("label", { class: input.checked ? "on" : "", title: item.description || "" },
        [input, item.label || item.name, item.kind === "local" ? el("span", { class: "kind", text: "local" }) : null]);
      input.addEventListener("change", () => {
        label.classList.toggle("on", input.checked);
        onChange(Array.from(container.querySelectorAll("input:checked")).map((i) => i.value));
      });
      container.appendChild(label);
    }
  }

  let tokenizerList = null;
  async function tokenizers() {
    if (!tokenizerList) tokenizerList = await api("/api/tokenizers");
    return tokenizerList;
  }

  const priceLists = {};
  function priceList(tokenizer) {
    if (!priceLists[tokenizer]) priceLists[tokenizer] = api(`/api/prices?tokenizer=${encodeURIComponent(tokenizer)}`);
    return priceLists[tokenizer];
  }

  /* ---------- playground ---------- */

  const playground = {
    selected: loadJSON("toksmith.playground.tokenizers", DEFAULT_TOKENIZERS),
    prices: loadJSON("toksmith.prices", {}),
    timer: null,
    controller: null,
    last: null,

    async init() {
      const list = await tokenizers();
      const names = list.map((t) => t.name);
      this.selected = this.selected.filter((n) => names.includes(n));
      if (!this.selected.length) this.selected = DEFAULT_TOKENIZERS.filter((n) => names.includes(n));
      checkboxPicker($("playground-tokenizers"), list, this.selected, (chosen) => {
        this.selected = chosen;
        saveJSON("toksmith.playground.tokenizers", chosen);
        this.schedule(0);
      });
      const samples = $("samples");
      for (const [name, text] of Object.entries(SAMPLES)) {
        samples.appendChild(el("button", { type: "button", onclick: () => { $("text").value = text; this.schedule(0); } }, [name]));
      }
      const text = $("text");
      text.value = localStorage.getItem("toksmith.playground.text") ?? SAMPLES.Multilingual;
      text.addEventListener("input", () => this.schedule(DEBOUNCE_MS));
      $("show-ids").addEventListener("change", () => this.render());
      $("show-ws").addEventListener("change", () => this.render());
      this.installTooltip();
      this.schedule(0);
    },

    schedule(delay) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.update(), delay);
    },

    async update() {
      if (window.ToksmithMessages && window.ToksmithMessages.active()) return window.ToksmithMessages.update(this.selected);
      const text = $("text").value;
      try { localStorage.setItem("toksmith.playground.text", text.length < 100000 ? text : ""); } catch (error) { /* full */ }
      const size = encoder.encode(text).length;
      $("text-size").textContent = `${text.length.toLocaleString("en-US")} chars · ${size.toLocaleString("en-US")} bytes`;
      if (!this.selected.length) {
        this.last = null;
        $("panels").replaceChildren(el("p", { class: "help", text: "Choose at least one tokenizer." }));
        return;
      }
      if (this.controller) this.controller.abort();
      this.controller = new AbortController();
      try {
        const body = await api("/api/tokenize", {
          method: "POST", signal: this.controller.signal,
          body: JSON.stringify({ text, tokenizers: this.selected }),
        });
        showError($("playground-error"), null);
        this.last = body;
        this.render();
      } catch (error) {
        if (error.name === "AbortError") return;
        showError($("playground-error"), error);
      }
    },

    render() {
      const body = this.last;
      if (!body) return;
      $("tooltip").hidden = true;
      const showIds = $("show-ids").checked;
      const showWs = $("show-ws").checked;
      const counts = body.results.map((r) => r.tokens).filter((n) => n > 0);
      const fewest = counts.length ? Math.min(...counts) : 0;
      const panels = body.results.map((result, index) => this.panel(result, index, fewest, showIds, showWs));
      $("panels").replaceChildren(...panels);
    },

    panel(result, index, fewest, showIds, showWs) {
      const relative = fewest ? result.tokens / fewest : null;
      const price = this.prices[result.requested];
      const costText = relative === null ? "–" : `×${relative.toFixed(2)}`;
      // The price box: a model picker fed by /api/prices (the table `toksmith prices` shows).
      const priceInput = el("select", {
        title: "model whose input price applies (bundled litellm price table)", style: "max-width: 62%",
        "aria-label": `model price for ${result.requested}`,
      }, [el("option", { value: "", text: "model…" })]);
      const dollars = el("b");
      const showDollars = () => {
        const option = priceInput.selectedOptions[0];
        const value = option ? parseFloat(option.dataset.input) : NaN;
        dollars.textContent = isFinite(value) && value > 0 ? `$${((result.tokens * value) / 1e6).toPrecision(3)} for this text` : "";
      };
      priceInput.addEventListener("change", () => {
        if (priceInput.value) this.prices[result.requested] = priceInput.value; else delete this.prices[result.requested];
        saveJSON("toksmith.prices", this.prices);
        showDollars();
      });
      priceList(result.requested).then((body) => {
        for (const row of body.models) {
          priceInput.append(el("option", { value: row.model, text: `${row.model} — $${row.input_per_1m}/1M in`, "data-input": String(row.input_per_1m) }));
        }
        priceInput.title += ` (${body.prices.package} ${body.prices.version || ""}, ${body.prices.snapshot_date})`;
        if (typeof price === "string") priceInput.value = price;
        showDollars();
      }).catch(() => {});
      showDollars();
      const best = relative !== null && relative === 1 && this.last.results.length > 1;
      const stat = (value, label, name, help) => el("div", { class: "stat" + (name === "cost" && best ? " best" : ""), "data-stat": name, title: help }, [el("b", { text: value }), el("span", { text: label })]);
      const tokensBox = el("div", { class: "tokens", "data-panel": String(index) });
      tokensBox.innerHTML = this.tokensHTML(result, showIds, showWs);
      return el("div", { class: "panel", "data-tokenizer": result.requested }, [
        el("div", { class: "panel-head", title: result.pipeline }, [
          el("h3", { text: result.requested }),
          el("span", { class: "badge", text: result.backend }),
          el("span", { class: "muted", text: `${result.vocab_size.toLocaleString("en-US")} ids` }),
          result.byte_exact ? null : el("span", { class: "badge", title: "pieces are shown after this tokenizer's normalization", text: "normalizes" }),
        ]),
        el("div", { class: "stats" }, [
          stat(result.tokens.toLocaleString("en-US"), "tokens", "tokens", "number of tokens"),
          stat(C.formatValue(result.bytes_per_token, "bytes_per_token"), "bytes/tok", "bytes_per_token", "UTF-8 bytes per token"),
          stat(C.formatValue(result.chars_per_token, "chars_per_token"), "chars/tok", "chars_per_token", "characters per token"),
          stat(result.partial_tokens.toLocaleString("en-US"), "partial", "partial_tokens", "tokens that are not whole UTF-8 characters"),
          stat(costText, best ? "cost (fewest)" : "cost", "cost", "tokens relative to the chosen tokenizer with the fewest tokens"),
        ]),
        el("div", { class: "pricing" }, [priceInput, dollars]),
        tokensBox,
      ]);
    },

    tokensHTML(result, showIds, showWs) {
      const parts = [];
      const shown = Math.min(result.ids.length, MAX_RENDERED_TOKENS);
      for (let i = 0; i < shown; i++) {
        const piece = result.pieces[i];
        let cls = "tok c" + (i % 8);
        let inner;
        if (showIds) inner = `<span class="id">${result.ids[i]}</span>`;
        else if (typeof piece === "string") inner = visible(piece, showWs);
        else if (Array.isArray(piece)) {
          cls += " partial";
          inner = piece.map((part) => (typeof part === "number" ? `<span class="byte">${hex(part)}</span>` : visible(part, showWs))).join("");
        } else {
          cls += " special";
          inner = escapeHTML(piece.special);
        }
        if (showIds) {
          if (Array.isArray(piece)) cls += " partial";
          else if (piece && typeof piece === "object") cls += " special";
        }
        parts.push(`<span class="${cls}" data-i="${i}">${inner}</span>`);
        if (showIds) parts.push(" ");
      }
      if (shown < result.ids.length) {
        parts.push(`<span class="truncated">… ${(result.ids.length - shown).toLocaleString("en-US")} more tokens not drawn (counts above are for the whole text)</span>`);
      }
      return parts.join("");
    },

    installTooltip() {
      const tip = $("tooltip");
      const panels = $("panels");
      panels.addEventListener("mouseover", (event) => {
        const node = event.target.closest(".tok");
        const box = event.target.closest(".tokens");
        if (!node || !box || !this.last) { tip.hidden = true; return; }
        const result = this.last.results[Number(box.dataset.panel)];
        const i = Number(node.dataset.i);
        const piece = result.pieces[i];
        const bytes = pieceBytes(piece);
        const text = typeof piece === "string" ? JSON.stringify(piece)
          : Array.isArray(piece) ? "part of a character split across tokens" : `special token ${piece.special}`;
        tip.innerHTML = [
          ["token", `#${i + 1} of ${result.tokens}`],
          ["id", String(result.ids[i])],
          ["bytes", bytes.length ? `${bytes.map(hex).join(" ")} (${bytes.length})` : "none"],
          ["text", text],
        ].map(([k, v]) => `<div class="tt-row"><span>${k}</span><code>${escapeHTML(v)}</code></div>`).join("");
        tip.hidden = false;
        const rect = node.getBoundingClientRect();
        const left = Math.min(window.innerWidth - tip.offsetWidth - 8, Math.max(8, rect.left));
        const top = rect.bottom + 6 + tip.offsetHeight > window.innerHeight ? rect.top - tip.offsetHeight - 6 : rect.bottom + 6;
        tip.style.left = `${left}px`;
        tip.style.top = `${top}px`;
      });
      panels.addEventListener("mouseleave", () => { tip.hidden = true; });
    },
  };

  /* ---------- compare ---------- */

  const compare = {
    selected: loadJSON("toksmith.compare.tokenizers", DEFAULT_TOKENIZERS),
    corpora: [],
    languages: [],
    polling: null,

    async init() {
      const [list, corpora] = await Promise.all([tokenizers(), api("/api/corpora")]);
      const names = list.map((t) => t.name);
      this.selected = this.selected.filter((n) => names.includes(n));
      checkboxPicker($("compare-tokenizers"), list, this.selected, (chosen) => {
        this.selected = chosen;
        saveJSON("toksmith.compare.tokenizers", chosen);
      });
      this.corpora = corpora;
      const select = $("corpus");
      select.replaceChildren(...corpora.map((c) => el("option", { value: c.id, text: c.label })));
      select.addEventListener("change", () => this.corpusChanged());
      this.corpusChanged();
      $("languages-all").addEventListener("click", () => this.setLanguages(this.corpus().languages));
      $("languages-none").addEventListener("click", () => this.setLanguages([]));
      $("compare-form").addEventListener("submit", (event) => { event.preventDefault(); this.run(); });
      const jobs = await api("/api/jobs");
      const latest = jobs.find((job) => job.kind === "compare");
      if (latest && latest.state !== "failed") this.follow(latest.id);
    },

    corpus() {
      return this.corpora.find((c) => c.id === $("corpus").value) || this.corpora[0];
    },

    corpusChanged() {
      const corpus = this.corpus();
      const parallel = corpus.kind === "parallel";
      $("reference-field").hidden = !parallel;
      $("languages-field").hidden = corpus.kind === "text";
      const reference = $("reference");
      reference.replaceChildren(el("option", { value: "", text: "(none)" }), ...corpus.languages.map((l) => el("option", { value: l, text: l })));
      reference.value = corpus.default_reference || "";
      const defaults = corpus.kind === "wordfreq" ? DEFAULT_WORDFREQ_LANGUAGES.filter((l) => corpus.languages.includes(l)) : corpus.languages;
      this.setLanguages(defaults);
    },

    setLanguages(chosen) {
      const corpus = this.corpus();
      this.languages = chosen.slice();
      checkboxPicker($("languages"), corpus.languages.map((l) => ({ name: l })), this.languages, (now) => {
        this.languages = now;
        this.countLanguages();
      });
      this.countLanguages();
    },

    countLanguages() {
      $("languages-count").textContent = `${this.languages.length} of ${this.corpus().languages.length} chosen`;
    },

    async run() {
      const corpus = this.corpus();
      showError($("compare-error"), null);
      const request = { tokenizers: this.selected, corpus: corpus.id };
      if (corpus.kind !== "text") {
        if (!this.languages.length) { showError($("compare-error"), new Error("Choose at least one language.")); return; }
        if (this.languages.length < corpus.languages.length) request.languages = this.languages;
      }
      if (corpus.kind === "parallel" && $("reference").value) request.reference = $("reference").value;
      try {
        const job = await api("/api/compare", { method: "POST", body: JSON.stringify(request) });
        this.follow(job.id);
      } catch (error) {
        showError($("compare-error"), error);
      }
    },

    follow(jobId) {
      clearTimeout(this.polling);
      const button = $("compare-run");
      const tick = async () => {
        let job;
        try {
          job = await api(`/api/jobs/${jobId}`);
        } catch (error) {
          button.disabled = false;
          $("compare-progress").hidden = true;
          showError($("compare-error"), error);
          return;
        }
        this.showProgress(job);
        if (job.state === "done") {
          button.disabled = false;
          this.showResult(job);
        } else if (job.state === "failed") {
          button.disabled = false;
          showError($("compare-error"), new Error(job.error));
        } else {
          button.disabled = true;
          this.polling = setTimeout(tick, 400);
        }
      };
      tick();
    },

    showProgress(job) {
      const running = job.state === "running" || job.state === "queued";
      $("compare-progress").hidden = !running;
      const fill = $("compare-progress-fill");
      const unknown = job.progress < 0;
      fill.classList.toggle("indeterminate", unknown);
      fill.style.width = unknown ? "" : `${Math.round(job.progress * 100)}%`;
      $("compare-progress-text").textContent = running
        ? `${job.state === "queued" ? "queued" : unknown ? "" : Math.round(job.progress * 100) + "% · "}${job.message} · ${job.elapsed_s.toFixed(1)} s`
        : "";
    },

    showResult(job) {
      const links = $("compare-links");
      const blob = new Blob([JSON.stringify(job.result, null, 2)], { type: "application/json" });
      links.replaceChildren(
        el("span", { class: "muted", text: `finished in ${job.elapsed_s.toFixed(1)} s` }),
        el("a", { href: `/api/jobs/${job.id}/report.html`, target: "_blank", id: "report-link" }, ["Open the HTML report"]),
        el("a", { href: URL.createObjectURL(blob), download: `toksmith-compare-${job.id}.json` }, ["Download JSON"]),
      );
      links.hidden = false;
      C.renderCompare($("compare-output"), job.result);
    },
  };

  /* ---------- results ---------- */

  const results = {
    async init() {
      const files = await api("/api/results");
      const health = await api("/api/health");
      const list = $("results-files");
      list.replaceChildren();
      $("results-help").textContent = !health.results
        ? "Start the server with --results DIR to browse the JSON written by other toksmith commands."
        : files.length ? "JSON written by toksmith commands (read-only)." : "No JSON files in the --results folder yet.";
      for (const file of files) {
        const link = el("a", { href: `#results/${encodeURIComponent(file.path)}`, "data-path": file.path }, [
          file.path,
          el("small", { text: `${(file.size_bytes / 1024).toFixed(1)} KiB · ${new Date(file.modified_s * 1000).toLocaleString()}` }),
        ]);
        list.appendChild(el("li", {}, [link]));
      }
    },

    async show(path) {
      document.querySelectorAll("#results-files a").forEach((a) => a.classList.toggle("active", a.dataset.path === path));
      const view = $("result-view");
      showError($("results-error"), null);
      try {
        const content = await api(`/api/results/${path.split("/").map(encodeURIComponent).join("/")}`);
        $("result-head").hidden = false;
        $("result-title").textContent = content.path;
        if (C.isCompareResult(content.data)) C.renderCompare(view, content.data);
        else view.replaceChildren(el("div", { class: "card" }, [C.jsonView(content.data)]));
      } catch (error) {
        view.replaceChildren();
        showError($("results-error"), error);
      }
    },
  };

  /* ---------- API ---------- */

  const apiView = {
    async init() {
      const spec = await api("/openapi.json");
      const rows = [];
      for (const [path, methods] of Object.entries(spec.paths)) {
        for (const [method, operation] of Object.entries(methods)) {
          const description = (operation.description || "").split("\n")[0];
          rows.push(el("div", { class: "endpoint" }, [
            el("span", { class: `method ${method}`, text: method.toUpperCase() }),
            el("code", { text: path }),
            el("span", {}, [el("b", { text: operation.summary || "" }), description ? el("span", { class: "muted", text: ` — ${description}` }) : null]),
          ]));
        }
      }
      $("api-list").replaceChildren(...rows);
    },
  };

  /* ---------- routing ---------- */

  const views = { playground, compare, results, api: apiView };
  const started = {};

  async function route() {
    const hash = decodeURIComponent(location.hash.slice(1)) || "playground";
    const [name, ...rest] = hash.split("/");
    const view = views[name] ? name : "playground";
    document.querySelectorAll(".view").forEach((section) => { section.hidden = section.id !== `view-${view}`; });
    document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.view === view));
    try {
      if (!started[view]) { started[view] = true; await views[view].init(); }
      if (view === "results" && rest.length) await results.show(rest.join("/"));
    } catch (error) {
      started[view] = false;
      const target = { playground: "playground-error", compare: "compare-error", results: "results-error" }[view];
      if (target) showError($(target), error);
    }
  }

  window.addEventListener("hashchange", route);
  api("/api/health").then((health) => {
    $("server-status").textContent = `toksmith ${health.version} · ${location.host}`;
  }).catch(() => { $("server-status").textContent = "server not reachable"; });
  route();
})();
