"""Image-scope rules SK501–SK524 (validation-rules.md §2; SK524 is a sessionkit addition, issue #7)."""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter

from sessionkit.session.findings import Findings, image_name
from sessionkit.session.model import Page, SessionImage

#: Slicer lookup tables accepted in ``Image@ColorTable`` (session-format §6.1).
COLOR_TABLES = frozenset(
    [
        "Grey",
        "Iron",
        "Rainbow",
        "Ocean",
        "Desert",
        "InvertedGrey",
        "ReverseRainbow",
        "FullRainbow",
        "fMRI",
        "fMRIPA",
        "Random",
        "Red",
        "Green",
        "Blue",
        "Yellow",
        "Cyan",
        "Magenta",
        "Warm1",
        "Warm2",
        "Warm3",
        "Cool1",
        "Cool2",
        "Cool3",
        "WarmShade1",
        "WarmShade2",
        "WarmShade3",
        "CoolShade1",
        "CoolShade2",
        "CoolShade3",
        "WarmTint1",
        "WarmTint2",
        "WarmTint3",
        "CoolTint1",
        "CoolTint2",
        "CoolTint3",
        "RandomIntegers",
        "RedGreenBlue",
        "PET-Heat",
        "PET-Rainbow",
        "PET-MaximumIntensityProjection",
        "dGEMRIC-1.5T",
        "dGEMRIC-3T",
        "LightPaleChartColors",
        "DarkBrightChartColors",
        "MediumChartColors",
        "ColdToHotRainbow",
        "HotToColdRainbow",
        "Viridis",
        "Magma",
        "Inferno",
        "Plasma",
        "Cividis",
        "DivergingBlueRed",
        "Slicer3_2010_Label_Colors",
        "Slicer3_2010_Brain_Labels",
        "PelvisColor",
        "SPL-BrainAtlas-ColorFile",
        "SPL-BrainAtlas-2009-ColorFile",
        "SPL-BrainAtlas-2012-ColorFile",
        "AbdomenColors",
        "GenericColors",
        "GenericAnatomyColors",
        "64Color-Nonsemantic",
    ]
)
#: Layers each image Type may use (session-format §6.3).
ALLOWED_LAYERS: dict[str, tuple[str, ...]] = {
    "Volume": ("Background", "Foreground"),
    "VolumeSequence": ("Background", "Foreground"),
    "Vector": ("Background",),
    "LabelMap": ("Label",),
    "Segmentation": ("Segmentation",),
    "RTStruct": ("Segmentation",),
}
VECTOR_EXTENSIONS = ("png", "bmp", "jpg", "jpeg", "pdf", "dcm")
#: Attributes that act only on some layers (SK519, D7).
_LAYER_SCOPED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Opacity", ("Foreground",)),
    ("InitialSliceOffset", ("Background",)),
    ("ZoomFactor", ("Background",)),
    ("PanOrigin", ("Background",)),
    ("WindowLevel", ("Background", "Foreground")),
    ("ColorTable", ("Background", "Foreground")),
    ("RotateToAcquisition", ("Background", "Foreground")),
)
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_DRIVE = re.compile(r"^[A-Za-z]:")


def path_escape_reason(path: str) -> str | None:
    """Why a normalised ``Path`` may not be used (SK503), or ``None`` when it stays inside the root."""
    if path.startswith("//"):
        return "a UNC path"
    if path.startswith("/"):
        return "an absolute path"
    if _DRIVE.match(path):
        return "a drive letter"
    if _URL.match(path):
        return "a URL scheme"
    depth = 0
    for part in path.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return "'..' climbing above its root folder"
        elif part not in ("", "."):
            depth += 1
    return None


def _path_rules(page: Page, image: SessionImage, name: str, out: Findings) -> None:
    location = image.path_location or image.location
    if "Path" in image.children and not image.path:
        out.add("SK502", f"{name}: Path is empty", location, page=page)
        return
    if not image.path:
        return
    reason = path_escape_reason(image.path)
    if reason:
        out.add(
            "SK503",
            f"{name}: Path '{image.raw_path.strip()}' is {reason}",
            location,
            page=page,
            found=image.raw_path,
            expected="path relative to the images root",
        )
    if image.raw_path != image.raw_path.strip(" \t\r\n"):
        out.add(
            "SK504",
            f"{name}: Path {image.raw_path!r} has leading or trailing whitespace (trimmed)",
            location,
            page=page,
            found=image.raw_path,
        )


def _structure_rules(page: Page, image: SessionImage, name: str, out: Findings) -> None:
    loc = image.location
    valid_type = "Type" not in image.invalid
    if "DefaultDestination" not in image.children:
        out.add("SK505", f"{name}: DefaultDestination is absent; Red is used", loc, page=page, expected="Red")
    if "Layer" not in image.children and valid_type:
        out.add(
            "SK506",
            f"{name}: Layer is absent; {image.effective_layer} (from Type '{image.type}') is used",
            loc,
            page=page,
            expected=image.effective_layer,
        )
    if "DefaultOrientation" not in image.children and image.type in ("Volume", "VolumeSequence", "Vector"):
        out.add("SK507", f"{name}: DefaultOrientation is absent; Axial is used", loc, page=page, expected="Axial")
    if valid_type and image.layer is not None and image.layer not in ALLOWED_LAYERS[image.type]:
        allowed = ALLOWED_LAYERS[image.type]
        out.add(
            "SK508",
            f"{name}: Layer '{image.layer}' does not match Type '{image.type}' (expected {' or '.join(allowed)})",
            loc,
            page=page,
            found=image.layer,
            expected=list(allowed),
            hint=f"set <Layer>{allowed[0]}</Layer> or change Type",
        )
    rois_loc = image.rois_location or loc
    code = image.roi_visibility_code
    if image.type in ("Segmentation", "RTStruct") and not image.has_rois_element:
        out.add("SK509", f"{name}: {image.type} image without ROIs", loc, page=page)
    if code in ("Select", "Ignore") and not image.rois:
        out.add("SK510", f"{name}: ROIVisibilityCode '{code}' without any ROI child", rois_loc, page=page, found=code)
    if image.has_rois_element and image.type in ("Volume", "VolumeSequence", "Vector"):
        out.add("SK511", f"{name}: ROIs on a {image.type} image are ignored", rois_loc, page=page, found=image.type)
    elif code in ("All", "None") and image.rois:
        out.add(
            "SK511",
            f"{name}: ROI children under ROIVisibilityCode '{code}' are ignored",
            rois_loc,
            page=page,
            found=code,
        )
    if len(set(image.rois)) == len(image.rois) and all(image.rois):
        return
    for roi, count in Counter(image.rois).items():
        if not roi:
            out.add("SK512", f"{name}: empty ROI name", rois_loc, page=page, subject="")
        elif count > 1:
            out.add(
                "SK512", f"{name}: ROI '{roi}' is listed {count} times", rois_loc, page=page, subject=roi, found=roi
            )


def _type_rules(page: Page, image: SessionImage, name: str, out: Findings) -> None:
    loc = image.location
    layer = image.effective_layer
    if image.type == "Vector" and image.path:
        extension = image.path.rsplit(".", 1)[-1].lower() if "." in image.path.rsplit("/", 1)[-1] else ""
        if extension not in VECTOR_EXTENSIONS:
            out.add(
                "SK513",
                f"{name}: Vector image extension '{extension}' is not one of {', '.join(VECTOR_EXTENSIONS)}",
                image.path_location or loc,
                page=page,
                found=extension,
                expected=list(VECTOR_EXTENSIONS),
            )
        elif extension == "pdf":
            out.add(
                "SK514",
                f"{name}: Vector image is a PDF and is shown as a placeholder",
                image.path_location or loc,
                page=page,
            )
    if image.segment_required and image.type == "Vector":
        out.add("SK515", f'{name}: SegmentRequired="Y" on a Vector image', loc, attribute="SegmentRequired", page=page)
    elif image.segment_required and layer in ("Label", "Segmentation") and "Layer" not in image.invalid:
        out.add(
            "SK516",
            f'{name}: SegmentRequired="Y" on a {layer} layer image',
            loc,
            attribute="SegmentRequired",
            page=page,
            found=layer,
        )
    if image.min_markup_lines_required is not None and layer in ("Label", "Segmentation"):
        out.add(
            "SK517",
            f"{name}: MinMarkupLinesRequired on a {layer} layer image",
            loc,
            attribute="MinMarkupLinesRequired",
            page=page,
            found=layer,
        )
    for attribute, value in (("InitialSliceOffset", image.initial_slice_offset), ("ZoomFactor", image.zoom_factor)):
        if value is not None and (not math.isfinite(value) or (attribute == "ZoomFactor" and value <= 0)):
            out.add(
                "SK518",
                f"{name}: {attribute} '{value:g}' is not a usable number"
                + (" (must be > 0)" if attribute == "ZoomFactor" else ""),
                loc,
                attribute=attribute,
                page=page,
                found=value,
            )
    if image.pan_origin is not None and not all(math.isfinite(v) for v in image.pan_origin):
        out.add(
            "SK518",
            f"{name}: PanOrigin {image.pan_origin} has a non-finite value",
            loc,
            attribute="PanOrigin",
            page=page,
            found=list(image.pan_origin),
        )


def _effect_rules(page: Page, image: SessionImage, name: str, out: Findings) -> None:
    loc = image.location
    layer = image.effective_layer
    if "Layer" in image.invalid or "Type" in image.invalid:
        return
    for attribute, layers in _LAYER_SCOPED:
        if attribute in image.attributes and layer not in layers:
            out.add(
                "SK519",
                f"{name}: {attribute} has no effect on a {layer} image (applies to {' and '.join(layers)})",
                loc,
                attribute=attribute,
                page=page,
                found=layer,
                expected=list(layers),
            )
    if image.color_table is not None and image.color_table not in COLOR_TABLES:
        close = difflib.get_close_matches(image.color_table, sorted(COLOR_TABLES), n=3, cutoff=0.5)
        out.add(
            "SK520",
            f"{name}: ColorTable '{image.color_table}' is not a known lookup table; Grey is used"
            + (f" (closest: {', '.join(close)})" if close else ""),
            loc,
            attribute="ColorTable",
            page=page,
            found=image.color_table,
            expected=close,
        )
    if image.window_level is not None and image.window_level[0] <= 0:
        out.add(
            "SK521",
            f"{name}: WindowLevel window {image.window_level[0]} is not positive",
            loc,
            attribute="WindowLevel",
            page=page,
            found=image.window_level[0],
            expected="> 0",
        )
    if image.type == "RTStruct" and not image.dicom_read:
        out.add("SK522", f'{name}: RTStruct without DicomRead="Y" (read as DICOM anyway)', loc, page=page)
    if image.type not in ("Volume", "VolumeSequence"):
        for attribute in ("LabelMapID", "DisplayLabelMapID", "MergeLabelMaps"):
            if attribute in image.attributes:
                out.add(
                    "SK523",
                    f"{name}: {attribute} on a {image.type} image is ignored (only Volume and "
                    "VolumeSequence images carry reader label maps)",
                    loc,
                    attribute=attribute,
                    page=page,
                    found=image.type,
                )
    if image.starting_contour_id is not None and image.type not in ("Volume", "VolumeSequence"):
        out.add(
            "SK524",
            f"{name}: StartingContourID on a {image.type} image is ignored (readers draw only on Volume "
            "and VolumeSequence images)",
            loc,
            attribute="StartingContourID",
            page=page,
            found=image.type,
        )


def check_image(page: Page, image: SessionImage, out: Findings) -> None:
    """Run SK501–SK524 on one image of a page."""
    name = image_name(page, image)
    if "ID" in image.attributes and not image.id.strip():
        out.add("SK501", f"{name}: Image ID is empty", image.location, attribute="ID", page=page, found=image.id)
    _path_rules(page, image, name, out)
    _structure_rules(page, image, name, out)
    _type_rules(page, image, name, out)
    _effect_rules(page, image, name, out)
