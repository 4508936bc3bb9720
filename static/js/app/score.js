// The visit's score by content area: pass = full weight, fail = 0, n.a. left out; a points item
// counts score / max_points of its weight. Percentages 0–100.
export const AREAS = ["process", "service", "efficiency", "risk", "teamwork"];

export function itemRatio(item, answer) {
  if (!answer?.result || answer.result === "na") return null;
  if (item.scoring === "points" && answer.score != null && answer.score !== "") {
    return Math.max(0, Math.min(1, Number(answer.score) / (item.max_points || 10)));
  }
  return answer.result === "pass" ? 1 : 0;
}

export function scoreByArea(items, answersByItem) {
  const acc = Object.fromEntries(AREAS.map((a) => [a, { got: 0, of: 0 }]));
  for (const item of items) {
    const r = itemRatio(item, answersByItem.get(item.id)?.data);
    if (r == null) continue;
    const a = (acc[item.area] ??= { got: 0, of: 0 });
    a.got += r * (item.weight ?? 1);
    a.of += item.weight ?? 1;
  }
  const pct = (x) => (x.of ? Math.round((1000 * x.got) / x.of) / 10 : null);
  const total = Object.values(acc).reduce((t, x) => ({ got: t.got + x.got, of: t.of + x.of }), { got: 0, of: 0 });
  return { areas: Object.fromEntries(Object.entries(acc).map(([k, v]) => [k, pct(v)])), overall: pct(total) };
}
