// The visit's score by content area — a line-by-line mirror of webapp/visits/scoring.py (THE rules,
// docs/checklists.md; tests/visits/test_score_parity.py runs both on the same answers):
// pass = full weight, fail = 0, n.a. left out; a scale earns (score − lowest) / (highest − lowest)
// and fails below the midpoint; a choice earns its option's share and fails on an option marked as a
// failure; a number passes in range; a conditional item not shown is left out; an answer without
// its typed value (an older phone) is scored by its result. Percentages 0–100.
export const AREAS = ["process", "service", "efficiency", "risk", "teamwork"];
const RESULT_CODES = ["pass", "fail", "na"];

const get = (obj, name, dflt = null) => (obj?.[name] ?? dflt);
function num(v) {
  if (v == null || v === "" || typeof v === "boolean") return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}
const clamp = (x) => Math.max(0, Math.min(1, x));

export function answerType(item) {
  const kind = get(item, "answer_type");
  if (kind && kind !== "pass_fail") return kind;
  return get(item, "scoring") === "points" ? "scale" : "pass_fail";
}

export function scaleBounds(item) {
  const low = num(get(item, "scale_min"));
  const high = num(get(item, "scale_max"));
  return [low == null ? 0 : low, high == null ? (num(get(item, "max_points")) || 10) : high];
}

const option = (item, key) => (get(item, "options", []) || []).find((o) => o.key === key) ?? null;

function typed(item, answer) {
  const kind = answerType(item);
  if (kind === "scale") {
    const score = num(get(answer, "score"));
    if (score == null) return null;
    const [low, high] = scaleBounds(item);
    const ratio = high > low ? clamp((score - low) / (high - low)) : 0;
    return [ratio, ratio >= 0.5 ? "pass" : "fail"];
  }
  if (kind === "choice") {
    const opt = option(item, get(answer, "choice"));
    if (!opt) return null;
    return [clamp((num(opt.score) || 0) / 100), opt.fail ? "fail" : "pass"];
  }
  if (kind === "number") {
    const value = num(get(answer, "value"));
    if (value == null) return null;
    const low = num(get(item, "range_min"));
    const high = num(get(item, "range_max"));
    const inside = (low == null || value >= low) && (high == null || value <= high);
    return inside ? [1, "pass"] : [0, "fail"];
  }
  return null;
}

export function answerResult(item, answer) {
  if (!answer) return null;
  const result = get(answer, "result");
  if (result === "na") return "na";
  const t = typed(item, answer);
  if (t) return t[1];
  return RESULT_CODES.includes(result) ? result : null;
}

export function itemRatio(item, answer) {
  if (!answer) return null;
  const result = get(answer, "result");
  if (result === "na") return null;
  const t = typed(item, answer);
  if (t) return t[0];
  if (result === "pass") return 1;
  if (result === "fail") return 0;
  return null;
}

// answersByItem: item id → answer data (plain values).
export function visibleItems(items, answersByItem) {
  const byCode = new Map();
  const shown = new Set();
  for (const item of items) {
    const cond = get(item, "condition");
    let ok = true;
    if (cond) {
      const parent = byCode.get(cond.item);
      if (!parent || !shown.has(parent.id)) ok = false;
      else {
        const answer = answersByItem.get(parent.id);
        const want = cond.answer;
        if (RESULT_CODES.includes(want)) ok = answerResult(parent, answer) === want;
        else ok = answer != null && get(answer, "result") !== "na" && get(answer, "choice") === want;
      }
    }
    if (ok) shown.add(item.id);
    byCode.set(item.code, item);
  }
  return shown;
}

const cmp = (x, y) => (x < y ? -1 : x > y ? 1 : 0);  // code points, as Python compares strings
const pct = (got, of) => (of ? Math.floor((1000 * got) / of + 0.5) / 10 : null);

// answersByItem: item id → an answer record ({data}) as the phone stores them, or the data itself.
export function scoreByArea(items, answersByItem) {
  const plain = new Map([...answersByItem].map(([k, v]) => [k, v && "data" in v && v.data && typeof v.data === "object" ? v.data : v]));
  const sorted = [...items].sort((a, b) => (get(a, "position", 0) - get(b, "position", 0))
    || cmp(String(get(a, "code", "")), String(get(b, "code", ""))));
  const shown = visibleItems(sorted, plain);
  const acc = Object.fromEntries(AREAS.map((a) => [a, [0, 0]]));
  for (const item of sorted) {
    if (!shown.has(item.id)) continue;
    const r = itemRatio(item, plain.get(item.id));
    if (r == null || !(item.area in acc)) continue;
    const w = num(get(item, "weight"));
    const weight = w == null ? 1 : w;
    acc[item.area][0] += r * weight;
    acc[item.area][1] += weight;
  }
  let got = 0;
  let of = 0;
  for (const a of AREAS) { got += acc[a][0]; of += acc[a][1]; }
  return { areas: Object.fromEntries(AREAS.map((a) => [a, pct(acc[a][0], acc[a][1])])), overall: pct(got, of) };
}
