"""The demo company: 华瑞商业连锁 — 4 departments, 8 sites, 20 people, the default checklist
template, one user per role, a published plan, visits, findings with generated photos.

Every record has a fixed id derived from a name (uuid5), so re-running adds only what is missing.
"""

import hashlib
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from webapp.auth.models import User
from webapp.checklists.models import ChecklistTemplate, TemplateItem
from webapp.core.clock import company_today
from webapp.demo.history import seed_history
from webapp.demo.keys import demo_id, photo_bytes
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.org.models import Department, Person, Site
from webapp.photos.models import Photo
from webapp.photos.operations import process_upload, save_photo
from webapp.plans.models import COMPANY_SCOPE, Plan, RecurrenceRule
from webapp.results.models import PointRule, SupervisorProfile, WarningRule
from webapp.visits.models import ChecklistAnswer, Interview, Meeting, Metric, Visit

LOCAL = ZoneInfo("Asia/Shanghai")


DEMO_USERS = [
    {"username": "admin", "password": "admin-demo-2026", "role": "admin", "name": "系统管理员", "dept": None},
    {"username": "manager", "password": "manager-demo-2026", "role": "manager", "name": "王建国", "dept": None},
    {"username": "supervisor", "password": "supervisor-demo-2026", "role": "supervisor", "name": "张伟", "dept": "OPS"},
    {"username": "supervisor2", "password": "supervisor-demo-2026", "role": "supervisor", "name": "李娜", "dept": "OPS"},
    {"username": "depthead", "password": "depthead-demo-2026", "role": "dept_head", "name": "陈静", "dept": "SVC"},
    {"username": "staff", "password": "staff-demo-2026", "role": "staff", "name": "赵磊", "dept": "SVC"},
]

DEPARTMENTS = [
    ("OPS", "运营管理部", "Operations Management", "department"),
    ("SVC", "客户服务部", "Customer Service", "department"),
    ("FIN", "财务部", "Finance", "department"),
    ("SH", "上海分公司", "Shanghai Branch", "branch"),
]

SITES = [
    ("HQ-OPS", "总部运营中心", "HQ Operations Centre", "OPS", "上海市黄浦区延安东路100号"),
    ("PD-WH", "浦东物流仓", "Pudong Warehouse", "OPS", "上海市浦东新区金桥路1200号"),
    ("JA-CS", "静安客服中心", "Jing'an Service Centre", "SVC", "上海市静安区南京西路888号"),
    ("XH-ST", "徐汇门店", "Xuhui Store", "SVC", "上海市徐汇区漕溪北路50号"),
    ("FIN-SSC", "财务共享中心", "Finance Shared Services", "FIN", "上海市黄浦区延安东路100号8楼"),
    ("SH-NJ", "南京路门店", "Nanjing Road Store", "SH", "上海市黄浦区南京东路300号"),
    ("SH-HQ", "虹桥门店", "Hongqiao Store", "SH", "上海市长宁区虹桥路2550号"),
    ("SH-WJC", "五角场门店", "Wujiaochang Store", "SH", "上海市杨浦区淞沪路8号"),
]

SITE_MANAGERS = {"XH-ST": "冯雪", "SH-NJ": "林芳", "SH-HQ": "谢涛", "SH-WJC": "宋佳", "PD-WH": "周强"}

PEOPLE = [  # (name, position, dept)
    ("刘洋", "运营经理", "OPS"), ("孙丽", "流程专员", "OPS"), ("周强", "仓储主管", "OPS"),
    ("吴敏", "客服主管", "SVC"), ("郑浩", "客服专员", "SVC"), ("冯雪", "门店店长", "SVC"),
    ("何军", "财务经理", "FIN"), ("高燕", "会计", "FIN"), ("罗斌", "出纳", "FIN"),
    ("马超", "分公司总经理", "SH"), ("林芳", "南京路店长", "SH"), ("谢涛", "虹桥店长", "SH"),
    ("宋佳", "五角场店长", "SH"), ("唐亮", "收银员", "SH"),
]

# The default checklist template of domain.md: (area, code, title, title_en, photo_required_on_fail)
DEFAULT_ITEMS = [
    ("process", "P1", "流程完整性", "Process completeness", False),
    ("process", "P2", "流程合理性", "Process soundness", False),
    ("process", "P3", "流程执行情况", "Process execution", True),
    ("service", "S1", "服务标准执行", "Service standards applied", True),
    ("service", "S2", "客户满意度", "Customer satisfaction", False),
    ("service", "S3", "服务改进措施", "Service improvement measures", False),
    ("efficiency", "E1", "任务完成时间", "Task completion time", False),
    ("efficiency", "E2", "资源利用效率", "Resource utilisation", True),
    ("efficiency", "E3", "工作流程优化", "Workflow optimisation", False),
    ("risk", "R1", "风险识别与评估", "Risk identification and assessment (likelihood × impact)", False),
    ("risk", "R2", "风险防控措施", "Risk prevention and control", True),
    ("risk", "R3", "风险监控与应对", "Risk monitoring and response", True),
    ("teamwork", "T1", "部门间沟通协作", "Cross-department communication", False),
    ("teamwork", "T2", "团队凝聚力", "Team cohesion", False),
    ("teamwork", "T3", "跨部门项目推进", "Cross-department projects", False),
]

# Common problems (常见问题) a supervisor picks as a finding's title on the phone, per item code.
COMMON_PROBLEMS = {
    "P3": ["未按流程审批即执行", "交接记录缺失", "操作未留痕"],
    "S1": ["未使用标准问候语", "员工未佩戴工牌", "服务台无人值守"],
    "S2": ["顾客投诉未及时回复", "满意度回访未开展"],
    "E2": ["设备闲置未登记", "库存积压超过30天"],
    "R2": ["消防通道堵塞", "灭火器过期未更换", "应急照明损坏", "安全出口指示灯不亮"],
    "R3": ["隐患整改未闭环", "监控录像缺失"],
}
SITE_CLASS = {"XH-ST": "A", "SH-NJ": "A", "SH-HQ": "A", "SH-WJC": "A", "JA-CS": "B", "PD-WH": "B",
              "HQ-OPS": "C", "FIN-SSC": "C"}
RECURRENCE = [("A", 1), ("B", 3), ("C", 6)]  # site class → visited every n months (company-wide)

POINT_RULES = [
    ("DED-LOW", "低风险问题扣分", "finding_severity", "low", -1),
    ("DED-MED", "一般问题扣分", "finding_severity", "medium", -2),
    ("DED-HIGH", "严重问题扣分", "finding_severity", "high", -5),
    ("DED-CRIT", "重大问题扣分", "finding_severity", "critical", -10),
    ("BONUS-FIRST", "一次验收通过且按期加分", "accepted_first_round_on_time", None, 3),
    ("DED-OVERDUE", "整改逾期扣分", "overdue", None, -3),
    ("DED-FAILED", "验收未通过扣分", "acceptance_failed", None, -2),
]


# (key, site, supervisor, status, days from today, findings: [(title, desc, impact, area, item, severity, status, dept)])
VISITS = [
    ("v1", "JA-CS", "supervisor", "completed", -40, [
        ("客服热线高峰期接通率偏低", "10:00–11:30 高峰时段接通率仅 72%，多名客户排队超过 5 分钟", "影响客户满意度，投诉量上升",
         "service", "S2", "high", "rectifying", "SVC"),
        ("服务话术未按新版标准执行", "抽查 10 通录音，4 通未使用新版开场白和结束语", "服务形象不统一", "service", "S1", "medium", "closed", "SVC"),
    ]),
    ("v2", "SH-NJ", "supervisor", "completed", -25, [
        ("收银台现金未按规定日结", "前一日营业款 3 笔未入保险柜，交接记录缺少签字", "存在资金安全风险", "risk", "R2", "critical", "pending_acceptance", "SH"),
        ("消防通道堆放货物", "后仓消防通道堆放纸箱约 2 米，阻碍通行", "发生火灾时影响疏散", "risk", "R3", "high", "open", "SH"),
        ("退货流程缺少审批环节", "退货超过 500 元未经店长审批即办理", "可能造成损失", "process", "P1", "medium", "open", "SH"),
    ]),
    ("v3", "PD-WH", "supervisor2", "completed", -12, [
        ("拣货单据重复打印", "同一订单拣货单打印 2–3 次，纸张浪费且易错拣", "资源浪费，差错率上升", "efficiency", "E2", "low", "open", "OPS"),
        ("出库复核流程执行不到位", "抽查 20 单，6 单无复核人签字", "错发漏发风险", "process", "P3", "high", "rectifying", "OPS"),
    ]),
    ("v4", "XH-ST", "supervisor", "in_progress", 0, [
        ("门店与仓库补货沟通不畅", "畅销品缺货 3 天未补，门店与仓库各执一词", "销售损失", "teamwork", "T1", "medium", "open", "SVC"),
        # Synced from the phone today and awaiting management's review (docs/review.md#the-review-step).
        ("收银台备用金不足", "早班开班时备用零钱仅 200 元，低于规定的 500 元", "找零困难", "risk", "R2", "low", "open", "SVC"),
        ("店员未佩戴工牌", "3 名店员未佩戴工牌", "顾客无法识别服务人员", "service", "S1", "medium", "open", "SVC"),
        ("补货单未及时提交", "畅销品补货单晚交 2 天", "缺货", "process", "P1", "medium", "open", "SVC"),
        ("畅销品补货延误", "畅销品补货单晚交，货架空置", "缺货", "process", "P1", "medium", "open", "SVC"),
    ]),
    ("v5", "SH-HQ", "supervisor", "scheduled", 3, []),
    ("v6", "FIN-SSC", "supervisor2", "scheduled", 7, []),
    ("v7", "SH-WJC", "supervisor", "scheduled", 14, []),
]


def seed_demo(today: date | None = None) -> dict:
    """Insert whatever of the demo is missing; flush, never commit. Returns counts of what was added.
    `today` (default: the real one) anchors every relative date — tests pass a fixed day."""
    added: Counter = Counter()

    def ensure(model, key, **fields):
        obj = db.session.get(model, demo_id(key))
        if obj is None:
            obj = model(id=demo_id(key), **fields)
            db.session.add(obj)
            added[model.__tablename__] += 1
        return obj

    depts = {}
    for code, name, name_en, kind in DEPARTMENTS:
        depts[code] = ensure(Department, f"dept:{code}", code=code, name=name, name_en=name_en, kind=kind)
    db.session.flush()
    sites = {}
    for code, name, name_en, dept, address in SITES:
        sites[code] = ensure(Site, f"site:{code}", code=code, name=name, name_en=name_en,
                             department_id=depts[dept].id, address=address)
        if sites[code].site_class is None:  # stores visited monthly, centres quarterly, offices half-yearly
            sites[code].site_class = SITE_CLASS[code]
    people = {}
    for i, (name, position, dept) in enumerate(PEOPLE):
        people[name] = ensure(Person, f"person:{i}", code=f"P{i + 1:03d}", name=name, position=position,
                              department_id=depts[dept].id)
    db.session.flush()
    # The site manager (场所负责人) heads the site's people a finding's responsible person is picked from.
    for code, manager in SITE_MANAGERS.items():
        if sites[code].manager_person_id is None:
            sites[code].manager_person_id = people[manager].id

    users = {}
    for u in DEMO_USERS:
        existing = db.session.execute(select(User).where(User.username == u["username"])).scalar()
        if existing is None:
            existing = ensure(User, f"user:{u['username']}", username=u["username"], role=u["role"],
                              display_name=u["name"], password_hash="", email=f"{u['username']}@demo.example",
                              department_id=depts[u["dept"]].id if u["dept"] else None)
            existing.set_password(u["password"])
            db.session.flush()
            ensure(Person, f"person:user:{u['username']}", name=u["name"], department_id=existing.department_id,
                   user_id=existing.id, position={"supervisor": "督导员", "manager": "运营总监",
                                                  "dept_head": "部门负责人", "staff": "客服专员"}.get(u["role"]))
        users[u["username"]] = existing
    for key in ("supervisor", "supervisor2"):
        ensure(SupervisorProfile, f"profile:{key}", user_id=users[key].id,
               selection_source="internal" if key == "supervisor" else "external",
               experience_years=8 if key == "supervisor" else 5,
               qualifications="注册内部审计师" if key == "supervisor" else "ISO 9001 内审员",
               training_records=[], recognitions=[])

    template = ensure(ChecklistTemplate, "template:default", code="DEFAULT", revision=1,
                      name="运营督导标准检查表", name_en="Standard operations checklist",
                      description="依据《运营督导管理制度》第四章五大督导内容", is_current=True)
    db.session.flush()
    items = {}
    for pos, (area, code, title, title_en, photo) in enumerate(DEFAULT_ITEMS):
        items[code] = ensure(TemplateItem, f"item:{code}", template_id=template.id, area=area, code=code,
                             title=title, title_en=title_en, weight=1.0, scoring="pass_fail",
                             max_points=10.0, photo_required_on_fail=photo, position=pos,
                             common_problems=COMMON_PROBLEMS.get(code))
        if items[code].common_problems is None and code in COMMON_PROBLEMS:
            items[code].common_problems = COMMON_PROBLEMS[code]
    from webapp.demo.rich_checklist import (
        seed_rich_checklist,  # the food-safety template (docs/checklists.md)
    )

    seed_rich_checklist(ensure, users=users, sites=sites, today=today or company_today())
    for code, name, trigger, severity, points in POINT_RULES:
        ensure(PointRule, f"rule:{code}", code=code, name=name, trigger=trigger, severity=severity,
               points=points)
    from webapp.results.warnings.operations import DEFAULT_RULES

    for kind, (threshold, params) in DEFAULT_RULES.items():  # the defaults, stored so the rules page shows them
        ensure(WarningRule, f"warning-rule:{kind}", kind=kind, threshold=threshold, params=dict(params))
    for site_class, months in RECURRENCE:
        if db.session.scalar(select(RecurrenceRule.id).where(RecurrenceRule.scope_key == COMPANY_SCOPE,
                                                             RecurrenceRule.site_class == site_class)) is None:
            ensure(RecurrenceRule, f"recurrence:{site_class}", scope_key=COMPANY_SCOPE, site_class=site_class,
                   interval_months=months, template_id=template.id)
    db.session.flush()

    today = today or company_today()
    year, quarter = today.year, (today.month - 1) // 3 + 1
    q_start = date(year, 3 * quarter - 2, 1)
    q_end = (date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)) - timedelta(days=1)
    now = datetime.now(UTC)
    annual = ensure(Plan, "plan:annual", title=f"{year}年度运营督导计划", period_type="annual",
                    period_start=date(year, 1, 1), period_end=date(year, 12, 31),
                    goals="全年覆盖全部运营场所，重大问题整改按期完成率不低于 95%",
                    focus_areas=["process", "service", "risk"], methods="现场检查、数据分析、人员访谈",
                    staffing="督导员 2 名", status="published", author_id=users["supervisor"].id,
                    reviewer_id=users["manager"].id, submitted_at=now, approved_at=now, published_at=now)
    db.session.flush()
    quarterly = ensure(Plan, "plan:quarter", title=f"{year}年第{quarter}季度运营督导计划",
                       period_type="quarterly", period_start=q_start, period_end=q_end, parent_id=annual.id,
                       goals="重点检查客服质量与门店资金安全", focus_areas=["service", "risk"],
                       focus_notes="上季度客户投诉上升 18%", methods="现场检查为主，辅以录音抽查",
                       staffing="张伟负责客服与门店，李娜负责仓储与财务", status="published",
                       author_id=users["supervisor"].id, reviewer_id=users["manager"].id,
                       submitted_at=now, approved_at=now, published_at=now)
    db.session.flush()
    if not quarterly.departments:
        quarterly.departments = list(depts.values())

    for n, (key, site_code, sup, status, offset, findings) in enumerate(VISITS):
        site = sites[site_code]
        day = today + timedelta(days=offset)
        start = datetime.combine(day, time(9, 30), tzinfo=LOCAL)  # a morning on site, local time
        visit = ensure(Visit, f"visit:{key}", site_id=site.id, department_id=site.department_id,
                       template_id=template.id, plan_id=quarterly.id, supervisor_id=users[sup].id,
                       status=status, scheduled_for=day, due_by=day + timedelta(days=2),
                       started_at=start if status != "scheduled" else None,
                       completed_at=start + timedelta(hours=5) if status == "completed" else None,
                       preparation_notes="携带检查表、上期整改清单", summary=None)
        if status == "scheduled":
            continue
        ensure(Meeting, f"meeting:{key}", visit_id=visit.id, held_at=start,
               attendees=sorted(["部门负责人", "值班主管", "督导员"]),
               notes="介绍督导目的、范围和流程", department_report="本月业务量同比增长 12%，人员缺口 2 人")
        failed = {f[4] for f in findings}
        for code, item in items.items():
            if status == "in_progress" and code > "P3":
                break
            ensure(ChecklistAnswer, f"answer:{key}:{code}", visit_id=visit.id, item_id=item.id,
                   result="fail" if code in failed else ("na" if code == "T3" else "pass"),
                   note="见问题记录" if code in failed else None, photos=[])
        ensure(Metric, f"metric:{key}:1", visit_id=visit.id, kind="business", name="日均客流", value=820 + 40 * n, unit="人次")
        ensure(Metric, f"metric:{key}:2", visit_id=visit.id, kind="financial", name="月营业额", value=126.5 + n, unit="万元")
        ensure(Metric, f"metric:{key}:3", visit_id=visit.id, kind="customer", name="客户满意度", value=86 - n, unit="%")
        ensure(Interview, f"interview:{key}", visit_id=visit.id, interviewee="郑浩", position="客服专员",
               notes="高峰期人手不足，排班未考虑节假日", suggestions="增加弹性排班", interviewed_at=start + timedelta(hours=2))
        for m, (title, desc, impact, area, item, severity, fstatus, dept) in enumerate(findings):
            fkey = f"finding:{key}:{m}"
            if db.session.get(Finding, demo_id(fkey)) is None:
                data = photo_bytes(f"{site_code} {day.isoformat()} #{m + 1}", hue=n * 31 + m * 11)
                sha = hashlib.sha256(data).hexdigest()
                if db.session.get(Photo, sha) is None:
                    photo, _created = save_photo(sha, data, process_upload(data), users[sup])
                    photo.captured_at = start + timedelta(minutes=40 + m * 15)
                    added["photos"] += 1
                ensure(Finding, fkey, visit_id=visit.id, site_id=site.id, supervisor_id=users[sup].id,
                       title=title, description=desc, impact=impact, area=area, item_id=items[item].id,
                       severity=severity, department_id=depts[dept].id,
                       responsible_person="赵磊" if dept == "SVC" else None, photos=[sha], status=fstatus,
                       # The review queue shows the newest synced ones; the rest were confirmed.
                       review_status="pending" if key == "v4" and m > 0 else "confirmed",
                       captured_at=start + timedelta(minutes=40 + m * 15), lat=31.23 + n / 100, lng=121.47 + m / 100)
                answer = db.session.get(ChecklistAnswer, demo_id(f"answer:{key}:{item}"))
                if answer is not None and answer.result == "fail" and not answer.photos:
                    answer.photos, answer.note = [sha], f"{title}：{desc}"  # the failed item's evidence
    db.session.flush()
    # Photo markup, signatures and a before/after pair (webapp/demo/markup.py).
    from webapp.demo.markup import seed_markup

    recorded = [(key, status, datetime.combine(today + timedelta(days=offset), time(9, 30), tzinfo=LOCAL))
                for key, _site, _sup, status, offset, _f in VISITS if status != "scheduled"]
    added.update(seed_markup(recorded, users))
    db.session.flush()
    people = {code: [name for name, _pos, dept in PEOPLE if dept == code] for code in depts}
    seed_history(ensure, today=today, local=LOCAL, template=template, items=items, sites=sites, depts=depts,
                 users=users, people=people, current_plan=quarterly, added=added)
    # Results last, in this order: they read the visits, findings and history above, and the
    # warnings check reads what the others add. Imported here: each imports demo_id from this module.
    from webapp.results.calibration.demo import seed_calibration
    from webapp.results.evaluation.demo import seed_evaluation
    from webapp.results.points.demo import seed_points
    from webapp.results.supervisors.demo import seed_supervisors
    from webapp.results.training.demo import seed_training
    from webapp.results.warnings.demo import seed_warnings

    added.update(seed_calibration(today))
    added.update(seed_evaluation())
    added.update(seed_points())
    added.update(seed_supervisors())
    added.update(seed_training())
    added.update(seed_warnings(today))
    from webapp.rectification.demo import seed_rectification_progress

    added.update(seed_rectification_progress())
    return dict(sorted(added.items()))
