"""The demo's rich checklist (docs/checklists.md): a food-safety template for store sites with a
measured temperature, a 0–5 cleanliness scale, a multiple choice, conditional follow-up items,
criteria, guidance and reference photos; and one upcoming visit that uses it."""

import hashlib
import io
from datetime import date, timedelta

from PIL import Image, ImageDraw

from webapp.checklists.models import ChecklistTemplate, TemplateItem
from webapp.demo.keys import demo_id
from webapp.extensions import db
from webapp.photos.models import Photo
from webapp.photos.operations import process_upload, save_photo
from webapp.visits.models import Visit

CODE = "FOOD-SAFETY"
SITE_CLASSES = ["A", "B"]

ITEMS = [
    dict(area="risk", code="FS1", title="冷藏柜温度", title_en="Chiller temperature", answer_type="number",
         range_min=0.0, range_max=4.0, unit="°C", weight=2.0, photo_required_on_fail=True,
         criteria="冷藏柜内温度在 0–4 °C 之间", guidance="用探针温度计测量冷藏柜中层的温度，读数稳定后记录。"),
    dict(area="risk", code="FS2", title="已隔离超温食品并通知店长", title_en="Over-temperature food set aside and the manager told",
         answer_type="pass_fail", condition={"item": "FS1", "answer": "fail"},
         criteria="超温食品已贴“暂停使用”标签并移出，店长已知悉",
         guidance="查看隔离区和交接记录，询问值班店长。"),
    dict(area="process", code="FS3", title="后厨清洁程度", title_en="Kitchen cleanliness", answer_type="scale",
         scale_min=0.0, scale_max=5.0, weight=1.5, reference=True,
         criteria="5 分：台面、地面、水池无油污无积水；0 分：明显污垢、异味",
         guidance="对照参考照片检查操作台、地面、水池和排水沟。"),
    dict(area="risk", code="FS4", title="食品标签与保质期", title_en="Food labels and use-by dates", answer_type="choice",
         options=[{"key": "o1", "label": "全部标签完整且在保质期内", "label_en": "All labelled and in date",
                   "score": 100, "fail": False},
                  {"key": "o2", "label": "个别标签缺失", "label_en": "A few labels missing", "score": 50, "fail": False},
                  {"key": "o3", "label": "发现过期食品", "label_en": "Expired food found", "score": 0, "fail": True}],
         criteria="所有开封食品均有开封日期和到期日，无过期食品",
         guidance="抽查冷藏柜和干货区各 10 件食品。"),
    dict(area="risk", code="FS5", title="过期食品已当场销毁并登记", title_en="Expired food destroyed and logged on the spot",
         answer_type="pass_fail", condition={"item": "FS4", "answer": "o3"}, photo_required_on_fail=True,
         criteria="过期食品已销毁，销毁记录有两人签字"),
    dict(area="service", code="FS6", title="员工健康证在有效期内", title_en="Staff health certificates valid",
         answer_type="pass_fail", criteria="当班员工均持有效健康证",
         guidance="核对排班表与健康证复印件。"),
]


def reference_photo_bytes(label: str) -> bytes:
    """A generated 'clean kitchen' picture: what good looks like."""
    img = Image.new("RGB", (1280, 960), (232, 236, 238))
    d = ImageDraw.Draw(img)
    d.rectangle([60, 520, 1220, 600], fill=(180, 186, 190))  # the worktop
    for i in range(5):
        d.rectangle([100 + i * 230, 620, 280 + i * 230, 900], fill=(205, 210, 214), outline=(150, 155, 160), width=4)
    d.ellipse([900, 380, 1100, 500], fill=(210, 220, 228), outline=(140, 150, 160), width=4)  # the sink
    d.rectangle([0, 900, 1280, 960], fill=(30, 30, 30))
    d.text((20, 915), label, fill=(255, 255, 255))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def seed_rich_checklist(ensure, *, users, sites, today: date) -> ChecklistTemplate:
    template = ensure(ChecklistTemplate, "template:food-safety", code=CODE, revision=1, name="门店食品安全检查表",
                      name_en="Store food safety checklist", site_classes=list(SITE_CLASSES), is_current=True,
                      description="温度实测、清洁评分、标签抽查；不合格时追问整改措施")
    db.session.flush()
    refs = []
    if db.session.get(TemplateItem, demo_id("item:food-safety:FS3")) is None:
        for n in (1, 2):
            data = reference_photo_bytes(f"reference: clean kitchen {n}")
            sha = hashlib.sha256(data).hexdigest()
            if db.session.get(Photo, sha) is None:
                save_photo(sha, data, process_upload(data), users["admin"])
            refs.append(sha)
    for pos, spec in enumerate(ITEMS):
        spec = dict(spec)
        reference = spec.pop("reference", False)
        fields = {"weight": 1.0, "scoring": "pass_fail", "max_points": 10.0, "photo_required_on_fail": False,
                  "options": [], "reference_photos": [], **spec}
        if fields["answer_type"] == "scale":
            fields.update(scoring="points", max_points=fields["scale_max"])
        if reference:
            fields["reference_photos"] = refs
        ensure(TemplateItem, f"item:food-safety:{spec['code']}", template_id=template.id, position=pos, **fields)
    site = sites["SH-NJ"]
    ensure(Visit, "visit:food-safety", site_id=site.id, department_id=site.department_id, template_id=template.id,
           supervisor_id=users["supervisor"].id, status="scheduled", scheduled_for=today + timedelta(days=1),
           due_by=today + timedelta(days=3), preparation_notes="携带探针温度计")
    return template

