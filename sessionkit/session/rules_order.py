"""Randomization-scope rules SK701–SK724: page groups, bookmarks, label-map history and merging.

Placement rules follow session-format §6.5: without randomization a source page must come earlier
in the file; with randomization it must be earlier in the same PageGroup, or anywhere in group 0.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from sessionkit.session.findings import Findings, image_name, page_name, where
from sessionkit.session.model import Page, Session, SessionImage


def _groups_rules(session: Session, groups: list[int], out: Findings) -> None:
    pages = session.pages
    if session.randomize_page_groups:
        lacking = [
            (p, g) for p, g in zip(pages, groups, strict=True) if p.page_group is None and "PageGroup" not in p.invalid
        ]
        if lacking:
            listed = ", ".join(f"page {p.index} -> {g}" for p, g in lacking)
            out.add(
                "SK701",
                f'RandomizePageGroups="Y" but {len(lacking)} page(s) lack PageGroup; assigned: {listed}',
                lacking[0][0].location,
                page=lacking[0][0],
                found=listed,
            )
        distinct = sorted({g for g in groups if g != 0})
        if len(distinct) < 2:
            out.add(
                "SK702",
                f'RandomizePageGroups="Y" with fewer than two distinct non-zero PageGroups (found '
                f"{distinct or 'none'})",
                session.location,
                attribute="RandomizePageGroups",
                found=distinct,
                expected=">= 2 groups",
            )
    for page in pages:
        if page.page_group is not None and page.page_group < 0:
            out.add(
                "SK703",
                f"{page_name(page)}: negative PageGroup {page.page_group}",
                page.location,
                attribute="PageGroup",
                page=page,
                found=page.page_group,
            )
    indices = session.randomized_page_group_indices
    loc = session.randomized_page_group_indices_location
    if indices is None:
        return
    text = ",".join(map(str, indices))
    for number, count in Counter(indices).items():
        if count > 1:
            out.add(
                "SK704",
                f"RandomizedPageGroupIndices lists group {number} {count} times ('{text}')",
                loc,
                subject=str(number),
                found=number,
            )
    if not session.randomize_page_groups:
        out.add("SK708", 'RandomizedPageGroupIndices is present while RandomizePageGroups is not "Y" (ignored)', loc)
        return
    used = list(dict.fromkeys(groups))
    missing = [g for g in used if g not in indices and g != 0]
    if missing:
        order = [g for g in dict.fromkeys(indices) if g in used] + missing
        out.add(
            "SK705",
            f"RandomizedPageGroupIndices omits group(s) {', '.join(map(str, missing))}; order used: "
            f"{', '.join(map(str, order))}",
            loc,
            found=missing,
            expected=order,
        )
    for number in dict.fromkeys(indices):
        if number not in used:
            out.add(
                "SK706",
                f"RandomizedPageGroupIndices lists group {number}, which no page uses (ignored)",
                loc,
                subject=str(number),
                found=number,
            )
    if 0 in indices:
        out.add(
            "SK707",
            f"RandomizedPageGroupIndices lists 0 at position {indices.index(0) + 1} (group 0 is always first)",
            loc,
            found=0,
        )


def _eligible(session: Session, groups: list[int], target: int, source: int) -> bool:
    """May page ``source`` (0-based) precede page ``target`` for history/bookmark purposes?"""
    if not session.randomize_page_groups:
        return source < target
    return (source < target and groups[source] == groups[target]) or groups[source] == 0


def _bookmark_rules(session: Session, groups: list[int], out: Findings) -> None:
    carriers: dict[str, list[int]] = defaultdict(list)
    for position, page in enumerate(session.pages):
        if page.bookmark_id:
            carriers[page.bookmark_id].append(position)
    for bookmark, positions in carriers.items():
        if len(positions) > 1:
            pages = [session.pages[i] for i in positions]
            out.add(
                "SK712",
                f"BookmarkID '{bookmark}' is on several pages ({', '.join(page_name(p) for p in pages)})",
                pages[1].location,
                attribute="BookmarkID",
                page=pages[1],
                subject=bookmark,
                related=[where(p.location) for p in pages],
            )
    for position, page in enumerate(session.pages):
        if not page.go_to_bookmark:
            continue
        tokens = page.go_to_bookmark.split()
        if not tokens:
            continue
        target = tokens[0]
        if len(tokens) > 2:
            out.add(
                "SK711",
                f"{page_name(page)}: GoToBookmark '{page.go_to_bookmark}' has more than two tokens; the "
                f"label becomes '{' '.join(tokens[1:])}'",
                page.location,
                attribute="GoToBookmark",
                page=page,
                found=page.go_to_bookmark,
            )
        earlier = [i for i in carriers.get(target, []) if i < position]
        if not earlier:
            later = [page_name(session.pages[i]) for i in carriers.get(target, []) if i >= position]
            out.add(
                "SK709",
                f"{page_name(page)}: GoToBookmark target '{target}' matches no BookmarkID on an earlier "
                "page" + (f" (carried later by {', '.join(later)})" if later else ""),
                page.location,
                attribute="GoToBookmark",
                page=page,
                found=target,
            )
        elif session.randomize_page_groups and not any(
            groups[i] == groups[position] or groups[i] == 0 for i in earlier
        ):
            others = sorted({groups[i] for i in earlier})
            out.add(
                "SK710",
                f"{page_name(page)}: bookmark '{target}' is only on earlier pages of other PageGroups "
                f"({', '.join(map(str, others))}; this page is in {groups[position]})",
                page.location,
                attribute="GoToBookmark",
                page=page,
                found=others,
                expected=groups[position],
            )


def _label_map_rules(session: Session, groups: list[int], out: Findings) -> None:
    pages = session.pages
    tagged: dict[str, list[tuple[int, SessionImage]]] = defaultdict(list)
    for position, page in enumerate(pages):
        for image in page.images:
            if image.label_map_id and image.type in ("Volume", "VolumeSequence"):
                tagged[image.label_map_id].append((position, image))
    for label_map_id, entries in tagged.items():
        paths = sorted({image.path for _, image in entries if image.path})
        if len(paths) > 1:
            second = next(image for _, image in entries if image.path == paths[1])
            out.add(
                "SK717",
                f"LabelMapID '{label_map_id}' is used on images with different paths ({', '.join(map(repr, paths))})",
                second.location,
                attribute="LabelMapID",
                subject=label_map_id,
                found=paths,
            )
    for position, page in enumerate(pages):
        by_path: dict[str, set[str | None]] = defaultdict(set)
        for image in page.images:
            if image.path and image.type in ("Volume", "VolumeSequence"):
                by_path[image.path].add(image.display_label_map_id)
        for path, values in by_path.items():
            if len(values) > 1 and any(values):
                shown = sorted(v or "(absent)" for v in values)
                out.add(
                    "SK716",
                    f"{page_name(page)}: images with path '{path}' disagree on DisplayLabelMapID ({', '.join(shown)})",
                    page.location,
                    page=page,
                    subject=path,
                    found=shown,
                )
        for image in page.images:
            if image.type not in ("Volume", "VolumeSequence"):
                continue
            if image.display_label_map_id:
                _history(session, groups, tagged, position, page, image, out)
            elif image.merge_label_maps:
                out.add(
                    "SK718",
                    f'{image_name(page, image)}: MergeLabelMaps="Y" without DisplayLabelMapID',
                    image.location,
                    attribute="MergeLabelMaps",
                    page=page,
                )


def _history(
    session: Session,
    groups: list[int],
    tagged: dict[str, list[tuple[int, SessionImage]]],
    position: int,
    page: Page,
    image: SessionImage,
    out: Findings,
) -> None:
    value = image.display_label_map_id or ""
    name = image_name(page, image)
    earlier = [
        (i, img)
        for i, img in tagged.get(value, [])
        if i < position or (session.randomize_page_groups and groups[i] == 0 and i != position)
    ]
    if not earlier:
        out.add(
            "SK713",
            f"{name}: DisplayLabelMapID '{value}' has no image with LabelMapID '{value}' on an earlier page",
            image.location,
            attribute="DisplayLabelMapID",
            page=page,
            found=value,
        )
        return
    same_path = [(i, img) for i, img in earlier if img.path == image.path]
    if not same_path:
        paths = sorted({img.path for _, img in earlier})
        out.add(
            "SK714",
            f"{name}: LabelMapID '{value}' is on a different path ({', '.join(map(repr, paths))}, this "
            f"image: '{image.path}')",
            image.location,
            attribute="DisplayLabelMapID",
            page=page,
            found=paths,
            expected=image.path,
        )
        return
    if session.randomize_page_groups and not any(_eligible(session, groups, position, i) for i, _ in same_path):
        others = sorted({groups[i] for i, _ in same_path})
        out.add(
            "SK715",
            f"{name}: LabelMapID '{value}' is only on earlier pages of other PageGroups "
            f"({', '.join(map(str, others))}; this page is in {groups[position]})",
            image.location,
            attribute="DisplayLabelMapID",
            page=page,
            found=others,
            expected=groups[position],
        )
    if image.merge_label_maps:
        _merge(session, same_path, page, image, out)


def _merge(
    session: Session, sources: list[tuple[int, SessionImage]], page: Page, image: SessionImage, out: Findings
) -> None:
    name = image_name(page, image)
    drawing = [
        a
        for a, on in (
            ("EnableSegmentEditor", page.enable_segment_editor),
            ("SegmentRequiredOnAnyImage", page.segment_required_on_any_image),
            ("SegmentRequired", any(i.segment_required for i in page.images)),
        )
        if on
    ]
    if drawing:
        out.add(
            "SK719",
            f'{page_name(page)}: MergeLabelMaps="Y" on a page with {", ".join(drawing)} = "Y"',
            page.location,
            page=page,
            found=drawing,
        )
    if page.loop:
        out.add(
            "SK721",
            f'{page_name(page)}: MergeLabelMaps="Y" on a page that itself has Loop="Y"',
            page.location,
            attribute="Loop",
            page=page,
        )
    earlier = [(i, img) for i, img in sources if i < page.index - 1]
    if not earlier:
        return
    source = session.pages[earlier[-1][0]]
    related = [where(source.location)]
    if not source.loop:
        out.add(
            "SK720",
            f'{name}: merge source {page_name(source)} lacks Loop="Y"',
            source.location,
            attribute="Loop",
            page=source,
            related=related,
            subject=name,
        )
    if page.page_group is None or source.page_group is None:
        lacking = [page_name(p) for p in (page, source) if p.page_group is None]
        out.add(
            "SK722",
            f"{name}: MergeLabelMaps needs the same explicit PageGroup on this page and its source "
            f"{page_name(source)} (without PageGroup: {', '.join(lacking)})",
            page.location,
            page=page,
            related=related,
        )
    elif page.page_group != source.page_group:
        out.add(
            "SK723",
            f"{name}: PageGroup {page.page_group} differs from source {page_name(source)}'s PageGroup "
            f"{source.page_group}",
            page.location,
            attribute="PageGroup",
            page=page,
            related=related,
            found=page.page_group,
            expected=source.page_group,
        )
    if not source.enable_segment_editor:
        out.add(
            "SK724",
            f'merge source {page_name(source)} lacks EnableSegmentEditor="Y" (nothing to merge)',
            source.location,
            page=source,
            related=[where(page.location)],
        )


def check_order(session: Session, groups: list[int], out: Findings) -> None:
    """Run SK701–SK724 over the whole session (``groups``: effective PageGroup per page)."""
    _groups_rules(session, groups, out)
    _bookmark_rules(session, groups, out)
    _label_map_rules(session, groups, out)
