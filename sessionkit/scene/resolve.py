"""Page resolver: which image goes to which viewport, on which layer, with which segments visible.

Pure code over the session model and loaded images (no browser): session-format.md §6.2–§6.4 and §8,
decisions D1 (ContourVisibility default Outline), D2 (absent destination/orientation/layer), D6
(ROIColorFile and ROIs apply to ``LabelMap`` images) and D7 (zoom from each viewport's Background).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace

from sessionkit.errors import SegmentationError
from sessionkit.imaging import Image, Segment, Segmentation
from sessionkit.scene.model import LABEL_FILL_OPACITY, Scene, SceneLayer, SceneSegment, SceneView, VolumeSource
from sessionkit.session.model import LAYOUT_VIEWPORTS, Page, Session, SessionImage

#: ``label_value -> (name, (r, g, b))``: the session colour table in the form readers take.
ColorLookup = Mapping[int, tuple[str, tuple[int, int, int]]]

#: Loads the image behind a volume source (the server passes ``ImageCache.get``).
Loader = Callable[[VolumeSource], Image]

#: Drawing order of the layers inside one viewport (session-format §6.3).
_ROLE_ORDER = {"Background": 0, "Foreground": 1, "Label": 2, "Segmentation": 3}
_LABEL_TYPES = frozenset({"LabelMap", "Segmentation", "RTStruct"})
_UNSAFE_KEY = re.compile(r"[^A-Za-z0-9_-]")


def volume_key(image: SessionImage, layer: int = 0) -> str:
    """URL-safe key of an image (and segmentation layer) within its page.

    Image IDs are unique per path on a page (rule SK417), so the ID identifies the file; the
    key is the ID with unsafe characters replaced by ``_``, its page position, and the layer.

    Examples
    --------
    >>> from sessionkit.session.model import Location
    >>> volume_key(SessionImage(id="CT 1", type="Volume", index=2, location=Location("s.xml")), 0)
    'i2-CT_1-L0'
    """
    return f"i{image.index}-{_UNSAFE_KEY.sub('_', image.id)}-L{layer}"


def visible_segments(image: SessionImage, segments: tuple[Segment, ...]) -> set[str]:
    """IDs of the segments ``ROIVisibilityCode`` shows (session-format §6.4).

    ``All`` (or no ``ROIs`` element): every segment; ``None``: none; ``Select``: the listed names;
    ``Ignore``: every segment except the listed names. A name matches a segment's name exactly
    (case-sensitive); when no name matches, the segment ID is tried. Names that match nothing
    are ignored here (reported at load time as SK810).
    """
    code = image.roi_visibility_code or "All"
    all_ids = {segment.segment_id for segment in segments}
    if code == "All":
        return all_ids
    if code == "None":
        return set()
    listed: set[str] = set()
    for roi in image.rois:
        match = next((s for s in segments if s.name == roi), None) or next(
            (s for s in segments if s.segment_id == roi), None
        )
        if match is not None:
            listed.add(match.segment_id)
    return listed if code == "Select" else all_ids - listed


def volume_sources(page: Page) -> list[VolumeSource]:
    """One source per distinct ``Path`` of the page (layer 0; further label layers come from the file).

    Elements sharing a path share their ID (rule SK416), so the first element names the key.
    """
    by_path: dict[str, VolumeSource] = {}
    for image in page.images:
        by_path.setdefault(
            image.path,
            VolumeSource(
                key=volume_key(image),
                path=image.path,
                image_type=image.type,
                label=image.type in _LABEL_TYPES,
                dicom_read=image.dicom_read,
            ),
        )
    return list(by_path.values())


def shown_segmentation(image: SessionImage, loaded: Segmentation) -> Segmentation:
    """``loaded`` with only the segments ``image``'s ``ROIVisibilityCode`` shows.

    Parameters
    ----------
    image : SessionImage
        The session's label image (its ``ROIs``, see :func:`visible_segments`).
    loaded : Segmentation
        The file behind it.

    Returns
    -------
    Segmentation
        Same ``layers`` array (not copied) and grid; ``segments`` reduced to the shown ones, so
        whatever converts it segment by segment (a starting contour) never paints a hidden one
        (clarifications C13).
    """
    shown = visible_segments(image, loaded.segments)
    return replace(loaded, segments=tuple(s for s in loaded.segments if s.segment_id in shown))


def _label_layers(
    image: SessionImage, source: VolumeSource, loaded: Image, outline: bool
) -> tuple[list[SceneLayer], list[VolumeSource]]:
    """Scene layers (one per segmentation layer) of a LabelMap/Segmentation/RTStruct image.

    Only the segments ``ROIVisibilityCode`` shows are listed, and each layer's source keeps only
    their label values (:attr:`VolumeSource.shown_labels`): hidden segments never leave the server.
    """
    if not isinstance(loaded, Segmentation):
        raise SegmentationError(
            f"{source.path}: Image Type {source.image_type!r} needs a label image, but the file is a {loaded.kind}"
        )
    shown = shown_segmentation(image, loaded).segments
    layers: list[SceneLayer] = []
    sources: list[VolumeSource] = []
    for layer_index in range(loaded.layers.shape[0]):
        key = volume_key(image, layer_index)
        segments = tuple(
            SceneSegment(s.segment_id, s.name, s.label_value, s.color) for s in shown if s.layer == layer_index
        )
        sources.append(
            VolumeSource(
                key,
                source.path,
                source.image_type,
                label=True,
                layer=layer_index,
                dicom_read=image.dicom_read,
                shown_labels=frozenset(s.label_value for s in segments),
            )
        )
        layers.append(
            SceneLayer(
                image_id=image.id,
                volume_key=key,
                kind="labelmap",
                role=image.effective_layer,
                opacity=LABEL_FILL_OPACITY,
                segments=segments,
                outline=outline,
            )
        )
    return layers, sources


def resolve_page(session: Session, page: Page, load: Loader) -> Scene:
    """Resolve one page into a :class:`Scene`.

    Parameters
    ----------
    session : Session
        The session (for ``ContourVisibility``).
    page : Page
        The page to show.
    load : callable
        ``load(VolumeSource) -> Volume | Segmentation``; called for label images only (their
        segment tables decide the colours and visibility). ``LabelMap`` sources must be loaded
        with the session colour table (D6) by the loader.

    Returns
    -------
    Scene
        Viewports in the layout's order (Red, Yellow, Green, Slice4), only those that show
        something; images sent to a viewport the layout lacks are left out (warning SK415 at
        load time). Within a viewport: Background, Foreground, Label, Segmentation layers.

    Raises
    ------
    ImageReadError
        From the loader, when a label image cannot be read.
    """
    layout = page.effective_layout
    outline = session.effective_contour_visibility == "Outline"
    base_sources = {source.path: source for source in volume_sources(page)}
    all_sources: dict[str, VolumeSource] = {}
    views: list[SceneView] = []
    for destination in LAYOUT_VIEWPORTS[layout]:
        images = sorted(
            (image for image in page.images if image.effective_destination == destination),
            key=lambda image: _ROLE_ORDER[image.effective_layer],
        )
        if not images:
            continue
        layers: list[SceneLayer] = []
        for image in images:
            source = base_sources[image.path]
            if image.type in _LABEL_TYPES:
                label_layers, label_sources = _label_layers(image, source, load(source), outline)
                layers.extend(label_layers)
                all_sources.update({s.key: s for s in label_sources})
                continue
            role = image.effective_layer
            layers.append(
                SceneLayer(
                    image_id=image.id,
                    volume_key=source.key,
                    kind="volume",
                    role=role,
                    opacity=image.effective_opacity if role == "Foreground" else 1.0,
                    colormap=image.color_table or "Grey",
                    window_level=image.window_level,
                    sequence=image.type == "VolumeSequence",
                )
            )
            all_sources[source.key] = source
        background = next((image for image in images if image.effective_layer == "Background"), images[0])
        views.append(
            SceneView(
                destination=destination,
                orientation=background.effective_orientation,
                layers=tuple(layers),
                zoom_factor=background.zoom_factor or 1.0,
                initial_slice_offset=background.initial_slice_offset,
                pan_origin=background.pan_origin,
            )
        )
    return Scene(
        page_index=page.index,
        page_id=page.id,
        layout=layout,
        link_views=page.link_views,
        contour_visibility=session.effective_contour_visibility,
        views=tuple(views),
        volumes=tuple(all_sources.values()),
    )
