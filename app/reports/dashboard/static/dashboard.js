// The operations dashboard: asks for an API key (kept in sessionStorage, for this browser
// session only), then draws the JSON reports of /api/v1 with it. A 401 or 403 signs out and
// shows why on the sign-in form.

import { barChart, noData, numbersTable } from "./charts.js";

const API = "/api/v1";
const KEY = "settlement.dashboard.apiKey";
const MONTHS = 6;
const RUNS = [
  ["Affirmation deadlines", "/affirmation-deadline-runs", "settlement_date"],
  ["Clearing", "/clearing-runs", "settlement_date"],
  ["Settlement", "/settlement-runs", "settlement_date"],
  ["Reconciliation", "/reconciliation-runs", "date"],
];

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

// The JSON of a GET; null for the statuses listed in `missing` (a report not there yet).
async function getJson(path, params = {}, missing = []) {
  const query = new URLSearchParams(params).toString();
  const response = await fetch(`${API}${path}${query ? `?${query}` : ""}`, {
    headers: { Authorization: `Bearer ${sessionStorage.getItem(KEY)}`, Accept: "application/json" },
    cache: "no-store",
  });
  if (response.status === 401 || response.status === 403) {
    throw new SignedOut(await problemDetail(response));
  }
  if (missing.includes(response.status)) {
    return null;
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
  const bars = groups.map((group) => ({ label: group.bucket, value: count(group), text: String(count(group)) }));
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

async function drawPenalties(businessDay) {
  const wanted = months(businessDay);
  // The penalties report may not be there yet (404), or a month may be refused: no data.
  const reports = await Promise.all(
    wanted.map((month) => getJson("/reports/penalties", { month }, [404, 405, 422, 501])),
  );
  const perMonth = wanted.map((month, index) => {
    const totals = reports[index]?.totals ?? [];
    return { month, totals, count: totals.reduce((sum, total) => sum + total.penalties, 0) };
  });
  if (perMonth.every((entry) => entry.totals.length === 0)) {
    noData($("penalties-chart"), "No penalty data for the last 6 months.");
    $("penalties-numbers").replaceChildren();
    return;
  }
  barChart(
    $("penalties-chart"),
    perMonth.map((entry) => ({ label: entry.month, value: entry.count, text: String(entry.count) })),
    { title: "Penalties per month", tickLabel: (value) => String(Math.round(value)) },
  );
  numbersTable(
    $("penalties-numbers"),
    "Penalties per month",
    ["Month", "Penalties", "Net (receivable - payable)"],
    perMonth.map((entry) => [
      entry.month,
      String(entry.count),
      entry.totals.map((total) => `${total.net} ${total.currency}`).join(", ") || "-",
    ]),
  );
}

async function drawRuns(businessDay) {
  const pages = await Promise.all(
    // A run type without a list (yet) answers 404 or 405: it shows no row.
    RUNS.map(([, path, filter]) =>
      getJson(path, { [filter]: businessDay, limit: 100 }, [404, 405]),
    ),
  );
  const container = $("runs");
  const rows = [];
  RUNS.forEach(([name], index) => {
    for (const run of pages[index]?.items ?? []) {
      rows.push({ name, run });
    }
  });
  if (rows.length === 0) {
    noData(container, `No run for ${businessDay} yet.`);
    return;
  }
  const table = numbersTable(
    container,
    "Runs of the day",
    ["Run", "Id", "Status", "Processed / total", "Progress"],
    rows.map(({ name, run }) => [name, run.id ?? "dry run", run.status, `${run.processed} / ${run.total}`, ""]),
  );
  [...table.tBodies[0].rows].forEach((line, index) => {
    const { name, run } = rows[index];
    const bar = document.createElement("progress");
    bar.max = Math.max(run.total, 1);
    bar.value = run.total === 0 && run.status === "completed" ? 1 : run.processed;
    bar.setAttribute("aria-label", `${name} run ${run.id ?? ""}: ${run.processed} of ${run.total}`);
    line.cells[4].replaceChildren(bar);
  });
}

async function load() {
  $("board-message").textContent = "";
  const efficiency = await getJson("/reports/settlement-efficiency");
  const businessDay = efficiency.to;
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
  await Promise.all([drawPenalties(businessDay), drawRuns(businessDay)]);
  document.body.dataset.loaded = "true";
}

function showSignIn(message) {
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
  $("sign-in").hidden = true;
  $("board").hidden = false;
  $("sign-out").hidden = false;
  try {
    await load();
  } catch (error) {
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
