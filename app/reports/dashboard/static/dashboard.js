// The operations dashboard: asks for an API key (kept in sessionStorage, for this browser
// session only), then draws the JSON reports of /api/v1 with it. A 401 or 403 signs out and
// shows why on the sign-in form.

import { barChart, noData, numbersTable } from "./charts.js";

const API = "/api/v1";
const KEY = "settlement.dashboard.apiKey";
const MONTHS = 6;
// The batch runs of the day, listed per type with the filter of the business day. The
// end-of-day run comes first, with its steps.
const RUNS = [
  ["Clearing", "/clearing-runs", "settlement_date"],
  ["Settlement", "/settlement-runs", "settlement_date"],
  ["Penalties", "/penalty-runs", "settlement_date"],
  ["Reconciliation", "/reconciliation-runs", "date"],
];
// The currencies charted (the largest amounts); the table lists every one.
const CHARTED_CURRENCIES = 2;

class SignedOut extends Error {}

const $ = (id) => document.getElementById(id);

async function problemDetail(response) {
  try {
    const body = await response.json();
    return body.detail || body.title || `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

// The JSON of a GET.
async function getJson(path, params = {}) {
  const query = new URLSearchParams(params).toString();
  const response = await fetch(`${API}${path}${query ? `?${query}` : ""}`, {
    headers: { Authorization: `Bearer ${sessionStorage.getItem(KEY)}`, Accept: "application/json" },
    cache: "no-store",
  });
  if (response.status === 401 || response.status === 403) {
    throw new SignedOut(await problemDetail(response));
  }
  if (!response.ok) {
    throw new Error(`${path}: ${await problemDetail(response)}`);
  }
  return response.json();
}

const percent = (rate) => (rate === null ? "none due" : `${(Number(rate) * 100).toFixed(2)} %`);
const amounts = (list) => list.map((item) => `${item.amount} ${item.currency}`).join(", ") || "-";

function drawEfficiency(report) {
  const bars = report.by_day.map((day) => ({
    label: day.date,
    short: day.date.slice(5),
    value: day.rate_by_count === null ? null : Number(day.rate_by_count),
    text: percent(day.rate_by_count),
  }));
  barChart($("efficiency-chart"), bars, {
    title: `Settled on time by count, ${report.from} to ${report.to}`,
    max: 1,
    tickLabel: (value) => `${value * 100} %`,
  });
  const rows = report.by_day.map((day) => [
    day.date, String(day.due), String(day.settled_on_time), percent(day.rate_by_count),
  ]);
  rows.push(["Total", String(report.total.due), String(report.total.settled_on_time), percent(report.total.rate_by_count)]);
  numbersTable($("efficiency-numbers"), "Settlement efficiency per day", ["Day", "Due", "On time", "Rate"], rows);
}

function drawBuckets(chartId, numbersId, title, groups, count, money) {
  // A count of none is good news: grey, not the red of a day settling nothing on time.
  const bars = groups.map((group) => ({
    label: group.bucket, value: count(group), text: String(count(group)), series: "count",
  }));
  barChart($(chartId), bars, { title, tickLabel: (value) => String(Math.round(value)) });
  numbersTable(
    $(numbersId),
    title,
    ["Age (business days)", "Count", "Amount"],
    groups.map((group) => [group.bucket, String(count(group)), amounts(money(group))]),
  );
}

function months(businessDay) {
  const [year, month] = businessDay.split("-").map(Number);
  const found = [];
  for (let back = MONTHS - 1; back >= 0; back -= 1) {
    const index = year * 12 + (month - 1) - back;
    found.push(`${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`);
  }
  return found;
}

// One entry per month and currency of the report's totals (a month with none: no entry).
function penaltyEntries(wanted, reports) {
  return wanted.flatMap((month, index) =>
    reports[index].totals.map((total) => ({ month, ...total })),
  );
}

// The currencies with the largest amounts (payable + receivable) over the months.
function mainCurrencies(entries) {
  const sums = new Map();
  for (const entry of entries) {
    const amount = Number(entry.payable) + Number(entry.receivable);
    sums.set(entry.currency, (sums.get(entry.currency) ?? 0) + amount);
  }
  return [...sums.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, CHARTED_CURRENCIES)
    .map(([currency]) => currency);
}

function penaltyChart(container, wanted, entries, currency) {
  const bars = wanted.flatMap((month) => {
    const entry = entries.find((item) => item.month === month && item.currency === currency);
    return ["payable", "receivable"].map((side) => {
      const amount = entry ? entry[side] : "0.00";
      return {
        label: `${month} ${side}`,
        short: `${month.slice(5)} ${side === "payable" ? "pay" : "rec"}`,
        value: Number(amount),
        text: `${amount} ${currency}`,
        valueLabel: amount,
        series: side,
      };
    });
  });
  const chart = document.createElement("div");
  chart.className = "series";
  chart.dataset.currency = currency;
  container.append(chart);
  barChart(chart, bars, {
    title: `Penalties in ${currency}: payable vs receivable per month`,
    tickLabel: (value) => value.toFixed(2),
  });
}

async function drawPenalties(businessDay) {
  const wanted = months(businessDay);
  const reports = await Promise.all(
    wanted.map((month) => getJson("/reports/penalties", { month })),
  );
  const entries = penaltyEntries(wanted, reports);
  const container = $("penalties-chart");
  if (entries.length === 0) {
    noData(container, "No penalty data for the last 6 months.");
    $("penalties-numbers").replaceChildren();
    return;
  }
  container.replaceChildren();
  for (const currency of mainCurrencies(entries)) {
    penaltyChart(container, wanted, entries, currency);
  }
  const rows = wanted.flatMap((month) => {
    const found = entries.filter((entry) => entry.month === month);
    return found.length === 0
      ? [[month, "-", "0", "-", "-", "-"]]
      : found.map((entry) => [
        month, entry.currency, String(entry.penalties), entry.payable, entry.receivable, entry.net,
      ]);
  });
  numbersTable(
    $("penalties-numbers"),
    "Penalties per month and currency",
    ["Month", "Currency", "Penalties", "Payable", "Receivable", "Net"],
    rows,
  );
}

const summaryText = (summary) =>
  Object.entries(summary)
    .filter(([, value]) => value === null || typeof value !== "object")
    .map(([key, value]) => `${key.replaceAll("_", " ")}: ${value}`)
    .join(", ");

// The end-of-day run, step by step: its status and what it did.
function drawEodSteps(eod) {
  const container = $("eod-steps");
  if (!eod) {
    container.replaceChildren();
    return;
  }
  const heading = document.createElement("h3");
  heading.textContent =
    `End of day ${eod.date} (${eod.id}): ${eod.status}, ${eod.processed}/${eod.total} steps`;
  const list = document.createElement("ol");
  for (const step of eod.steps) {
    const item = document.createElement("li");
    item.dataset.step = step.name;
    item.dataset.status = step.status;
    const name = document.createElement("strong");
    name.textContent = step.name.replaceAll("_", " ");
    const status = document.createElement("span");
    status.className = `step-status ${step.status}`;
    status.textContent = step.status;
    const summary = document.createElement("span");
    summary.className = "step-summary";
    summary.textContent = step.error ?? summaryText(step.summary);
    item.append(name, " ", status, " ", summary);
    list.append(item);
  }
  container.replaceChildren(heading, list);
}

// The runs of the business day (its end of day first), then the previous business day's end
// of day when the day's own has not run yet: each row names its day.
function runRows(businessDay, eod, pages, previousEod) {
  const rows = [];
  if (eod) {
    rows.push({ name: "End of day", day: businessDay, run: eod, done: `${eod.processed}/${eod.total} steps` });
  }
  RUNS.forEach(([name], index) => {
    for (const run of pages[index].items) {
      rows.push({ name, day: businessDay, run, done: `${run.processed} / ${run.total}` });
    }
  });
  if (previousEod) {
    rows.push({
      name: "End of day",
      day: previousEod.date,
      run: previousEod,
      done: `${previousEod.processed}/${previousEod.total} steps`,
    });
  }
  return rows;
}

// The end-of-day run of a day, or null (none, or no day).
async function eodOf(day) {
  if (!day) return null;
  const page = await getJson("/eod-runs", { date: day, limit: 1 });
  return page.items[0] ?? null;
}

async function drawRuns(businessDay, previousDay) {
  const [eod, ...pages] = await Promise.all([
    eodOf(businessDay),
    ...RUNS.map(([, path, filter]) => getJson(path, { [filter]: businessDay, limit: 100 })),
  ]);
  const previousEod = eod ? null : await eodOf(previousDay);
  drawEodSteps(eod ?? previousEod);
  const container = $("runs");
  const rows = runRows(businessDay, eod, pages, previousEod);
  const note = $("runs-note");
  note.replaceChildren();
  if (!eod) {
    const none = rows.length === (previousEod ? 1 : 0) ? "No run" : "No end of day";
    const last = previousEod ? ` The last end of day: ${previousEod.date}.` : "";
    noData(note, `${none} for ${businessDay} yet.${last}`);
  }
  if (rows.length === 0) {
    container.replaceChildren();
    return;
  }
  const table = numbersTable(
    container,
    "Runs of the business day",
    ["Run", "Business day", "Id", "Status", "Processed / total", "Progress"],
    rows.map(({ name, day, run, done }) => [name, day, run.id ?? "dry run", run.status, done, ""]),
  );
  [...table.tBodies[0].rows].forEach((line, index) => {
    const { name, day, run } = rows[index];
    line.dataset.day = day;
    const bar = document.createElement("progress");
    bar.max = Math.max(run.total, 1);
    bar.value = run.total === 0 && run.status === "completed" ? 1 : run.processed;
    bar.setAttribute("aria-label", `${name} run ${run.id ?? ""} of ${day}: ${run.processed} of ${run.total}`);
    line.cells[5].replaceChildren(bar);
  });
}

// The days to look at, from the server: the efficiency report runs to the server's today
// (`to`) with one entry per TARGET business day, so its last entry is the latest TARGET
// business day on or before today, and the one before it the previous. A day after that
// (a TARGET holiday another market settles on) is the business day when its end of day ran.
async function businessDays(efficiency) {
  const target = efficiency.by_day.map((day) => day.date);
  const latest = target.at(-1) ?? efficiency.to;
  const later = [];
  for (let day = new Date(`${efficiency.to}T00:00:00Z`); ; day.setUTCDate(day.getUTCDate() - 1)) {
    const text = day.toISOString().slice(0, 10);
    if (text <= latest) break;
    later.push(text);
  }
  const eods = await Promise.all(later.map(eodOf));
  const ran = later.find((day, index) => eods[index] !== null);
  return ran ? [ran, latest] : [latest, target.at(-2) ?? null];
}

// Each sign-in or sign-out starts a new generation: what an earlier load still answers (a
// sign-out while it ran) is dropped.
let generation = 0;

async function load(mine) {
  $("board-message").textContent = "";
  const efficiency = await getJson("/reports/settlement-efficiency");
  const [businessDay, previousDay] = await businessDays(efficiency);
  $("business-day").textContent = businessDay;
  $("business-day").dateTime = businessDay;
  drawEfficiency(efficiency);
  const [fails, breaks] = await Promise.all([
    getJson("/reports/fails"),
    getJson("/reports/breaks", { as_of: businessDay }),
  ]);
  drawBuckets("fails-chart", "fails-numbers", "Failing instructions by age", fails.by_age,
    (group) => group.instructions, (group) => group.unsettled);
  drawBuckets("breaks-chart", "breaks-numbers", "Open breaks by age", breaks.by_age,
    (group) => group.count, (group) => group.amounts);
  await Promise.all([drawPenalties(businessDay), drawRuns(businessDay, previousDay)]);
  if (mine === generation) {
    document.body.dataset.loaded = "true";
  }
}

function showSignIn(message) {
  generation += 1;
  sessionStorage.removeItem(KEY);
  delete document.body.dataset.loaded;
  $("board").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-message").textContent = message;
  $("api-key").value = "";
  $("api-key").focus();
}

async function showBoard() {
  generation += 1;
  const mine = generation;
  $("sign-in").hidden = true;
  $("board").hidden = false;
  $("sign-out").hidden = false;
  try {
    await load(mine);
  } catch (error) {
    if (mine !== generation) {
      return;
    }
    if (error instanceof SignedOut) {
      showSignIn(`Signed out: ${error.message}`);
    } else {
      $("board-message").textContent = `Could not load the dashboard: ${error.message}`;
    }
  }
}

$("sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $("api-key").value.trim());
  showBoard();
});
$("sign-out").addEventListener("click", () => showSignIn("Signed out."));

if (sessionStorage.getItem(KEY)) {
  showBoard();
} else {
  showSignIn("");
}
