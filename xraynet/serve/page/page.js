// xraynet page: upload X-rays, show the diagnosis, its certainty, the quality verdict and the
// heatmap. Text from the server or from file names is only ever set as textContent.
"use strict";

const results = [];  // {name, label, probabilities, quality}, for the CSV
let classes = [];

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function pct(x) { return (100 * x).toFixed(0) + "%"; }
function ci(m) { return m ? `${m.estimate.toFixed(3)} (95% CI ${m.low.toFixed(3)} to ${m.high.toFixed(3)})` : "n/a"; }

function externalText(e) {
  // pooled, then each source's macro-F1 with the worst source named
  const sources = Object.entries(e.sources || {});
  const bySource = sources.length > 1
    ? ` (by source: ${sources.map(([name, s]) => `${name} ${s.macro_f1 ? s.macro_f1.estimate.toFixed(3) : "n/a"}, ${s.n} images`).join("; ")}; worst: ${e.worst_source})`
    : "";
  return `${e.name}: macro-F1 ${ci(e.macro_f1)}, ${e.n} images${bySource}`;
}

async function loadModel() {
  const body = document.getElementById("model-body");
  try {
    const response = await fetch("/api/model");
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const m = await response.json();
    classes = m.classes;
    body.replaceChildren();
    const dl = el("dl");
    const add = (term, value) => { dl.append(el("dt", term)); const dd = el("dd"); dd.append(value); dl.append(dd); };
    add("Classes", m.classes.join(", "));
    add("Model", `${m.architecture}; ${m.image_size} px input (${m.resize}); backend ${m.backend || "?"}`);
    const splits = (m.training_data && m.training_data.splits) || {};
    const counts = Object.entries(splits).map(([s, c]) => `${s} ${Object.values(c).reduce((a, b) => a + b, 0)}`);
    add("Training data", `${(m.training_data && m.training_data.description) || "?"}${counts.length ? " (" + counts.join(", ") + " images)" : ""}`);
    const lf = m.leak_free_test || {};
    add("Leak-free test", lf.accuracy ? `accuracy ${ci(lf.accuracy)}; macro-F1 ${ci(lf.macro_f1)}; ${lf.n} images` : "not measured");
    add("External validation", m.external.length
      ? m.external.map(externalText).join("; ")
      : "none yet (xraynet evaluate MODEL --data DIR)");
    const pop = m.populations || {};
    const byClass = Object.entries(pop.by_class || {});
    add("Populations seen", `${byClass.length ? byClass.map(([c, who]) => `${c}: ${who}`).join("; ") : "not described"}${pop.sources && pop.sources.length ? ` (sources: ${pop.sources.join(", ")})` : ""}. ${pop.why || ""}`);
    add("Calibration", `temperature ${Number(m.temperature).toFixed(2)} (fitted on validation)`);
    if (m.incomplete && m.incomplete.length) add("Incomplete bundle", m.incomplete.join("; "));
    const links = el("span");
    for (const [name, href] of Object.entries(m.documents)) {
      const a = el("a", name); a.href = href; a.target = "_blank"; a.rel = "noopener";
      links.append(a, " ");
    }
    add("Documents", links.childNodes.length ? links : "none");
    body.append(dl, el("p", m.notice, "card-notice"));
  } catch (err) {
    body.replaceChildren(el("p", `Could not load the model description: ${err.message}`, "error"));
  }
}

function setStatus(text) { document.getElementById("status").textContent = text; }

async function predict(file, tta, method) {
  const form = new FormData();
  form.append("file", file, file.name);
  const params = new URLSearchParams({explain: "true", method, tta: String(tta)});
  const response = await fetch(`/api/predict?${params}`, {method: "POST", body: form});
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail || {});
    throw new Error(`${response.status}: ${detail}`);
  }
  return data;
}

function render(card, data) {
  card.querySelector(".xray").src = "data:image/png;base64," + data.input_png_base64;
  card.querySelector(".xray").alt = `X-ray as the model saw it: ${data.name}`;
  const heat = card.querySelector(".heat");
  heat.src = "data:image/png;base64," + data.heatmap_png_base64;
  heat.alt = `${data.explain_method} heatmap for ${data.label}: red where the model looked most`;
  card.querySelector(".method").textContent = data.explain_method === "gradcam" ? "Grad-CAM" : "Occlusion sensitivity";
  card.querySelector(".label").textContent = data.quality.ok ? data.label : `${data.label} (unreliable)`;
  card.querySelector(".certainty").textContent = data.uncertainty.summary;
  const body = card.querySelector(".bars tbody");
  body.replaceChildren();
  const spread = data.spread || {};
  for (const [name, p] of Object.entries(data.probabilities)) {
    const row = el("tr");
    row.append(el("th", name));
    const cell = el("td"); const bar = el("div", null, "bar");
    const track = el("div", null, "track"); const fill = el("div", null, "fill");
    fill.style.width = pct(p); track.append(fill);
    track.setAttribute("role", "img"); track.setAttribute("aria-label", `${name} ${p.toFixed(2)}`);
    bar.append(track, el("span", p.toFixed(2), "value")); cell.append(bar); row.append(cell);
    row.append(el("td", name in spread ? `± ${spread[name].toFixed(2)}` : "–"));
    body.append(row);
  }
  const quality = card.querySelector(".quality");
  quality.hidden = data.quality.ok;
  card.classList.toggle("flagged", !data.quality.ok);
  quality.textContent = data.quality.ok ? "" :
    "Input-quality warning: " + data.quality.reasons.join("; ") + ". The probabilities below are unreliable.";
}

async function analyse(file) {
  const card = document.getElementById("card-template").content.firstElementChild.cloneNode(true);
  card.querySelector(".name").textContent = file.name;
  card.querySelector(".certainty").textContent = "analysing…";
  document.getElementById("cards").prepend(card);
  const tta = Math.max(0, Math.min(32, parseInt(document.getElementById("tta").value, 10) || 0));
  const opacity = card.querySelector(".opacity");
  opacity.addEventListener("input", () => { card.querySelector(".heat").style.opacity = opacity.value / 100; });
  const occlusion = card.querySelector(".occlusion");
  try {
    const data = await predict(file, tta, "gradcam");
    render(card, data);
    results.push({name: file.name, label: data.label, probabilities: data.probabilities,
                  quality: data.quality, certainty: data.uncertainty.summary});
    card.dataset.state = "done";
    occlusion.addEventListener("click", async () => {
      occlusion.disabled = true; occlusion.textContent = "computing occlusion…";
      try {
        const more = await predict(file, tta, occlusion.dataset.next || "occlusion");
        render(card, more);
        const next = more.explain_method === "occlusion" ? "gradcam" : "occlusion";
        occlusion.dataset.next = next;
        occlusion.textContent = next === "occlusion" ? "Show occlusion map" : "Show Grad-CAM";
      } catch (err) { occlusion.textContent = `failed: ${err.message}`; }
      occlusion.disabled = false;
    });
  } catch (err) {
    card.querySelector(".certainty").replaceChildren(el("span", `Could not analyse this file: ${err.message}`, "error"));
    card.querySelector(".viewer").hidden = true;
    card.querySelector(".bars").hidden = true;
    card.dataset.state = "error";
  }
  document.getElementById("download").disabled = results.length === 0;
  document.getElementById("clear").disabled = false;
}

async function handle(files) {
  const list = Array.from(files);
  for (let i = 0; i < list.length; i++) {
    setStatus(`Analysing ${i + 1} of ${list.length}…`);
    await analyse(list[i]);
  }
  setStatus(`Done: ${results.length} image(s) analysed.`);
}

function csvCell(value) {
  const text = String(value);
  const safe = /^[=+\-@\t\r]/.test(text) ? "'" + text : text;  // no formulas in spreadsheets
  return /[",\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function downloadCsv() {
  const names = classes.length ? classes : Object.keys(results[0].probabilities);
  const rows = [["file", "label", ...names.map(n => `p_${n}`), "quality_ok", "quality_reasons", "certainty"]];
  for (const r of results) {
    rows.push([r.name, r.label, ...names.map(n => r.probabilities[n].toFixed(4)), r.quality.ok,
               r.quality.reasons.join("; "), r.certainty]);
  }
  const blob = new Blob([rows.map(r => r.map(csvCell).join(",")).join("\n") + "\n"], {type: "text/csv"});
  const a = el("a"); a.href = URL.createObjectURL(blob); a.download = "xraynet-results.csv";
  document.body.append(a); a.click(); a.remove();
}

document.addEventListener("DOMContentLoaded", () => {
  loadModel();
  const input = document.getElementById("file");
  const drop = document.getElementById("drop");
  input.addEventListener("change", () => { handle(input.files).then(() => { input.value = ""; }); });
  input.addEventListener("focus", () => drop.querySelector("label").classList.add("focus"));
  input.addEventListener("blur", () => drop.querySelector("label").classList.remove("focus"));
  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, e => { e.preventDefault(); drop.classList.add("over"); });
  }
  for (const type of ["dragleave", "drop"]) {
    drop.addEventListener(type, e => { e.preventDefault(); drop.classList.remove("over"); });
  }
  drop.addEventListener("drop", e => handle(e.dataTransfer.files));
  document.getElementById("download").addEventListener("click", downloadCsv);
  document.getElementById("clear").addEventListener("click", () => {
    results.length = 0;
    document.getElementById("cards").replaceChildren();
    document.getElementById("download").disabled = true;
    document.getElementById("clear").disabled = true;
    setStatus("");
  });
});
