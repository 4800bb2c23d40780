"""Image Quizzer defects fixed by sessionkit (issue #6 item 6): the ones not pinned elsewhere.

Each test names the IQ defect in its docstring. The other defects are pinned where the behaviour lives,
each with a docstring naming it:

- unlisted page groups dropped under randomisation: tests/runner/test_navigation.py
  (``test_forced_list_missing_groups_are_appended``, ``test_seeded_order_keeps_group_zero_first_and_drops_nothing``)
- Event overwritten on revisit: tests/responses/test_export.py (``test_event_is_kept_per_response_on_revisits``)
- label-map history re-copied over a reader's edits on redisplay (D23): tests/runner/test_contours.py
  (``test_redisplay_is_copied_once_and_edits_persist_d23``), tests/runner/test_labelmap_plan.py
- unsigned overflow when merging label maps (D25): tests/runner/test_contours.py
  (``test_merge_is_the_int32_maximum_of_every_looped_copy_d25``), tests/io/test_contours.py
- image state looked up by XML order instead of navigation order (D24): tests/runner/test_history.py
  (``test_restore_uses_navigation_order_not_file_order``), tests/browser/test_display_attributes.py
- ZoomFactor compounding per image (D7): tests/scene/test_resolve.py
  (``test_zoom_pan_and_slice_offset_come_from_each_viewports_background_only``)
"""

from __future__ import annotations

from pathlib import Path

from sessionkit.runner.navigation import Instance, build_navigation, group_order
from sessionkit.session import load_session, validate_session

PAGE = '<Page ID="{id}" PageGroup="{group}"><QuestionSet><Question Type="Text" Descriptor="q"><Option>x</Option>' \
    "</Question></QuestionSet></Page>"  # fmt: skip


def test_non_integer_page_group_is_reported_not_a_crash(tmp_path: Path) -> None:
    """IQ defect: ``int(PageGroup)`` raised ValueError on "2.5" or "two" and the quiz never started.

    sessionkit reports SK207 per page at validation (``serve`` refuses the file), and a session loaded
    leniently still gets an effective group for every page and a navigation list with every page.
    """
    pages = [("A", "0"), ("B", "1"), ("C", "2.5"), ("D", "two"), ("E", "3"), ("F", "1")]
    path = tmp_path / "groups.xml"
    path.write_text(
        '<Session RandomizePageGroups="Y">' + "".join(PAGE.format(id=i, group=g) for i, g in pages) + "</Session>",
        encoding="utf-8",
    )
    problems = validate_session(path)
    assert sorted((p.code, p.attribute) for p in problems if p.is_error) == [
        ("SK207", "PageGroup"),
        ("SK207", "PageGroup"),
    ]
    messages = sorted(p.message for p in problems if p.code == "SK207")
    assert "'C'" in messages[0] and "'2.5'" in messages[0] and "'D'" in messages[1] and "'two'" in messages[1]
    session = load_session(path, strict=False)
    groups = session.effective_page_groups()
    assert all(isinstance(g, int) for g in groups) and groups[0] == 0 and groups[1] == groups[5] == 1
    assert groups[2] not in (0, 1, 3) and groups[3] not in (0, 1, 3, groups[2])  # each its own group
    order = group_order(session, "reader01")
    assert order is not None and order.order[0] == 0 and sorted(order.order) == sorted(set(groups))
    nav = build_navigation(session, [Instance(i) for i in range(1, 7)], order.order)
    assert sorted(e.instance.page_index for e in nav) == [1, 2, 3, 4, 5, 6]
