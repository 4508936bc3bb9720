import re

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from webapp.checklists.models import ANSWER_TYPES, AREAS, SCORING

RESULT_CODES = ("pass", "fail", "na")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
CLASS = re.compile(r"^[^\x00-\x1f\x7f,]{1,20}$")
MAX_OPTIONS = 12
FAIL_WORDS = ("fail", "不合格", "x")


class OptionArgs(Schema):
    key = fields.String(required=True, validate=validate.Regexp(r"^o\d{1,2}$"))
    label = fields.String(required=True, validate=validate.Length(min=1, max=80))
    label_en = fields.String(load_default=None, validate=validate.Length(max=80))
    score = fields.Float(required=True, validate=validate.Range(min=0, max=100))
    fail = fields.Boolean(load_default=False)


class ConditionArgs(Schema):
    item = fields.String(required=True, validate=validate.Length(min=1, max=40))
    answer = fields.String(required=True, validate=validate.Length(min=1, max=40))


class TemplateItemArgs(Schema):
    id = fields.String(load_default=None, validate=validate.Length(max=36))
    area = fields.String(required=True, validate=validate.OneOf(AREAS))
    code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    title_en = fields.String(load_default=None, validate=validate.Length(max=200))
    criteria = fields.String(load_default=None, validate=validate.Length(max=5000))
    guidance = fields.String(load_default=None, validate=validate.Length(max=5000))
    weight = fields.Float(load_default=1.0, validate=validate.Range(min=0, max=100, min_inclusive=False))
    scoring = fields.String(load_default="pass_fail", validate=validate.OneOf(SCORING))
    max_points = fields.Float(load_default=10.0, validate=validate.Range(min=0, max=1000, min_inclusive=False))
    photo_required_on_fail = fields.Boolean(load_default=False)
    answer_type = fields.String(load_default="pass_fail", validate=validate.OneOf(ANSWER_TYPES))
    scale_min = fields.Float(load_default=None, validate=validate.Range(min=0, max=1000))  # as a score on the wire
    scale_max = fields.Float(load_default=None, validate=validate.Range(min=0, max=1000))
    options = fields.List(fields.Nested(OptionArgs), load_default=list,
                          validate=validate.Length(max=MAX_OPTIONS, error=_l("At most {max} options.")))
    range_min = fields.Float(load_default=None, validate=validate.Range(min=-1e9, max=1e9))
    range_max = fields.Float(load_default=None, validate=validate.Range(min=-1e9, max=1e9))
    unit = fields.String(load_default=None, validate=validate.Length(max=20))
    condition = fields.Nested(ConditionArgs, load_default=None, allow_none=True)
    reference_photos = fields.List(fields.String(validate=validate.Regexp(SHA256)), load_default=list,
                                   validate=validate.Length(max=6, error=_l("At most {max} reference photos.")))

    @validates_schema
    def _type_rules(self, data, **_kw):
        kind = data.get("answer_type", "pass_fail")
        if kind == "scale":
            low, high = data.get("scale_min"), data.get("scale_max")
            if low is None or high is None:
                raise ValidationError(str(_l("A scale needs its lowest and highest score.")), "scale_max")
            if low >= high:
                raise ValidationError(str(_l("The highest score must be above the lowest.")), "scale_max")
        if kind == "choice":
            options = data.get("options") or []
            if len(options) < 2:
                raise ValidationError(str(_l("A multiple choice needs at least two options.")), "options")
            if len({o["label"] for o in options}) != len(options):
                raise ValidationError(str(_l("Each option needs its own text.")), "options")
        if kind == "number":
            low, high = data.get("range_min"), data.get("range_max")
            if low is None and high is None:
                raise ValidationError(str(_l("A number needs its range: a lowest value, a highest value or both.")),
                                      "range_max")
            if low is not None and high is not None and low >= high:
                raise ValidationError(str(_l("The highest value must be above the lowest.")), "range_max")


def normalize_item(row: dict) -> dict:
    """Keep only what the answer type uses, and keep the old `scoring` in step (older phones score
    with it): a scale is scored as points from 0, everything else as pass/fail."""
    kind = row.get("answer_type") or "pass_fail"
    if row.get("scoring") == "points" and kind == "pass_fail":
        kind = "scale"
        if row.get("scale_min") is None:
            row["scale_min"] = 0.0
        if row.get("scale_max") is None:
            row["scale_max"] = row.get("max_points") or 10.0
    row["answer_type"] = kind
    if kind != "scale":
        row["scale_min"] = row["scale_max"] = None
    if kind != "choice":
        row["options"] = []
    if kind != "number":
        row["range_min"] = row["range_max"] = None
        row["unit"] = None
    if kind == "scale" and row.get("scale_min") == 0:
        row["scoring"], row["max_points"] = "points", row["scale_max"]
    else:
        row["scoring"] = "pass_fail"
        row["max_points"] = row.get("max_points") or 10.0
    return row


class TemplateArgs(Schema):
    code = fields.String(load_default=None, validate=validate.Regexp(
        r"^[A-Za-z0-9_-]{1,40}$", error=_l("Use letters, digits, - and _ only (at most 40).")))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    name_en = fields.String(load_default=None, validate=validate.Length(max=120))
    description = fields.String(load_default=None, validate=validate.Length(max=5000))
    site_classes = fields.List(fields.String(validate=validate.Regexp(
        CLASS, error=_l("A site class is at most 20 characters, without commas."))), load_default=list,
        validate=validate.Length(max=20))
    items = fields.List(fields.Nested(TemplateItemArgs), load_default=list)

    @validates_schema
    def _unique_codes(self, data, **_kw):
        codes = [i["code"] for i in data.get("items", [])]
        if len(codes) != len(set(codes)):
            raise ValidationError(str(_l("Each item needs its own code.")), "items")
        if not codes:
            raise ValidationError(str(_l("A template needs at least one item.")), "items")

    @validates_schema
    def _conditions(self, data, **_kw):
        """A condition points to an earlier item (so conditions never go round in a cycle) and to an
        answer that item can have."""
        earlier: dict[str, dict] = {}
        errors = {}
        for n, item in enumerate(data.get("items", [])):
            cond = item.get("condition")
            if cond:
                parent = earlier.get(cond["item"])
                if cond["item"] == item["code"]:
                    errors[n] = {"condition": [str(_l("An item cannot depend on itself."))]}
                elif parent is None:
                    errors[n] = {"condition": [str(_l("A condition must point to an earlier item."))]}
                elif cond["answer"] not in RESULT_CODES and cond["answer"] not in {
                        o["key"] for o in parent.get("options") or []}:
                    errors[n] = {"condition": [str(_l("That answer is not one the earlier item can have."))]}
            earlier[item["code"]] = item
        if errors:
            raise ValidationError(errors, "items")


def parse_options(text: str) -> list[dict] | str:
    """One option a line: `text | English | share % | fail` — the English text and the fail mark are
    optional; a line without a number is worth 100 % unless marked as a failure (then 0 %)."""
    out = []
    for n, line in enumerate([ln for ln in text.splitlines() if ln.strip()], start=1):
        parts = [p.strip() for p in line.split("|")]
        fail = False
        score = None
        texts = []
        for part in parts:
            if part.lower() in FAIL_WORDS:
                fail = True
                continue
            try:
                score = float(part.rstrip("%"))
                continue
            except ValueError:
                pass
            if part:
                texts.append(part)
        if not texts:
            return str(_l("Option %(n)s has no text.", n=n))
        if score is None:
            score = 0.0 if fail else 100.0
        out.append({"key": f"o{n}", "label": texts[0], "label_en": texts[1] if len(texts) > 1 else None,
                    "score": score, "fail": fail})
    return out


def options_text(options: list[dict]) -> str:
    lines = []
    for o in options or []:
        parts = [o.get("label") or ""]
        if o.get("label_en"):
            parts.append(o["label_en"])
        parts.append(f"{o.get('score', 0):g}")
        if o.get("fail"):
            parts.append("fail")
        lines.append(" | ".join(parts))
    return "\n".join(lines)


def items_from_form(form, uploads: dict[int, list[str]] | None = None) -> list[dict]:
    """Rows named items-<n>-<field> → a list of dicts in row order; rows left blank or marked
    for removal are dropped. Options come as text (one a line), the condition as two fields,
    reference photos as the hashes kept (minus those ticked for removal) plus `uploads[n]`."""
    rows: dict[int, dict] = {}
    for key in form:
        if not key.startswith("items-"):
            continue
        _, n, name = key.split("-", 2)
        if not n.isdigit() or name in ("reference_photos", "reference_remove"):
            continue
        value = form.get(key, "").strip()
        if value != "":
            rows.setdefault(int(n), {})[name] = value
    out = []
    for n in sorted(rows):
        row = rows[n]
        if row.pop("remove", None) or not (row.get("code") or row.get("title")):
            continue
        row["photo_required_on_fail"] = row.get("photo_required_on_fail") in ("1", "on", "true", "y")
        if "options" in row:
            parsed = parse_options(row["options"])
            row["options"] = parsed if isinstance(parsed, list) else []
            if isinstance(parsed, str):
                row["_options_error"] = parsed  # the view reports it beside the field
        cond_item, cond_answer = row.pop("condition_item", None), row.pop("condition_answer", None)
        if cond_item:
            row["condition"] = {"item": cond_item, "answer": cond_answer or "fail"}
        drop = set(form.getlist(f"items-{n}-reference_remove"))
        kept = [s for s in form.getlist(f"items-{n}-reference_photos") if s and s not in drop]
        row["reference_photos"] = list(dict.fromkeys(kept + list((uploads or {}).get(n, []))))
        out.append(row)
    return out


def classes_from_text(text: str | None) -> list[str]:
    """"A, B；C" → ["A", "B", "C"] (commas, semicolons, spaces and 、 separate)."""
    parts = re.split(r"[,，;；、\s]+", text or "")
    return list(dict.fromkeys(p for p in parts if p))
