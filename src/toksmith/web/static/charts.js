/* toksmith charts: sortable table, grouped bar chart, heatmap and a generic JSON view.
 *
 * Shared by the local web page and the self-contained HTML report (which inlines this file),
 * so it uses no library and no network: plain DOM and inline SVG.
 */
(function (global) {
  "use strict";

  const SVG_NS = "http://www.w3.org/2000/svg";

  const METRICS = [
    { key: "fertility", label: "Fertility", help: "tokens per word (lower is cheaper)", better: "lower", digits: 3 },
    { key: "premium", label: "Premium", help: "tokens relative to the reference language on the same text (1.0 = parity; Petrov et al. 2023)", better: "lower", digits: 3 },
    // Parity detail, drawn in the table as one interval column each, not charted.
    { key: "premium_ci_low", label: "Premium 95% CI", help: "95% bootstrap confidence interval of the corpus premium (resampled segments)", digits: 3, range: ["premium_ci_low", "premium_ci_high"], tableOnly: true },
    { key: "premium_median", label: "Segment premium", help: "median [Q1–Q3] of the per-segment premiums", digits: 3, range: ["premium_q1", "premium_q3"], tableOnly: true },
    { key: "bytes_per_token", label: "Bytes / token", help: "UTF-8 bytes per token (higher compresses more)", better: "higher", digits: 2 },
    { key: "chars_per_token", label: "Chars / token", help: "characters per token (higher compresses more)", better: "higher", digits: 2 },
    { key: "continued_word_ratio", label: "Continued words", help: "share of words split into 2+ tokens (Rust et al. 2021)", better: "lower", digits: 3, percent: true },
    { key: "vocab_utilization", label: "Vocab used", help: "distinct tokens used / vocabulary size", better: "higher", digits: 4, percent: true },
    { key: "renyi_efficiency", label: "Rényi eff.", help: "Rényi efficiency, alpha = 2.5 (Zouhar et al. 2023)", better: "higher", digits: 3 },
    { key: "partial_char_token_ratio", label: "Partial-char tokens", help: "share of tokens that are not whole UTF-8 characters", better: "lower", digits: 4, percent: true },
    { key: "unknown_token_ratio", label: "Unknown tokens", help: "share of tokens that are unknown (<unk>, [UNK]): text the tokenizer cannot represent; counts with many of them flatter the tokenizer", better: "lower", digits: 4, percent: true },
    { key: "byte_fallback_ratio", label: "Byte-fallback tokens", help: "share of tokens that are byte-fallback pieces (<0xNN>)", better: "lower", digits: 4, percent: true },
    { key: "tokens", label: "Tokens", help: "number of tokens", better: "lower", digits: 0 },
    { key: "words", label: "Words", help: "number of words (Unicode word segmentation)", digits: 0 },
    { key: "bytes", label: "Bytes", help: "UTF-8 bytes of the text", digits: 0 },
    { key: "chars", label: "Chars", help: "characters of the text", digits: 0 },
  ];
  // Rows with a larger share of unknown tokens are never called cheapest (as
  // toksmith.metrics.UNKNOWN_WARN_SHARE in the CLI report); baselines (ws:) never are.
  const UNKNOWN_WARN_SHARE = 0.05;
  const BASELINE_BACKENDS = ["whitespace"];
  const METRIC = Object.fromEntries(METRICS.map((m) => [m.key, m]));

  const PALETTE = ["#4f46e5", "#0891b2", "#d97706", "#db2777", "#059669", "#7c3aed",
    "#dc2626", "#2563eb", "#65a30d", "#c026d3", "#0d9488", "#ea580c", "#475569", "#9333ea",
    "#16a34a", "#be123c"];

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of [].concat(children || [])) {
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function formatValue(value, key) {
    if (value === null || value === undefined || (typeof value === "number" && !isFinite(value))) return "–";
    if (typeof value !== "number") return String(value);
    const metric = METRIC[key];
    if (metric && metric.percent) return (value * 100).toFixed(Math.max(0, metric.digits - 2)) + "%";
    if (metric && metric.digits === 0) return Math.round(value).toLocaleString("en-US");
    if (Number.isInteger(value) && !metric) return value.toLocaleString("en-US");
    return value.toFixed(metric ? metric.digits : 3);
  }

  function labelOf(key) {
    return METRIC[key] ? METRIC[key].label : key.replace(/_/g, " ");
  }

  function tokenizerColors(names) {
    const colors = {};
    names.forEach((name, i) => { colors[name] = PALETTE[i % PALETTE.length]; });
    return colors;
  }

  function unique(values) {
    return [...new Set(values)];
  }

  /* ---------- sortable table ---------- */

  function sortableTable(rows, columns, options) {
    options = options || {};
    let sortKey = options.sortKey || null;
    let ascending = options.ascending !== false;
    const table = el("table", { class: "data sortable" });
    const thead = el("thead");
    const tbody = el("tbody");
    table.append(thead, tbody);
    const headRow = el("tr");
    thead.appendChild(headRow);
    const headers = columns.map((column) => {
      const th = el("th", {
        class: column.numeric ? "num" : "",
        title: column.help || "",
        "data-key": column.key,
        tabindex: "0",
      }, [column.label || labelOf(column.key)]);
      const activate = () => {
        if (sortKey === column.key) ascending = !ascending;
        else { sortKey = column.key; ascending = !column.numeric || column.ascending !== false; }
        draw();
      };
      th.addEventListener("click", activate);
      th.addEventListener("keydown", (event) => { if (event.key === "Enter") activate(); });
      headRow.appendChild(th);
      return th;
    });

    function compare(a, b) {
      const x = a[sortKey], y = b[sortKey];
      const xMissing = x === null || x === undefined, yMissing = y === null || y === undefined;
      if (xMissing || yMissing) return xMissing === yMissing ? 0 : xMissing ? 1 : -1;
      const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return ascending ? order : -order;
    }

    function draw() {
      const sorted = sortKey ? rows.slice().sort(compare) : rows;
      headers.forEach((th) => {
        th.classList.toggle("sorted", th.dataset.key === sortKey);
        th.setAttribute("aria-sort", th.dataset.key !== sortKey ? "none" : ascending ? "ascending" : "descending");
      });
      const fragment = document.createDocumentFragment();
      for (const row of sorted) {
        const tr = el("tr");
        for (const column of columns) {
          const value = row[column.key];
          const td = el("td", { class: column.numeric ? "num" : "" });
          if (column.render) td.appendChild(column.render(value, row));
          else if (column.range) td.textContent = formatRange(row, column);
          else td.textContent = column.numeric ? formatValue(value, column.key) : formatCell(value);
          tr.appendChild(td);
        }
        fragment.appendChild(tr);
      }
      tbody.replaceChildren(fragment);
    }
    draw();
    return table;
  }

  function formatRange(row, column) {
    const [low, high] = column.range.map((key) => row[key]);
    const shown = (v) => formatValue(v, column.key);
    const missing = (v) => v === null || v === undefined;
    if (column.key === column.range[0]) return missing(low) && missing(high) ? "–" : `${shown(low)}–${shown(high)}`;
    const value = row[column.key];
    if (missing(value)) return "–";
    return missing(low) && missing(high) ? shown(value) : `${shown(value)} [${shown(low)}–${shown(high)}]`;
  }

  /* A premium with its confidence interval and per-segment spread, for tooltips. */
  function premiumDetail(row) {
    if (!row) return "";
    const parts = [];
    if (typeof row.premium_ci_low === "number" && typeof row.premium_ci_high === "number") {
      parts.push(`95% CI ${formatValue(row.premium_ci_low, "premium")}–${formatValue(row.premium_ci_high, "premium")}`);
    }
    if (typeof row.premium_median === "number") {
      const spread = typeof row.premium_q1 === "number" && typeof row.premium_q3 === "number"
        ? ` [${formatValue(row.premium_q1, "premium")}–${formatValue(row.premium_q3, "premium")}]` : "";
      parts.push(`segment median ${formatValue(row.premium_median, "premium")}${spread}`);
    }
    return parts.length ? ` (${parts.join("; ")})` : "";
  }

  function unknownDetail(row) {
    const share = row && row.unknown_token_ratio;
    return typeof share === "number" && share > UNKNOWN_WARN_SHARE
      ? ` · ${formatValue(share, "unknown_token_ratio")} unknown tokens` : "";
  }

  function formatCell(value) {
    if (value === null || value === undefined) return "–";
    if (typeof value === "number") return formatValue(value);
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  /* ---------- grouped horizontal bar chart: one group per language ---------- */

  function barChart(rows, options) {
    const metric = options.metric;
    const tokenizers = options.tokenizers;
    const languages = options.languages;
    const colors = options.colors || tokenizerColors(tokenizers);
    const value = {};
    let max = 0;
    for (const row of rows) {
      const v = row[metric];
      if (typeof v === "number" && isFinite(v)) {
        value[row.language + "\u0000" + row.tokenizer] = v;
        max = Math.max(max, v);
      }
    }
    const barHeight = tokenizers.length > 6 ? 8 : 12;
    const groupGap = 10;
    const labelWidth = Math.min(180, 14 + 7.2 * Math.max(4, ...languages.map((l) => l.length)));
    const width = options.width || 760;
    const valueWidth = 64;
    const plotWidth = Math.max(120, width - labelWidth - valueWidth - 8);
    const groupHeight = tokenizers.length * barHeight + groupGap;
    const top = 26;
    const height = top + languages.length * groupHeight + 6;
    const root = svg("svg", {
      class: "chart bar-chart", width: width, height: height,
      viewBox: `0 0 ${width} ${height}`, role: "img",
      "aria-label": `${labelOf(metric)} per language and tokenizer`,
    });
    const ticks = niceTicks(max);
    const niceMax = ticks[ticks.length - 1];
    for (const tick of ticks) {
      const x = labelWidth + (plotWidth * tick) / niceMax;
      root.appendChild(svg("line", { x1: x, x2: x, y1: top - 4, y2: height - 4, class: "grid" }));
      root.appendChild(svg("text", { x: x, y: top - 10, class: "tick", "text-anchor": "middle" },
        formatTick(tick, ticks[1] - ticks[0], metric)));
    }
    if (metric === "premium" && niceMax > 1) {
      const x = labelWidth + plotWidth / niceMax;
      root.appendChild(svg("line", { x1: x, x2: x, y1: top - 4, y2: height - 4, class: "parity" }));
    }
    languages.forEach((language, g) => {
      const y0 = top + g * groupHeight;
      if (g % 2 === 1) {
        root.appendChild(svg("rect", { x: 0, y: y0 - groupGap / 2, width: width, height: groupHeight, class: "band" }));
      }
      root.appendChild(svg("text", {
        x: labelWidth - 8, y: y0 + (tokenizers.length * barHeight) / 2 + 4,
        class: "label", "text-anchor": "end",
      }, language));
      tokenizers.forEach((tokenizer, t) => {
        const v = value[language + "\u0000" + tokenizer];
        const y = y0 + t * barHeight;
        if (v === undefined) return;
        const w = Math.max(1, (plotWidth * v) / niceMax);
        const bar = svg("rect", {
          x: labelWidth, y: y + 1, width: w, height: barHeight - 2, rx: 2,
          fill: colors[tokenizer], class: "bar", "data-tokenizer": tokenizer, "data-language": language,
        });
        bar.appendChild(svg("title", {}, `${tokenizer} · ${language}: ${formatValue(v, metric)}`));
        root.appendChild(bar);
        if (barHeight >= 10) {
          root.appendChild(svg("text", { x: labelWidth + w + 4, y: y + barHeight - 2, class: "value" }, formatValue(v, metric)));
        }
      });
    });
    return root;
  }

  function niceTicks(max) {
    if (!(max > 0)) return [0, 1];
    const raw = max / 4;
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw);
    const ticks = [];
    for (let i = 0; i * step < max * 1.0001 || ticks.length < 2; i++) ticks.push(i * step);
    if (ticks[ticks.length - 1] < max) ticks.push(ticks.length * step);
    return ticks;
  }

  function formatTick(value, step, metric) {
    const percent = METRIC[metric] && METRIC[metric].percent;
    const scaled = percent ? value * 100 : value;
    const scaledStep = percent ? step * 100 : step;
    let decimals = 0;
    while (decimals < 6 && Math.abs(Math.round(scaledStep * 10 ** decimals) - scaledStep * 10 ** decimals) > 1e-6) decimals++;
    const text = scaled.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
    return percent ? text + "%" : text;
  }

  function legend(tokenizers, colors) {
    return el("div", { class: "legend" }, tokenizers.map((name) =>
      el("span", { class: "legend-item" }, [el("i", { style: `background:${colors[name]}` }), name])));
  }

  /* ---------- heatmap: languages (rows) × tokenizers (columns) ---------- */

  const GOOD_TO_BAD = [[44, 123, 182], [171, 217, 233], [255, 255, 191], [253, 174, 97], [215, 25, 28]];

  function rampColor(t) {
    t = Math.min(1, Math.max(0, t));
    const scaled = t * (GOOD_TO_BAD.length - 1);
    const i = Math.min(GOOD_TO_BAD.length - 2, Math.floor(scaled));
    const f = scaled - i;
    const a = GOOD_TO_BAD[i], b = GOOD_TO_BAD[i + 1];
    const c = a.map((x, k) => Math.round(x + (b[k] - x) * f));
    return { fill: `rgb(${c[0]},${c[1]},${c[2]})`, dark: 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2] < 140 };
  }

  function heatmapScale(values, metric) {
    const finite = values.filter((v) => typeof v === "number" && isFinite(v));
    const better = METRIC[metric] ? METRIC[metric].better : "lower";
    if (!finite.length) return () => rampColor(0.5);
    if (metric === "premium") {
      // log scale centred on parity (1.0): cheaper than the reference is blue, dearer red
      const span = Math.max(...finite.map((v) => Math.abs(Math.log(Math.max(v, 1e-9))))) || 1;
      return (v) => rampColor(0.5 + Math.log(Math.max(v, 1e-9)) / (2 * span));
    }
    const lo = Math.min(...finite), hi = Math.max(...finite);
    return (v) => {
      const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
      return rampColor(better === "higher" ? 1 - t : t);
    };
  }

  function heatmap(rows, options) {
    const metric = options.metric;
    const tokenizers = options.tokenizers;
    const languages = options.languages;
    const value = {};
    const rowOf = {};
    for (const row of rows) {
      value[row.language + "\u0000" + row.tokenizer] = row[metric];
      rowOf[row.language + "\u0000" + row.tokenizer] = row;
    }
    const scale = heatmapScale(rows.map((r) => r[metric]), metric);
    const labelWidth = Math.min(180, 14 + 7.2 * Math.max(4, ...languages.map((l) => l.length)));
    const width = options.width || 760;
    const cellWidth = Math.max(58, Math.min(140, (width - labelWidth - 40) / Math.max(1, tokenizers.length)));
    const cellHeight = 22;
    const longest = Math.max(...tokenizers.map((t) => t.length));
    const fits = longest * 7.4 + 8 <= cellWidth;
    // labels that do not fit their column are drawn at 35 degrees, which needs room above and right
    const headerHeight = fits ? 26 : Math.ceil(longest * 7.4 * 0.58) + 22;
    const overhang = fits ? 0 : Math.max(0, Math.ceil(longest * 7.4 * 0.82) - cellWidth / 2);
    const realWidth = labelWidth + cellWidth * tokenizers.length + 4 + overhang;
    const height = headerHeight + cellHeight * languages.length + 4;
    const root = svg("svg", {
      class: "chart heatmap", width: realWidth, height: height,
      viewBox: `0 0 ${realWidth} ${height}`, role: "img",
      "aria-label": `${labelOf(metric)} heatmap, tokenizer by language`,
    });
    tokenizers.forEach((tokenizer, c) => {
      const x = labelWidth + c * cellWidth + cellWidth / 2;
      const y = headerHeight - 8;
      root.appendChild(svg("text", fits
        ? { x: x, y: y, class: "label column-label", "text-anchor": "middle" }
        : { x: x - 4, y: y, class: "label column-label", transform: `rotate(-35 ${x - 4} ${y})` }, tokenizer));
    });
    languages.forEach((language, r) => {
      const y = headerHeight + r * cellHeight;
      root.appendChild(svg("text", { x: labelWidth - 8, y: y + cellHeight / 2 + 4, class: "label", "text-anchor": "end" }, language));
      tokenizers.forEach((tokenizer, c) => {
        const v = value[language + "\u0000" + tokenizer];
        const x = labelWidth + c * cellWidth;
        const missing = typeof v !== "number" || !isFinite(v);
        const color = missing ? { fill: "#eef0f3", dark: false } : scale(v);
        const cell = svg("rect", {
          x: x + 1, y: y + 1, width: cellWidth - 2, height: cellHeight - 2, rx: 3,
          fill: color.fill, class: "cell", "data-tokenizer": tokenizer, "data-language": language,
        });
        const row = rowOf[language + "\u0000" + tokenizer];
        const detail = (metric === "premium" ? premiumDetail(row) : "") + unknownDetail(row);
        cell.appendChild(svg("title", {}, `${tokenizer} · ${language}: ${formatValue(v, metric)}${detail}`));
        root.appendChild(cell);
        root.appendChild(svg("text", {
          x: x + cellWidth / 2, y: y + cellHeight / 2 + 4, "text-anchor": "middle",
          class: "cell-value" + (color.dark ? " on-dark" : ""),
        }, formatValue(v, metric)));
      });
    });
    return root;
  }

  /* ---------- the compare dashboard (page and report) ---------- */

  /* The tokenizer with the fewest tokens per language, as the CLI report counts it: baselines
   * and rows with many unknown tokens are not candidates, and a tie is nobody's win. */
  function cheapestPerLanguage(rows, baselines) {
    const candidates = {};
    for (const row of rows) {
      if (typeof row.tokens !== "number" || baselines.has(row.tokenizer)) continue;
      if (typeof row.unknown_token_ratio === "number" && row.unknown_token_ratio > UNKNOWN_WARN_SHARE) continue;
      (candidates[row.language] = candidates[row.language] || []).push(row);
    }
    const wins = {};
    let ties = 0;
    for (const list of Object.values(candidates)) {
      const fewest = Math.min(...list.map((r) => r.tokens));
      const best = list.filter((r) => r.tokens === fewest);
      if (best.length > 1) { ties++; continue; }
      wins[best[0].tokenizer] = (wins[best[0].tokenizer] || 0) + 1;
    }
    return { wins, ties };
  }

  /* Tokenizers with the fewest tokens somewhere only because of unknown tokens. */
  function passedOver(rows, baselines) {
    const fewest = {};
    for (const row of rows) {
      if (typeof row.tokens !== "number" || baselines.has(row.tokenizer)) continue;
      fewest[row.language] = Math.min(row.tokens, fewest[row.language] ?? Infinity);
    }
    const passed = {};
    for (const row of rows) {
      if (baselines.has(row.tokenizer) || row.tokens !== fewest[row.language]) continue;
      if (typeof row.unknown_token_ratio === "number" && row.unknown_token_ratio > UNKNOWN_WARN_SHARE) {
        (passed[row.tokenizer] = passed[row.tokenizer] || []).push(row.language);
      }
    }
    return passed;
  }

  function renderCompare(container, data, options) {
    options = options || {};
    const rows = data.results || [];
    const tokenizers = unique((data.tokenizers || []).map((t) => t.name).concat(rows.map((r) => r.tokenizer)));
    const languages = unique(rows.map((r) => r.language)).sort();
    const colors = tokenizerColors(tokenizers);
    const hasPremium = rows.some((r) => typeof r.premium === "number");
    const present = METRICS.filter((m) => rows.some((r) => typeof r[m.key] === "number"));
    container.replaceChildren();

    const baselines = new Set((data.tokenizers || []).filter((t) => BASELINE_BACKENDS.includes(t.backend)).map((t) => t.name));
    const { wins, ties } = cheapestPerLanguage(rows, baselines);
    const ranking = Object.entries(wins).sort((a, b) => b[1] - a[1]);
    const passed = passedOver(rows, baselines);
    const summary = el("div", { class: "summary" }, [
      el("div", { class: "summary-item" }, [el("b", { text: String(tokenizers.length) }), " tokenizers"]),
      el("div", { class: "summary-item" }, [el("b", { text: String(languages.length) }), languages.length === 1 ? " language" : " languages"]),
      data.reference ? el("div", { class: "summary-item" }, ["reference ", el("b", { text: data.reference })]) : null,
      data.corpus ? el("div", { class: "summary-item muted" }, ["corpus ", el("code", { text: String(data.corpus) })]) : null,
    ]);
    container.appendChild(summary);
    if (ranking.length) {
      container.appendChild(el("p", { class: "cheapest" }, [
        "Fewest tokens: ",
        ...ranking.flatMap(([name, count], i) => [
          i ? ", " : "",
          el("span", { class: "chip", style: `border-color:${colors[name]}` }, [el("i", { style: `background:${colors[name]}` }), name]),
          ` in ${count} of ${languages.length}`,
        ]),
        ties ? `; tied in ${ties}` : "",
      ]));
    }
    for (const [name, where] of Object.entries(passed)) {
      container.appendChild(el("p", { class: "note warning", text:
        `Not counted as cheapest: ${name} has the fewest tokens in ${where.sort().join(", ")}, but over ${Math.round(UNKNOWN_WARN_SHARE * 100)}% of them are unknown tokens.` }));
    }
    if (baselines.size) {
      container.appendChild(el("p", { class: "help", text: `Baselines, never cheapest: ${[...baselines].join(", ")}.` }));
    }
    const notes = data.notes || [];
    if (notes.length) {
      container.appendChild(el("div", { class: "notes", role: "status" }, [
        el("h3", { text: notes.length === 1 ? "Warning" : `Warnings (${notes.length})` }),
        ...notes.map((note) => el("p", { class: "note warning", text: String(note) })),
      ]));
    }

    const chartMetric = el("select", { class: "metric-select", "aria-label": "bar chart metric" },
      present.filter((m) => !m.tableOnly && !["words", "bytes", "chars"].includes(m.key)).map((m) => el("option", { value: m.key, text: m.label })));
    chartMetric.value = hasPremium ? "premium" : "fertility";
    const heatMetric = chartMetric.cloneNode(true);
    heatMetric.setAttribute("aria-label", "heatmap metric");
    heatMetric.value = chartMetric.value;

    const barHolder = el("div", { class: "chart-holder scroll-y" });
    const heatHolder = el("div", { class: "chart-holder scroll-both" });
    const barHelp = el("p", { class: "help" });
    const heatHelp = el("p", { class: "help" });
    const width = (holder) => Math.max(360, (holder.clientWidth || 700) - 4);

    function drawBars() {
      const metric = chartMetric.value;
      barHelp.textContent = `${labelOf(metric)}: ${METRIC[metric] ? METRIC[metric].help : ""}`;
      barHolder.replaceChildren(barChart(rows, { metric, tokenizers, languages, colors, width: width(barHolder) }));
    }
    function drawHeat() {
      const metric = heatMetric.value;
      heatHelp.textContent = `${labelOf(metric)}: ${METRIC[metric] ? METRIC[metric].help : ""}. Blue is better, red is worse.`;
      heatHolder.replaceChildren(heatmap(rows, { metric, tokenizers, languages, width: width(heatHolder) }));
    }
    chartMetric.addEventListener("change", drawBars);
    heatMetric.addEventListener("change", drawHeat);

    const grid = el("div", { class: "chart-grid" });
    grid.appendChild(el("div", { class: "card chart-card" }, [
      el("div", { class: "card-head" }, [el("h3", { text: "Per language" }), chartMetric]),
      barHelp, legend(tokenizers, colors), barHolder,
    ]));
    grid.appendChild(el("div", { class: "card chart-card" }, [
      el("div", { class: "card-head" }, [el("h3", { text: "Heatmap: tokenizer × language" }), heatMetric]),
      heatHelp, heatHolder,
    ]));
    container.appendChild(grid);

    const columns = [
      { key: "tokenizer", label: "Tokenizer", render: (v) => el("span", { class: "chip", style: `border-color:${colors[v]}` }, [el("i", { style: `background:${colors[v]}` }), v]) },
      { key: "language", label: "Language" },
    ].concat(present.map((m) => ({ key: m.key, label: m.label, help: m.help, numeric: true, range: m.range })));
    const filter = el("input", { type: "search", class: "filter", placeholder: "filter rows (tokenizer or language)", "aria-label": "filter rows" });
    const tableHolder = el("div", { class: "table-holder" });
    let sortState = { sortKey: hasPremium ? "premium" : "fertility" };
    function drawTable() {
      const needle = filter.value.trim().toLowerCase();
      const shown = needle ? rows.filter((r) => (r.tokenizer + " " + r.language).toLowerCase().includes(needle)) : rows;
      tableHolder.replaceChildren(sortableTable(shown, columns, sortState));
    }
    filter.addEventListener("input", drawTable);
    container.appendChild(el("div", { class: "card" }, [
      el("div", { class: "card-head" }, [el("h3", { text: `All measures (${rows.length} rows)` }), filter]),
      el("p", { class: "help", text: "Click a column to sort; click again to reverse." }),
      tableHolder,
    ]));

    drawBars();
    drawHeat();
    drawTable();
    if (options.redrawOnResize !== false) {
      let timer = null;
      const observer = new ResizeObserver(() => {
        clearTimeout(timer);
        timer = setTimeout(() => { if (container.isConnected) { drawBars(); drawHeat(); } }, 150);
      });
      observer.observe(container);
    }
  }

  function isCompareResult(data) {
    return data && typeof data === "object" && Array.isArray(data.results) && Array.isArray(data.tokenizers)
      && data.results.every((r) => r && typeof r === "object" && "tokenizer" in r && "language" in r);
  }

  /* ---------- generic JSON view: tables for lists of records, trees for the rest ---------- */

  function jsonView(data, depth) {
    depth = depth || 0;
    if (data === null || typeof data !== "object") {
      return el("span", { class: "json-" + (data === null ? "null" : typeof data), text: formatCell(data) });
    }
    if (Array.isArray(data)) {
      const records = data.length && data.every((item) => item && typeof item === "object" && !Array.isArray(item));
      if (records) {
        const keys = unique(data.flatMap((item) => Object.keys(item)));
        const simple = keys.filter((k) => data.every((item) => item[k] === null || typeof item[k] !== "object"));
        if (simple.length === keys.length) {
          const numeric = (k) => data.some((item) => typeof item[k] === "number");
          return el("div", { class: "table-holder" }, [sortableTable(data, keys.map((k) => ({ key: k, label: k, numeric: numeric(k) })))]);
        }
      }
      if (data.every((item) => item === null || typeof item !== "object")) {
        const shown = data.slice(0, 200).map(formatCell).join(", ");
        return el("span", { class: "json-list", text: `[${shown}${data.length > 200 ? `, … (${data.length} items)` : ""}]` });
      }
      const list = el("ol", { class: "json-array" });
      data.slice(0, 500).forEach((item) => list.appendChild(el("li", {}, [jsonView(item, depth + 1)])));
      return list;
    }
    const dl = el("dl", { class: "json-object" });
    for (const [key, value] of Object.entries(data)) {
      const nested = value !== null && typeof value === "object";
      if (nested) {
        const size = Array.isArray(value) ? `${value.length} items` : `${Object.keys(value).length} keys`;
        const details = el("details", { open: depth < 1 ? true : null }, [
          el("summary", {}, [el("b", { text: key }), el("span", { class: "muted", text: " " + size })]),
          jsonView(value, depth + 1),
        ]);
        dl.appendChild(el("div", { class: "json-entry nested" }, [details]));
      } else {
        dl.appendChild(el("div", { class: "json-entry" }, [el("dt", { text: key }), el("dd", {}, [jsonView(value, depth + 1)])]));
      }
    }
    return dl;
  }

  global.ToksmithCharts = {
    METRICS, METRIC, PALETTE, el, svg, formatValue, labelOf, tokenizerColors,
    sortableTable, barChart, heatmap, legend, renderCompare, isCompareResult, jsonView,
  };
})(window);
