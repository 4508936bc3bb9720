// The site's people (pulled reference data, so it works offline): whom a finding can name as
// responsible — the site manager first, then the people of the site's department and of the
// finding's responsible department, by name. The server checks the same rule
// (webapp/org/operations.py site_people).
import * as store from "../db.js";
import { h, t } from "../ui.js";

export async function sitePeople(site, departmentId) {
  const depts = new Set([site?.data.department_id, departmentId].filter(Boolean));
  const people = (await store.all("person")).filter((p) => !p.deleted && depts.has(p.data.department_id));
  const manager = site?.data.manager_person_id;
  people.sort((a, b) => (a.id === manager ? 0 : 1) - (b.id === manager ? 0 : 1) || a.data.name.localeCompare(b.data.name, "zh"));
  return people.map((p) => ({ name: p.data.name, position: p.data.position, manager: p.id === manager }));
}

// A <select> of those people; a name from before the rule (typed free text) stays shown as it is.
export async function personSelect(site, departmentId, value, onchange) {
  const people = await sitePeople(site, departmentId);
  const options = [h("option", { value: "" }, `— ${t("choose_person")} —`),
    ...people.map((p) => h("option", { value: p.name, selected: p.name === value },
      [p.name, p.manager ? t("site_manager") : p.position].filter(Boolean).join(" · ")))];
  if (value && !people.some((p) => p.name === value)) {
    options.push(h("option", { value, selected: true }, t("other_person", { name: value })));
  }
  return h("select", { onchange }, options);
}
