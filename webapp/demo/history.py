"""Six months of demo history: two full quarters before this one plus this quarter so far, so the
results pages (dashboard, points, scorecards, warnings) have something to compare.

Completed visits at all 8 sites by both supervisors, checklist answers, figures, findings (all four
severities), rectifications with deadlines and acceptance rounds, their states as of today. The story
the numbers tell: 上海分公司 (SH) got clearly worse this quarter (more findings, more high/critical,
repeated cash-handling and fire-safety problems, overdue rectifications), 运营管理部 (OPS) improved
after a weak spring; 客户服务部 and 财务部 stay about level.

Deterministic: every visit is keyed by site and date (demo_id), and its content comes from a random
generator seeded by that key, so re-running adds only visits whose day has come since the last run.
Repeat problems (repeat_of_id) are linked by webapp/findings/repeats.py when the findings are flushed.
"""

import hashlib
import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from webapp.demo.keys import demo_id, photo_bytes
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.photos.models import Photo
from webapp.photos.operations import process_upload, save_photo
from webapp.plans.models import Plan
from webapp.rectification.models import AcceptanceRound, Rectification
from webapp.reports.models import Report
from webapp.results.periods import period_containing
from webapp.visits.models import ChecklistAnswer, Metric, Visit

SEED = "history-v1"
PHOTO_COUNT = 6

# Who visits which site; every third visit goes to the other supervisor.
SITE_SUPERVISOR = {"HQ-OPS": "supervisor2", "PD-WH": "supervisor2", "JA-CS": "supervisor", "XH-ST": "supervisor",
                   "FIN-SSC": "supervisor2", "SH-NJ": "supervisor", "SH-HQ": "supervisor", "SH-WJC": "supervisor2"}

# Per department and quarter (0 = two quarters ago, 1 = last quarter, 2 = this quarter):
# the chance any checklist item fails, the department's weak items, the chance a weak item is a chronic
# problem at a site that quarter (it then fails at most visits: repeat problems), severity weights
# (low, medium, high, critical) and rectification outcome weights (on time, late, failed once, never done).
PROFILES = {
    "OPS": [
        (0.08, ("E2", "P3", "R3"), 0.8, (2, 4, 3, 1), (5, 2, 2.5, 0.5)),
        (0.08, ("E2", "P3", "R3"), 0.8, (2, 4, 3, 1), (5, 2, 2.5, 0.5)),
        (0.03, ("E2",), 0.3, (6, 4, 1, 0), (8, 0.5, 1.5, 0)),
    ],
    "SVC": [
        (0.06, ("S1", "S2", "T1"), 0.5, (3, 4, 2, 0.5), (6.5, 1, 2, 0.5)),
        (0.06, ("S1", "S2", "T1"), 0.5, (3, 4, 2, 0.5), (6.5, 1, 2, 0.5)),
        (0.06, ("S1", "S2", "T1"), 0.5, (3, 4, 2, 0.5), (6.5, 1, 2, 0.5)),
    ],
    "FIN": [
        (0.06, ("R1", "P1"), 0.5, (3, 4, 1, 0.5), (7.5, 1, 1, 0.5)),
        (0.06, ("R1", "P1"), 0.5, (3, 4, 1, 0.5), (7.5, 1, 1, 0.5)),
        (0.06, ("R1", "P1"), 0.5, (3, 4, 1, 0.5), (7.5, 1, 1, 0.5)),
    ],
    "SH": [
        (0.05, ("R2", "S1"), 0.4, (4, 4, 1.5, 0.3), (7, 1, 1.5, 0.5)),
        (0.05, ("R2", "S1"), 0.4, (4, 4, 1.5, 0.3), (7, 1, 1.5, 0.5)),
        (0.10, ("R2", "R3", "S1", "P1"), 1.0, (1, 3, 4, 2), (3.5, 2, 2.5, 2)),
    ],
}
CHRONIC_FAIL = 0.6

# Per checklist item: (title, description, impact) — what supervisors actually write. Titles differ from
# the findings of seed.VISITS, which tests and walkthroughs find by title.
POOL = {
    "P1": [("大额退货未经店长审批", "抽查 15 笔退货，4 笔超过授权金额未经主管审批", "存在资金损失和舞弊风险"),
           ("采购申请流程缺少比价环节", "3 笔 5 万元以上采购未附比价记录", "采购成本不可控")],
    "P2": [("交接班流程环节重复", "交接班需填写三张内容重复的表单，平均耗时 25 分钟", "占用一线人员时间"),
           ("报销审批层级过多", "小额报销需经 5 级审批，平均周期 12 天", "员工满意度下降")],
    "P3": [("出库单缺少复核签字", "抽查 20 单，6 单无复核人签字", "错发漏发风险"),
           ("盘点未按规定频次执行", "本月应盘点 4 次，实际仅盘点 2 次且无记录", "账实不符风险")],
    "S1": [("新版服务话术执行不到位", "抽查 10 通录音，4 通未使用新版开场白和结束语", "服务形象不统一"),
           ("员工未按规定着装佩戴工牌", "当班 12 名员工中 3 名未佩戴工牌", "影响企业形象，客户无法识别")],
    "S2": [("客服热线午间接通率不达标", "10:00–11:30 高峰时段接通率仅 72%，多名客户排队超过 5 分钟", "客户满意度下降，投诉增加"),
           ("客户投诉处理超时", "本月 18 件投诉中 7 件超过 48 小时未回复", "客户流失风险")],
    "S3": [("客户意见未形成改进措施", "近三个月客户意见登记 46 条，无一条有跟进记录", "同类问题反复出现"),
           ("服务改进计划未落实", "上季度制定的 5 项改进措施仅完成 1 项", "服务质量停滞")],
    "E1": [("工单平均处理时长超标", "工单平均处理 3.2 天，标准为 2 天", "影响后续环节"),
           ("月结报表延迟提交", "月结报表较规定时间延迟 4 个工作日", "影响管理决策")],
    "E2": [("拣货单重复打印造成浪费", "同一订单拣货单打印 2–3 次，纸张浪费且易错拣", "资源浪费，差错率上升"),
           ("设备闲置率偏高", "叉车 6 台中日均 3 台闲置，仍在外租设备", "费用浪费")],
    "E3": [("人工重复录入数据", "订单数据需在两个系统各录入一次", "效率低且易出错"),
           ("排班未考虑业务高峰", "周末客流高峰人手比工作日少 20%", "高峰期服务排队")],
    "R1": [("风险台账未及时更新", "风险台账最后更新于 4 个月前，新业务风险未识别", "风险失控"),
           ("未开展风险评估", "新开通的线上退款业务未做可能性与影响评估", "潜在资金损失")],
    "R2": [("营业款未按时存入保险柜", "前一日营业款未入保险柜，交接记录缺少签字", "资金安全风险"),
           ("保险柜密码多人共用", "保险柜密码 5 人知晓且半年未更换", "资金被盗风险")],
    "R3": [("后仓消防通道被货物占用", "后仓消防通道堆放纸箱约 2 米，阻碍通行", "发生火灾时影响疏散"),
           ("监控设备故障未报修", "4 个监控摄像头故障超过 10 天未报修", "安全事件无法追溯")],
    "T1": [("门店补货需求响应滞后", "畅销品缺货 3 天未补，门店与仓库各执一词", "销售损失"),
           ("部门间信息传递不及时", "促销方案变更未通知客服，客户咨询无法回答", "客户体验差")],
    "T2": [("员工流失率偏高", "近三个月离职 5 人，占编制 25%", "服务经验断层"),
           ("团队例会未定期召开", "本月应开 4 次例会，实际 1 次", "问题无法及时沟通")],
    "T3": [("跨部门项目进度滞后", "会员系统切换项目已延期 3 周，无责任人跟进", "影响业务上线"),
           ("联合整改任务无人牵头", "消防整改涉及行政与门店，双方均未牵头", "整改停滞")],
}

MEASURES = {
    "low": "完善制度并组织班组学习，主管每周抽查",
    "medium": "修订操作规程，指定专人负责，两周内完成自查",
    "high": "立即整改，主管每日检查并拍照留档，月底前复盘",
    "critical": "立即停止违规操作，分管领导牵头专项整改，每日上报进度",
}
DEADLINE_DAYS = {"low": 30, "medium": 21, "high": 14, "critical": 7}
FAIL_REASONS = ["现场复查仍有同类问题", "整改证据不足，缺少照片和记录", "仅整改了部分门店，未全面覆盖"]


def _quarters(today: date):
    """This quarter and the two before it, oldest first."""
    current = period_containing(today, "quarter")
    return [current.previous().previous(), current.previous(), current]


def _weighted(rng: random.Random, options, weights):
    return rng.choices(options, weights=weights, k=1)[0]


def _at(day: date, hour: int, local) -> datetime:
    """A local time on `day`, never later than now (a recent visit's report steps are not in the future)."""
    return min(datetime.combine(day, time(hour, 0), tzinfo=local).astimezone(UTC), datetime.now(UTC))


def seed_history(ensure, *, today: date, local, template, items: dict, sites: dict, depts: dict, users: dict,
                 people: dict, current_plan, added: Counter) -> None:
    """Add the history visits missing so far (flush, never commit). `ensure` is seed_demo's get-or-add."""

    quarters = _quarters(today)
    plans = {quarters[2].code: current_plan}
    for q in quarters[:2]:
        plan = ensure(Plan, f"plan:quarter:{q.code}", title=f"{q.label('zh_CN')}运营督导计划", period_type="quarterly",
                      period_start=q.start, period_end=q.end - timedelta(days=1),
                      goals="全部场所每三周至少督导一次", focus_areas=["process", "service", "risk"],
                      methods="现场检查、数据分析、人员访谈", staffing="督导员 2 名", status="published",
                      author_id=users["supervisor"].id, reviewer_id=users["manager"].id,
                      submitted_at=_at(q.start, 9, local), approved_at=_at(q.start, 10, local),
                      published_at=_at(q.start, 11, local))
        plans[q.code] = plan
    db.session.flush()
    for plan in plans.values():
        if not plan.departments:
            plan.departments = list(depts.values())

    photos = _ensure_photos(users["supervisor"], local, added)
    start = quarters[0].start
    for s_index, (site_code, site) in enumerate(sorted(sites.items())):
        dept_code = next(code for code, d in depts.items() if d.id == site.department_id)
        site_rng = random.Random(f"{SEED}:site:{site_code}")
        day = start + timedelta(days=2 + 2 * s_index)
        n = 0
        while day < today:
            key = f"hvisit:{site_code}:{day.isoformat()}"
            if db.session.get(Visit, demo_id(key)) is None:
                quarter = period_containing(day, "quarter")
                qi = [q.code for q in quarters].index(quarter.code)
                sup = SITE_SUPERVISOR[site_code]
                if n % 3 == 2:
                    sup = "supervisor2" if sup == "supervisor" else "supervisor"
                _add_visit(ensure, demo_id, key, day=day, today=today, local=local, site=site, dept_code=dept_code,
                           qi=qi, supervisor=users[sup], plan=plans[quarter.code], template=template, items=items,
                           people=people[dept_code], head=users["depthead"] if dept_code == "SVC" else users["manager"],
                           photos=photos, added=added)
            n += 1
            day += timedelta(days=site_rng.randint(17, 24))
    db.session.flush()


def _ensure_photos(uploader, local, added) -> list[str]:
    """A handful of generated site photos shared by every history finding (keeps the seed fast)."""
    shas = []
    for i in range(PHOTO_COUNT):
        data = photo_bytes(f"history #{i + 1}", hue=17 + i * 37)
        sha = hashlib.sha256(data).hexdigest()
        if db.session.get(Photo, sha) is None:
            photo, _created = save_photo(sha, data, process_upload(data), uploader)
            photo.captured_at = datetime(2026, 1, 1, tzinfo=UTC)
            added["photos"] += 1
        shas.append(sha)
    return shas


def _add_visit(ensure, demo_id, key, *, day, today, local, site, dept_code, qi, supervisor, plan, template, items,
               people, head, photos, added) -> None:
    rng = random.Random(f"{SEED}:{key}")
    base, weak, chronic_p, severity_weights, outcome_weights = PROFILES[dept_code][qi]
    # Chronic problems are drawn per site and quarter (not per visit), so they recur visit after visit.
    quarter_rng = random.Random(f"{SEED}:{site.code}:{day.year}-{(day.month - 1) // 3}")
    chronic = {code for code in weak if quarter_rng.random() < chronic_p}
    began = datetime.combine(day, time(9, 30), tzinfo=local)
    # About one planned visit in 25 was missed (stays scheduled, overdue): plan completion is not 100%.
    missed = rng.random() < 0.04 and (today - day).days > 7
    visit = ensure(Visit, key, site_id=site.id, department_id=site.department_id, template_id=template.id,
                   plan_id=plan.id, supervisor_id=supervisor.id, status="scheduled" if missed else "completed",
                   scheduled_for=day, due_by=day + timedelta(days=2),
                   started_at=None if missed else began, completed_at=None if missed else began + timedelta(hours=5),
                   preparation_notes="携带检查表、上期整改清单", summary=None)
    if missed:
        return
    failed = []
    for code, item in items.items():
        p = CHRONIC_FAIL if code in chronic else base
        if code == "T3" and rng.random() < 0.5:
            result = "na"
        else:
            result = "fail" if rng.random() < p else "pass"
        if result == "fail":
            failed.append(code)
        ensure(ChecklistAnswer, f"{key}:answer:{code}", visit_id=visit.id, item_id=item.id, result=result,
               note="见问题记录" if result == "fail" else None, photos=[])
    score = 1 - len(failed) / len(items)
    ensure(Metric, f"{key}:metric:1", visit_id=visit.id, kind="business", name="日均客流",
           value=round(600 + 400 * rng.random()), unit="人次")
    ensure(Metric, f"{key}:metric:2", visit_id=visit.id, kind="financial", name="月营业额",
           value=round(100 + 60 * rng.random(), 1), unit="万元")
    ensure(Metric, f"{key}:metric:3", visit_id=visit.id, kind="customer", name="客户满意度",
           value=round(70 + 25 * score + 3 * rng.random(), 1), unit="%")
    visit.summary = f"检查 {len(items)} 项，发现问题 {len(failed)} 项" + ("。" if failed else "，整体良好。")
    # History visits were reported, approved, communicated and acknowledged: the "to write" list keeps
    # to the visits of seed.VISITS, which the review walkthrough (e2e) uses.
    done = _at(day + timedelta(days=5), 17, local)
    ensure(Report, f"{key}:report", visit_id=visit.id, version_no=1, status="acknowledged",
           title=f"{site.name}督导报告（{day.isoformat()}）", plan_execution="按计划完成现场督导",
           problems=f"发现问题 {len(failed)} 项，详见问题清单", recommendations="按期整改，督导员跟踪验收",
           area_scores={}, author_id=supervisor.id, reviewer_id=head.id if head.role == "manager" else None,
           submitted_at=_at(day + timedelta(days=2), 17, local), approved_at=_at(day + timedelta(days=3), 17, local),
           communicated_at=_at(day + timedelta(days=4), 17, local), acknowledged_at=done,
           created_at=_at(day + timedelta(days=1), 17, local), updated_at=done)
    for m, code in enumerate(failed):
        title, desc, impact = rng.choice(POOL[code])
        severity = _weighted(rng, ("low", "medium", "high", "critical"), severity_weights)
        captured = began + timedelta(minutes=30 + 12 * m)
        fkey = f"{key}:finding:{code}"
        person = rng.choice(people)
        finding = ensure(Finding, fkey, visit_id=visit.id, site_id=site.id, supervisor_id=supervisor.id,
                         title=title, description=desc, impact=impact, area=items[code].area, item_id=items[code].id,
                         severity=severity, department_id=site.department_id, responsible_person=person,
                         photos=[photos[(m + len(key)) % len(photos)]], status="open", captured_at=captured,
                         review_status="confirmed", lat=31.2 + rng.random() / 10, lng=121.4 + rng.random() / 10)
        outcome = _weighted(rng, ("on_time", "late", "failed_once", "never"), outcome_weights)
        _rectify(ensure, demo_id, fkey, finding, rng=rng, outcome=outcome, day=day, today=today, local=local,
                 owner=person, head=head, supervisor=supervisor)


def _rectify(ensure, demo_id, fkey, finding, *, rng, outcome, day, today, local, owner, head, supervisor) -> None:
    """Play the rectification loop forward from the visit day; stop at today. The finding's status
    follows the rectification's, as the workflow would have left them."""
    submitted = day + timedelta(days=rng.randint(1, 4))
    if submitted >= today:
        return  # still open: the department has not answered yet
    deadline = day + timedelta(days=DEADLINE_DAYS[finding.severity])
    rect = ensure(Rectification, f"{fkey}:rect", finding_id=finding.id, measures=MEASURES[finding.severity],
                  owner=owner, deadline=deadline, status="rectifying", round=1, submitted_by=head.id,
                  created_at=_at(submitted, 10, local), updated_at=_at(submitted, 10, local))
    finding.status = "rectifying"
    if outcome == "never":
        return  # overdue once the deadline passes
    if outcome == "on_time":
        requests = [max(submitted + timedelta(days=1), deadline - timedelta(days=rng.randint(2, 5)))]
    elif outcome == "late":
        requests = [deadline + timedelta(days=rng.randint(2, 8))]
    else:
        requests = [deadline - timedelta(days=rng.randint(1, 3))]
    for n in range(2):
        request = requests[n]
        if request >= today:
            return
        rect.status, finding.status = "pending_acceptance", "pending_acceptance"
        decided = request + timedelta(days=1)
        if decided >= today:
            return
        if outcome == "failed_once" and n == 0:
            new_deadline = decided + timedelta(days=10)
            db.session.add(AcceptanceRound(rectification_id=rect.id, round=1, result="fail",
                                           reason=rng.choice(FAIL_REASONS), new_deadline=new_deadline,
                                           decided_by=supervisor.id, decided_at=_at(decided, 16, local)))
            rect.status, finding.status, rect.round, rect.deadline = "rectifying", "rectifying", 2, new_deadline
            requests.append(new_deadline - timedelta(days=rng.randint(0, 4)))
            continue
        db.session.add(AcceptanceRound(rectification_id=rect.id, round=rect.round, result="pass", reason=None,
                                       new_deadline=None, decided_by=supervisor.id, decided_at=_at(decided, 16, local)))
        rect.status, finding.status, rect.accepted_at = "accepted", "closed", _at(decided, 16, local)
        rect.updated_at = rect.accepted_at
        return
