// Bar charts drawn as SVG with the DOM: no library, no inline style (the page's CSP allows
// none). Each chart is an image with a title and a description for screen readers; the
// numbers are also given as text in a table beside it.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const HEIGHT = 220;
const MARGIN = { top: 16, right: 8, bottom: 44, left: 44 };

function svgElement(name, attributes = {}, text = null) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) {
    element.setAttribute(key, String(value));
  }
  if (text !== null) {
    element.textContent = text;
  }
  return element;
}

let chartCount = 0;

// bars: [{label, value (number or null: nothing to show), text (what the number reads),
//   short (the axis label, optional), series (a class naming its series, optional),
//   valueLabel (the text over the bar, optional: text)}]
// options: {title, max (the top of the scale), tickLabel(value) -> text}
export function barChart(container, bars, options) {
  chartCount += 1;
  const id = `chart-${chartCount}`;
  const svg = svgElement("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: "img",
    "aria-labelledby": `${id}-title ${id}-desc`,
    "data-bars": bars.length,
  });
  svg.append(svgElement("title", { id: `${id}-title` }, options.title));
  svg.append(
    svgElement(
      "desc",
      { id: `${id}-desc` },
      bars.map((bar) => `${bar.label}: ${bar.text}`).join("; "),
    ),
  );
  const values = bars.map((bar) => bar.value ?? 0);
  const max = options.max ?? Math.max(1, ...values);
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const baseline = MARGIN.top + plotHeight;
  svg.append(
    svgElement("line", { class: "axis", x1: MARGIN.left, y1: baseline, x2: WIDTH - MARGIN.right, y2: baseline }),
    svgElement("line", { class: "axis", x1: MARGIN.left, y1: MARGIN.top, x2: MARGIN.left, y2: baseline }),
    svgElement("text", { class: "tick", x: MARGIN.left - 4, y: MARGIN.top + 4, "text-anchor": "end" }, options.tickLabel(max)),
    svgElement("text", { class: "tick", x: MARGIN.left - 4, y: baseline, "text-anchor": "end" }, options.tickLabel(0)),
  );
  const slot = plotWidth / Math.max(1, bars.length);
  const barWidth = Math.max(2, slot * 0.7);
  bars.forEach((bar, index) => {
    const x = MARGIN.left + index * slot + (slot - barWidth) / 2;
    const value = bar.value ?? 0;
    const height = max > 0 ? Math.max(0, (value / max) * plotHeight) : 0;
    const state = bar.value === null ? "bar empty" : value === 0 ? "bar zero" : "bar";
    const kind = bar.series ? `${state} ${bar.series}` : state;
    // A bar with nothing to show still has a sliver, so every slot can be seen and hovered.
    const drawn = Math.max(height, 2);
    const rect = svgElement("rect", {
      class: kind,
      x: x.toFixed(1),
      y: (baseline - drawn).toFixed(1),
      width: barWidth.toFixed(1),
      height: drawn.toFixed(1),
      "data-label": bar.label,
      "data-value": bar.value ?? "",
    });
    rect.append(svgElement("title", {}, `${bar.label}: ${bar.text}`));
    svg.append(rect);
    if (bars.length <= 12) {
      svg.append(
        svgElement("text", { class: "value-label", x: (x + barWidth / 2).toFixed(1), y: (baseline - drawn - 3).toFixed(1), "text-anchor": "middle" }, bar.valueLabel ?? bar.text),
      );
    }
    const every = Math.ceil(bars.length / 12);
    if (index % every === 0) {
      svg.append(
        svgElement("text", { class: "tick", x: (x + barWidth / 2).toFixed(1), y: baseline + 14, "text-anchor": "middle" }, bar.short ?? bar.label),
      );
    }
  });
  container.replaceChildren(svg);
  return svg;
}

// rows: arrays of cell texts; the first column heads each row.
export function numbersTable(container, caption, headers, rows) {
  const table = document.createElement("table");
  const captionElement = document.createElement("caption");
  captionElement.textContent = caption;
  captionElement.className = "visually-hidden";
  table.append(captionElement);
  const head = table.createTHead().insertRow();
  for (const text of headers) {
    const cell = document.createElement("th");
    cell.scope = "col";
    cell.textContent = text;
    head.append(cell);
  }
  const body = table.createTBody();
  for (const row of rows) {
    const line = body.insertRow();
    row.forEach((text, index) => {
      const cell = index === 0 ? document.createElement("th") : document.createElement("td");
      if (index === 0) cell.scope = "row";
      cell.textContent = text;
      line.append(cell);
    });
  }
  container.replaceChildren(table);
  return table;
}

export function noData(container, text = "No data") {
  const paragraph = document.createElement("p");
  paragraph.className = "no-data";
  paragraph.textContent = text;
  container.replaceChildren(paragraph);
}
