"""Property tests (hypothesis): adding a record never lowers a case's completeness, removing
one never raises it (第十条: every record counts, none counts against the case).

Records here are what meets requirements: documents, decided approvals, recordings with
marks. Facts that *trigger* requirements (a service by public notice, a refused signature,
a pending approval, an enforcement begun: its approval or documents, 第五条第四款) are
deliberately outside: recording them is supposed to reveal a gap.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from liuhen.cases import stages
from liuhen.records.choices import DocumentType
from liuhen.rules import engine
from liuhen.rules.engine import ApprovalFact, CaseFacts, DocFact, RecordingFact, ServiceFact

KINDS = list(engine.KIND_FILES)
MARKS = sorted(engine.MARK_LABELS)
ACTIONS = ["filing", "investigation_end", "penalty_decision", "closing"]
CODES = sorted(engine.rules_by_id())

documents = st.builds(
    DocFact,
    id=st.integers(1, 10**6),
    doc_type=st.sampled_from(
        [t for t in DocumentType.values if t not in engine.ENFORCEMENT_DOCUMENTS]
    ),
    signature=st.sampled_from(["signed", "not_present", "pending"]),
    extra_keys=st.frozensets(st.sampled_from(["bill_number", "amount"])),
)
approvals = st.one_of(
    st.builds(
        ApprovalFact,
        id=st.integers(1, 10**6),
        action=st.sampled_from(ACTIONS),
        decision=st.sampled_from(["approved", "rejected"]),
    ),
    st.builds(
        ApprovalFact,
        id=st.integers(1, 10**6),
        action=st.just("waiver"),
        decision=st.just("approved"),
        requirement_code=st.sampled_from(CODES),
    ),
)
recordings = st.builds(
    RecordingFact,
    id=st.integers(1, 10**6),
    kind=st.sampled_from(["video", "audio", "photo"]),
    labels=st.frozensets(st.sampled_from(MARKS), max_size=4),
)
records = st.one_of(
    documents.map(lambda x: ("documents", x)),
    approvals.map(lambda x: ("approvals", x)),
    recordings.map(lambda x: ("recordings", x)),
)
services = st.builds(
    ServiceFact,
    id=st.integers(1, 10**6),
    method=st.sampled_from(["direct", "left_at_premises", "public_notice"]),
    signature=st.sampled_from(["signed", "refused", "not_present"]),
)


@st.composite
def cases(draw):
    kind = draw(st.sampled_from(KINDS))
    facts = CaseFacts(
        case_id=1,
        kind=kind,
        stage=draw(st.sampled_from(stages.path(kind))),
        flags={
            f: draw(st.booleans())
            for f in (
                "is_random_inspection",
                "is_disputed",
                "is_major_incident",
                "hearing_requested",
            )
        },
        services=draw(st.lists(services, max_size=2)),
        qualified_officers=draw(st.integers(0, 3)),
    )
    for field, item in draw(st.lists(records, max_size=8)):
        getattr(facts, field).append(item)
    return facts


def with_record(facts: CaseFacts, field: str, item) -> CaseFacts:
    copy = CaseFacts(
        case_id=1,
        kind=facts.kind,
        stage=facts.stage,
        flags=facts.flags,
        documents=list(facts.documents),
        approvals=list(facts.approvals),
        services=list(facts.services),
        recordings=list(facts.recordings),
        qualified_officers=facts.qualified_officers,
    )
    getattr(copy, field).append(item)
    return copy


@settings(max_examples=300, deadline=None)
@given(cases(), records)
def test_第十条_adding_a_record_never_lowers_completeness(facts, new):
    before = engine.evaluate(facts)
    after = engine.evaluate(with_record(facts, *new))
    assert after["ratio"] >= before["ratio"] - 1e-12
    assert set(after["missing"]) <= set(before["missing"])


@settings(max_examples=300, deadline=None)
@given(cases(), st.data())
def test_第十条_removing_a_record_never_raises_completeness(facts, data):
    fields = [f for f in ("documents", "approvals", "recordings") if getattr(facts, f)]
    if not fields:
        return
    field = data.draw(st.sampled_from(fields))
    items = getattr(facts, field)
    index = data.draw(st.integers(0, len(items) - 1))
    before = engine.evaluate(facts)
    smaller = with_record(facts, field, None)
    getattr(smaller, field).pop()  # drop the placeholder, then the chosen record
    getattr(smaller, field).pop(index)
    after = engine.evaluate(smaller)
    assert after["ratio"] <= before["ratio"] + 1e-12
    assert set(before["missing"]) <= set(after["missing"])
