"""The Scene: what one page shows, as plain JSON-ready data (ARCHITECTURE §1).

A :class:`Scene` lists the page's viewports (``Red``/``Green``/``Yellow``/``Slice4``); each
:class:`SceneView` has an orientation and an ordered list of :class:`SceneLayer` (background first,
then foreground, label map and segmentation overlays). Every layer names a ``volume_key``: the server
serves that image as NIfTI at ``/api/runs/{run_id}/volumes/{volume_key}.nii.gz`` and the
:class:`VolumeSource` in ``Scene.volumes`` says which file (and which segmentation layer) it is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

LayerKind = Literal["volume", "labelmap"]

#: 2-D fill opacity of label and segmentation layers: Slicer's default, the outline drawn opaque
#: (clarifications C13). The reader's opacity resets to it on each page.
LABEL_FILL_OPACITY = 0.5


@dataclass(frozen=True)
class SceneSegment:
    """A segment the viewer shows: label value in its layer volume, colour.

    Only segments ``ROIVisibilityCode`` shows become SceneSegments; hidden ones never leave the
    server (clarifications C13).
    """

    segment_id: str
    name: str
    label_value: int
    color: tuple[int, int, int]


@dataclass(frozen=True)
class VolumeSource:
    """Where a ``volume_key`` comes from.

    Attributes
    ----------
    key : str
        URL-safe key, unique within the page.
    path : str
        Image path relative to the images root, ``/`` separators (as in the session, normalised).
    image_type : str
        Session ``Image@Type`` (selects the reader).
    label : bool
        True when the volume is a label map (encoded with NIFTI_INTENT_LABEL).
    layer : int
        Segmentation layer index (0 for single-layer files and volumes).
    dicom_read : bool
        Session ``Image@DicomRead``.
    shown_labels : frozenset of int or None
        Label values of the layer that ``ROIVisibilityCode`` shows; every other voxel of the layer
        is encoded as 0, so hidden segments never reach the browser (clarifications C13). ``None``
        for scalar volumes (encoded whole). Part of the encoded-volume cache key.
    """

    key: str
    path: str
    image_type: str
    label: bool
    layer: int = 0
    dicom_read: bool = False
    shown_labels: frozenset[int] | None = None


@dataclass(frozen=True)
class SceneLayer:
    """One image drawn in one viewport.

    ``role`` is the session ``Layer`` (Background, Foreground, Label, Segmentation). ``opacity``
    is 1 for Background, ``Image@Opacity`` (default 0.5) for Foreground, and for label layers
    the fill opacity :data:`LABEL_FILL_OPACITY` (their outline is opaque). ``colormap`` is a
    Slicer colour-table name for scalar layers.
    ``segments`` lists the segments of a label layer that ``ROIVisibilityCode`` shows, with their
    colours (hidden ones are absent here and zero in the layer's volume).
    ``window_level`` is ``(window, level)`` or ``None`` (automatic). ``sequence`` is True for a
    ``VolumeSequence`` (4-D: the viewer shows a frame slider).
    """

    image_id: str
    volume_key: str
    kind: LayerKind
    role: str
    opacity: float
    colormap: str = "Grey"
    window_level: tuple[int, int] | None = None
    segments: tuple[SceneSegment, ...] = ()
    outline: bool = False
    sequence: bool = False

    def colormap_label(self) -> dict[str, list[Any]]:
        """Niivue label colour table ``{R, G, B, A, I, labels}`` of the shown segments.

        Value 0 is transparent background. Segments sharing a label value (different layers)
        never meet here: a layer's volume carries one layer only.
        """
        table: dict[str, list[Any]] = {"R": [0], "G": [0], "B": [0], "A": [0], "I": [0], "labels": [""]}
        for segment in sorted(self.segments, key=lambda s: s.label_value):
            red, green, blue = segment.color
            table["R"].append(red)
            table["G"].append(green)
            table["B"].append(blue)
            table["A"].append(255)
            table["I"].append(segment.label_value)
            table["labels"].append(segment.name)
        return table


@dataclass(frozen=True)
class SceneView:
    """One viewport: destination, slice orientation, layers (background first).

    ``zoom_factor``, ``pan_origin`` (LPS mm, the viewport centre after zoom) and
    ``initial_slice_offset`` (mm along the viewport normal, RAS sign as in Slicer) come from the
    viewport's Background image only (D7).
    """

    destination: str
    orientation: str
    layers: tuple[SceneLayer, ...]
    zoom_factor: float = 1.0
    initial_slice_offset: float | None = None
    pan_origin: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class Scene:
    """Everything the viewer needs to display one page."""

    page_index: int
    page_id: str
    layout: str
    link_views: bool
    contour_visibility: str
    views: tuple[SceneView, ...]
    volumes: tuple[VolumeSource, ...]

    def volume(self, key: str) -> VolumeSource | None:
        """The source of ``key``, or ``None`` when the page has no such volume."""
        return next((v for v in self.volumes if v.key == key), None)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict; each label layer also carries its Niivue ``colormap_label``."""
        data = asdict(self)
        for volume in data["volumes"]:
            shown = volume["shown_labels"]
            volume["shown_labels"] = None if shown is None else sorted(shown)
        for view_data, view in zip(data["views"], self.views, strict=True):
            for layer_data, layer in zip(view_data["layers"], view.layers, strict=True):
                layer_data["colormap_label"] = layer.colormap_label() if layer.kind == "labelmap" else None
        return data
