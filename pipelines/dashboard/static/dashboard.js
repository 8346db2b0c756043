// The one screen: fetch the figures computed server-side from the published marts and draw them with Plotly.
// Every chart gets the values it plotted in data-values once Plotly has drawn it, so a test (or an auditor) can
// compare the screen with the published snapshot; a figure without a published mart shows why, never a number.
"use strict";

const violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}:${event.columnNumber}`);
  document.body.dataset.cspViolations = JSON.stringify(violations);
});

const BASE_LAYOUT = {
  margin: { l: 60, r: 20, t: 10, b: 60 },
  height: 340,
  font: { family: "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif", size: 12 },
  legend: { orientation: "h", y: -0.25 },
  paper_bgcolor: "#ffffff",
  plot_bgcolor: "#ffffff",
  colorway: ["#1e8449", "#2e86c1", "#d68910", "#7d3c98", "#c0392b", "#17a589", "#5d6d7e", "#a04000"],
};
// No mode bar: a screen to read, not to edit; and plotly.js would style it with an inline <style> per chart.
const CONFIG = { displayModeBar: false, responsive: true };

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function provenance(figure) {
  const pub = figure.publication;
  if (!pub) return `数据集 ${figure.dataset} · 无发布版本`;
  return `${pub.caption} · 快照 ${pub.snapshot_id} · ${figure.dataset} · ${pub.row_count} 行`;
}

function plotted(gd) {
  return gd.data.map((t) => {
    const trace = { name: t.name, x: t.x, y: t.y, visible: t.visible !== false };
    if (t.z !== undefined) trace.z = t.z;
    return trace;
  });
}

// The panel goes into the page before Plotly draws, so the chart takes the width the grid gives it.
function renderFigure(figure, container) {
  const section = el("section", "figure");
  section.id = `figure-${figure.id}`;
  section.dataset.figure = figure.id;
  section.dataset.status = figure.status;
  section.dataset.dataset = figure.dataset;
  if (figure.publication) {
    section.dataset.version = figure.publication.version;
    section.dataset.snapshot = figure.publication.snapshot_id;
    section.dataset.publishedAt = figure.publication.published_at;
  }
  section.append(el("h2", null, figure.title));
  if (figure.period) section.append(el("p", "period", figure.period));
  if (figure.warning) section.append(el("p", "warning", figure.warning));

  let chart = null;
  if (figure.status === "ok") {
    chart = el("div", "chart");
    chart.id = `chart-${figure.id}`;
    section.append(chart);
  } else {
    const box = el("div", "placeholder");
    const label = el("div");
    label.append(el("strong", null, figure.status === "pending" ? "待接入" : figure.message.split("：")[0]));
    label.append(el("span", null, figure.message));
    box.append(label);
    section.append(box);
  }
  if (figure.note) section.append(el("p", "note", figure.note));
  section.append(el("p", "provenance", provenance(figure)));
  container.append(section);

  if (!chart) return Promise.resolve();
  const layout = Object.assign({}, BASE_LAYOUT, figure.layout);
  return Plotly.newPlot(chart, figure.traces, layout, CONFIG).then((gd) => {
    chart.dataset.values = JSON.stringify(plotted(gd));
    chart.dataset.rendered = "true";
  });
}

async function main() {
  const status = document.getElementById("status");
  try {
    const response = await fetch("/dashboard/figures.json", { headers: { Accept: "application/json" } });
    const body = await response.json();
    if (!response.ok) throw new Error(body.message || response.statusText);
    const container = document.getElementById("figures");
    await Promise.all(body.figures.map((figure) => renderFigure(figure, container)));
    document.getElementById("generated-at").textContent =
      `生成时间 ${new Date(body.generated_at).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai" })}（北京时间）`;
    status.textContent = `共 ${body.figures.length} 项，其中 ${body.figures.filter((f) => f.status === "ok").length} 项已接入已发布数据`;
    status.dataset.state = "ready";
  } catch (error) {
    status.textContent = `加载失败：${error.message}`;
    status.dataset.state = "error";
  }
}

document.addEventListener("DOMContentLoaded", main);
