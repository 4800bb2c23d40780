# ruff: noqa: E501  (rule-table text is kept verbatim, one string per cell)
"""Load-time rule table (validation-rules.md §2): code -> severity, scope, condition, hint, origin.

The single source for the checks in this package, for ``docs/errors.md`` and for the report formats.
Codes SK424 (IDs colliding after file-name mapping, clarifications C3), SK820 (colour ids above 255
with drawing enabled, C9), SK425-SK427/SK524 (``Image@StartingContourID``, issue #7) and SK211 (a
sessionkit extension under ``--dialect iq``, issue #12) are sessionkit additions to the table.

Dialects: ``sessionkit`` (the default) reports every code with the severity of the table; ``iq``
fails where Image Quizzer 3.4.3 refuses to run: the codes of :data:`IQ_ERRORS` become errors (same
code, message and location) and every name of :data:`IQ_UNKNOWN` is reported as SK211.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sessionkit.errors import Severity


@dataclass(frozen=True)
class Rule:
    """One row of the rule table."""

    code: str
    severity: Severity
    scope: str
    condition: str
    hint: str
    origin: str


#: Validation dialects: the first is the default.
DIALECTS: tuple[str, ...] = ("sessionkit", "iq")
Dialect = Literal["sessionkit", "iq"]
#: Warnings that are errors under ``--dialect iq`` (Image Quizzer 3.4.3 refuses such a file).
IQ_ERRORS = frozenset({"SK301", "SK505", "SK506", "SK507", "SK701", "SK707"})
#: sessionkit extensions unknown to Image Quizzer 3.4.3's ImageQuizzer.xsd, as (element, attribute);
#: attribute ``None`` means the element itself (reported as SK211 under ``--dialect iq``).
IQ_UNKNOWN: tuple[tuple[str, str | None], ...] = (("Image", "StartingContourID"),)

#: Rows in table order: code, severity, scope, condition, hint, origin.
# fmt: off
_TABLE: tuple[tuple[str, Severity, str, str, str, str], ...] = (
    ('SK101', 'error', 'file', 'Session file missing, not a regular file, or unreadable', 'check the path and permissions', 'V1, V74, V75'),
    ('SK102', 'error', 'file', 'XML not well-formed', 'fix the markup at that position (unclosed tag, bare & or <)', 'V2'),
    ('SK103', 'error', 'file', 'Bytes not decodable in the declared or detected encoding, or encoding unsupported', 'save the file as UTF-8', 'new'),
    ('SK104', 'error', 'file', 'A DOCTYPE declaration is present (DTD, internal subset, entity declarations)', 'delete the DOCTYPE; sessions need none (prevents external-entity and entity-expansion attacks)', 'new'),
    ('SK105', 'error', 'file', 'Input exceeds a safety limit (default: 32 MiB file, depth 64, 10⁶ elements, 1 MiB text or attribute)', 'split the session or raise the limit in server config', 'new'),
    ('SK106', 'error', 'file', 'Root element is not Session (or is namespaced)', 'make <Session> the root, without xmlns', 'V3, S1'),
    ('SK107', 'error', 'file', "sessionkit's bundled schemas/session.xsd cannot be loaded", 'reinstall sessionkit (exit code 2)', 'V5'),
    ('SK201', 'error', 'any', 'Element not in the dialect, or not allowed under this parent', 'rename or move it; pre-2.0 names: Destination→DefaultDestination, Orientation→DefaultOrientation', 'S11'),
    ('SK202', 'error', 'any', 'Attribute not defined for this element', 'rename (e.g. Description→Descriptor) or move (EnableSegmentEditor, AllowMultipleResponse belong to Page; SegmentRequired to Image)', 'S11'),
    ('SK203', 'error', 'any', 'Mandatory child missing: Session without Page; Page without QuestionSet; Image without Path', 'add it, e.g. <QuestionSet/> after the last Image', 'S2, S3, S6, V24'),
    ('SK204', 'error', 'any', 'Child out of order or above its maximum: Image after a QuestionSet; 2nd Path/Layer/DefaultDestination/DefaultOrientation/ROIs in an Image; RandomizedPageGroupIndices not after the last Page or repeated', 'move or delete the extra element', 'S2, S3, S6, V25, V45'),
    ('SK205', 'error', 'any', 'Required attribute absent: Page@ID, Image@ID, Image@Type, ROIs@ROIVisibilityCode, Question@Type', 'add the attribute', 'S4, S5, S7, S8, V18, V21, V22, V46'),
    ('SK206', 'error', 'any', 'Value not in its enumeration (Y/N flags, Layout, ContourVisibility, image Type, Layer, DefaultDestination, DefaultOrientation, ROIVisibilityCode, question Type, GroupLayout), incl. wrong case, empty or padded', 'use one of the listed values exactly', 'S9, V6, V23, V27, V29, V31, V36, V47, R11'),
    ('SK207', 'error', 'any', 'Value not of the required lexical type: PageGroup integer; MinMarkupLinesRequired(OnAnyImage) positive integer; ContourToolRadius, InitialSliceOffset, ZoomFactor, Opacity float; PanOrigin floats; WindowLevel and button colours integers; RandomizedPageGroupIndices comma list', 'write a plain number, e.g. PageGroup="2"', 'S10, V17, V33, V34, V59, V71'),
    ('SK208', 'error', 'any', 'List attribute has the wrong number of items (PanOrigin 3, WindowLevel 2, ButtonCustomColorOn / ButtonToggleColorOff 3)', 'give exactly that many space-separated numbers', 'S10, V32'),
    ('SK209', 'error', 'any', "Number outside its type's range: Opacity not in [0, 1]; MinMarkupLinesRequired(OnAnyImage) < 1; integer beyond 32 bits", 'omit the attribute instead of writing 0', 'S10, V35'),
    ('SK210', 'error', 'any', 'Non-whitespace text directly inside Session, Page, Image, ROIs, QuestionSet or Question', 'delete the stray text or move it into an Option', 'S1–S8'),
    ('SK211', 'error', 'any', 'With --dialect iq only: an element or attribute that is a sessionkit extension unknown to Image Quizzer 3.4.3\'s XSD (' + ', '.join(f'{e}@{a}' if a else e for e, a in IQ_UNKNOWN) + ')', 'remove it for Image Quizzer, or validate with the default --dialect sessionkit', 'new (issue #12)'),
    ('SK301', 'warning', 'session', 'ROIColorFile ends with .txt (the extension is stripped)', 'write only the stem; IQ rejects the extension', 'V13'),
    ('SK302', 'error', 'session', 'ROIColorFile contains a path separator, .., drive letter or is absolute', 'put the colour file next to the session file and give its stem', 'new'),
    ('SK303', 'warning', 'session', 'EmailResultsTo is set; sessionkit sends no results e-mail', 'remove it, or configure a completion notice on the server', 'V7, V8'),
    ('SK304', 'warning', 'session', 'File contains results-only items (UserName, PageComplete, Rep, State, LabelMapPath, MarkupLinePath, Response, Login); they are ignored', "use the administrator's original file, not a reader's results copy", 'new'),
    ('SK401', 'error', 'page', 'Page@ID empty or whitespace only', 'give the page a non-empty ID', 'V18'),
    ('SK402', 'error', 'page', 'Page@ID contains a forbidden character (" \' # & { } \\ < > * ? / $ ! : @ +  ~ % ^ ( ) = , |)', 'use letters, digits, space, -, _, .', 'V19'),
    ('SK403', 'error', 'page', 'Page@Descriptor contains a forbidden character (same set)', 'as SK402', 'V20'),
    ('SK404', 'warning', 'page', 'ID or Descriptor not portable as a Windows folder name: leading/trailing space or dot, control character, reserved name (CON, PRN, AUX, NUL, COM1–9, LPT1–9)', 'trim or rename', 'new'),
    ('SK405', 'warning', 'page', 'Two pages share ID, Descriptor and effective PageGroup (identical results folder; ambiguous loop siblings)', 'make the Descriptors differ', 'new'),
    ('SK406', 'warning', 'page', 'Page@ID ends with -Rep<digits> (reserved for repeated copies)', 'rename the page', 'new'),
    ('SK407', 'error', 'page', 'SegmentRequiredOnAnyImage="Y" or an image SegmentRequired="Y" while EnableSegmentEditor≠"Y"', 'set EnableSegmentEditor="Y"', 'V53'),
    ('SK408', 'error', 'page', 'SegmentRequiredOnAnyImage="Y" together with an image SegmentRequired="Y"', 'keep only one of the two', 'V54'),
    ('SK409', 'error', 'page', 'Images with the same Path differ in SegmentRequired (absent = N)', 'use the same value on every element of that path', 'V55'),
    ('SK410', 'error', 'page', 'MinMarkupLinesRequiredOnAnyImage present together with an image MinMarkupLinesRequired', 'keep only one of the two', 'V57'),
    ('SK411', 'error', 'page', 'Images with the same Path differ numerically in MinMarkupLinesRequired (absent = 0)', 'use the same number on every element', 'V58'),
    ('SK412', 'error', 'page', 'Requirement that can never be met: SegmentRequiredOnAnyImage="Y" on a page without a Volume/VolumeSequence image, or MinMarkupLinesRequiredOnAnyImage on a page without a Background/Foreground image', 'remove the requirement or add a suitable image', 'new'),
    ('SK413', 'error', 'page', 'Page has images but none in the Red viewport (absent DefaultDestination counts as Red)', 'put the main image on Red', 'V65'),
    ('SK414', 'error', 'page', 'An image on Slice4 while Layout≠TwoOverTwo', 'set Layout="TwoOverTwo" or change the destination', 'V60'),
    ('SK415', 'warning', 'page', "An image's destination is not shown by the Layout (Green/Yellow on OneUpRedSlice; Green on SideBySideRedYellow)", 'change destination or Layout', 'new'),
    ('SK416', 'error', 'page', 'One Path used with different Image IDs on the page', 'give all elements of that path the same ID', 'V67'),
    ('SK417', 'error', 'page', 'One Image ID used with different Paths on the page', 'use distinct IDs for distinct files', 'V68'),
    ('SK418', 'error', 'page', 'ButtonScriptRerunRequired="Y" without AllowMultipleResponse="Y"', 'set AllowMultipleResponse="Y"', 'V61'),
    ('SK419', 'warning', 'page', 'ButtonScriptRerunRequired="Y" on a page without a Button question', 'remove the attribute', 'new'),
    ('SK420', 'warning', 'page', 'ContourToolRadius set while EnableSegmentEditor≠"Y", or ≤ 0 or non-finite (default radius used)', 'remove it or enable drawing', 'new'),
    ('SK421', 'warning', 'page', 'A Foreground, Label or Segmentation image in a viewport without a Background image', 'add a Background image there or fix the destination', 'new'),
    ('SK422', 'warning', 'page', "Longest IQ-compatible export path of this page's annotations exceeds 200 characters below the export root (reps up to 99 assumed)", 'shorten Page ID, Descriptor or Image IDs', 'V69'),
    ('SK424', 'error', 'page', 'Two different page folder names (PgGroup, ID, Descriptor) or two Image IDs of one page become the same file name once characters outside [A-Za-z0-9._ -] are replaced by _', 'make the IDs differ in letters or digits, not only in punctuation', 'new (C3)'),
    ('SK425', 'error', 'page', 'StartingContourID names no Image ID of the same page', 'use the ID of a Segmentation, RTStruct or LabelMap image of this page, or fix the spelling', 'new (issue #7)'),
    ('SK426', 'error', 'page', 'StartingContourID names an image that is not a Segmentation, RTStruct or LabelMap', 'point it at the segmentation image the readers start from', 'new (issue #7)'),
    ('SK427', 'warning', 'page', 'StartingContourID on a page without EnableSegmentEditor="Y" (nothing to edit; ignored)', 'set EnableSegmentEditor="Y" or show the segmentation as an overlay only', 'new (issue #7)'),
    ('SK501', 'error', 'image', 'Image@ID empty or whitespace only', 'give the image an ID', 'V21'),
    ('SK502', 'error', 'image', 'Path empty', 'give the file path relative to the images root', 'V66'),
    ('SK503', 'error', 'image', 'Path absolute, with drive letter, UNC prefix or URL scheme, or .. climbs above the images root', 'make the path relative to the images root', 'new'),
    ('SK504', 'warning', 'image', 'Path has leading/trailing whitespace (trimmed; IQ would not find the file)', 'remove the whitespace', 'new (D16)'),
    ('SK505', 'warning', 'image', 'DefaultDestination absent; Red used', 'add it (IQ requires it)', 'V28 (D2)'),
    ('SK506', 'warning', 'image', 'Layer absent; layer derived from Type used', 'add it (IQ requires it)', 'V26 (D2)'),
    ('SK507', 'warning', 'image', 'DefaultOrientation absent on Volume/VolumeSequence/Vector; Axial used', 'add it (IQ requires it)', 'V30 (D2)'),
    ('SK508', 'error', 'image', 'Layer incompatible with Type (Volume/VolumeSequence: Background or Foreground; Vector: Background; LabelMap: Label; Segmentation/RTStruct: Segmentation)', 'change Layer or Type', 'V51'),
    ('SK509', 'error', 'image', 'Segmentation or RTStruct image without ROIs', 'add <ROIs ROIVisibilityCode="All"/>', 'V44'),
    ('SK510', 'error', 'image', 'ROIVisibilityCode Select or Ignore without any ROI child', 'list the segment names, or use All/None', 'V48'),
    ('SK511', 'warning', 'image', 'ROIs on a Volume/VolumeSequence/Vector image, or ROI children under All/None (ignored)', 'remove them', 'new'),
    ('SK512', 'warning', 'image', 'ROI text empty, or the same name listed twice', 'remove the duplicate or empty ROI', 'new'),
    ('SK513', 'error', 'image', 'Vector image extension not png, bmp, jpg, jpeg, pdf or dcm (case-insensitive; none counts as invalid)', 'convert the picture or use Type Volume', 'V49'),
    ('SK514', 'warning', 'image', 'Vector image is a PDF (shown as a placeholder)', 'convert to PNG', 'new'),
    ('SK515', 'error', 'image', 'SegmentRequired="Y" on a Vector image', 'remove it; pictures cannot be drawn on', 'V50'),
    ('SK516', 'error', 'image', 'SegmentRequired="Y" on a Label or Segmentation layer image', 'put it on the underlying Volume', 'V52'),
    ('SK517', 'error', 'image', 'MinMarkupLinesRequired on a Label or Segmentation layer image', 'put it on the underlying Volume', 'V56'),
    ('SK518', 'error', 'image', 'Non-finite number (NaN, INF) in InitialSliceOffset, ZoomFactor or PanOrigin, or ZoomFactor ≤ 0', 'use a finite number (ZoomFactor > 0)', 'new'),
    ('SK519', 'warning', 'image', 'Attribute without effect on this layer: Opacity (not Foreground); InitialSliceOffset, ZoomFactor, PanOrigin (not Background); WindowLevel, ColorTable, RotateToAcquisition (not Background/Foreground)', 'move it to the right image', 'new'),
    ('SK520', 'warning', 'image', 'ColorTable is not a known lookup table; Grey used', 'use a name from the list (case-sensitive)', 'new'),
    ('SK521', 'warning', 'image', 'WindowLevel window ≤ 0', 'use a positive window', 'new'),
    ('SK522', 'warning', 'image', 'RTStruct without DicomRead="Y" (read as DICOM anyway)', 'add DicomRead="Y"', 'new'),
    ('SK523', 'warning', 'image', 'LabelMapID, DisplayLabelMapID or MergeLabelMaps on an image that is not Volume/VolumeSequence (ignored)', 'move it to the drawable image', 'new'),
    ('SK524', 'warning', 'image', 'StartingContourID on an image that is not Volume/VolumeSequence (ignored)', 'move it to the drawable image', 'new (issue #7)'),
    ('SK601', 'warning', 'question', 'Question without Option (shown as a notice, counts as answered)', 'add options or use InfoBox', 'R5'),
    ('SK602', 'error', 'question', "Min or Max not a number of the question's kind (IntegerValue: integer; FloatValue: finite decimal)", 'write a plain number', 'R6'),
    ('SK603', 'error', 'question', 'Min greater than Max', 'swap or fix the bounds', 'new'),
    ('SK604', 'warning', 'question', 'Min/Max on a question that is not IntegerValue/FloatValue (ignored)', 'remove them', 'new'),
    ('SK605', 'warning', 'question', 'GroupLayout on a type other than Radio, CheckBox, Picture (ignored)', 'remove it', 'new'),
    ('SK606', 'warning', 'question', 'ButtonCustomColorOn/ButtonToggleColorOff on a non-Button question (ignored)', 'remove it', 'new'),
    ('SK607', 'warning', 'question', 'Button colour component outside 0–255 (clamped)', 'use 0–255', 'new'),
    ('SK608', 'warning', 'question', 'Empty Option label in a Radio, CheckBox, Text, IntegerValue or FloatValue question', 'write a label', 'new'),
    ('SK609', 'warning', 'question', 'Two Options of one question have the same label', 'make labels distinct', 'new'),
    ('SK610', 'warning', 'question', 'Answerable question (not InfoBox/Picture) without Descriptor', 'add a Descriptor; readers see it in "missing answer" messages', 'new'),
    ('SK611', 'error', 'question', 'Picture or Button option is not a plain relative file name (absolute, drive, .. leaving the session folder)', 'keep pictures in the session folder', 'new'),
    ('SK612', 'warning', 'question', 'Button option names no action registered on the server; the button only records the click', 'register the action, or drop the question', 'V62'),
    ('SK701', 'warning', 'randomization', 'RandomizePageGroups="Y" and a page lacks PageGroup; a new group number is assigned', 'give every page a PageGroup', 'V70'),
    ('SK702', 'error', 'randomization', 'RandomizePageGroups="Y" with fewer than two distinct non-zero PageGroups', 'add groups or set RandomizePageGroups="N"', 'V72'),
    ('SK703', 'warning', 'randomization', 'Negative PageGroup (treated as an ordinary group)', 'use positive numbers', 'new'),
    ('SK704', 'error', 'randomization', 'RandomizedPageGroupIndices lists a group twice (IQ would show its pages twice)', 'list each group once', 'new'),
    ('SK705', 'warning', 'randomization', 'RandomizedPageGroupIndices omits groups used by pages (appended in order of first appearance)', 'list every group', 'new'),
    ('SK706', 'warning', 'randomization', 'RandomizedPageGroupIndices lists a number no page uses (ignored)', 'remove it', 'new'),
    ('SK707', 'warning', 'randomization', "RandomizedPageGroupIndices lists 0 (IQ's schema rejects it; group 0 is always first)", 'omit 0', 'new'),
    ('SK708', 'warning', 'randomization', 'RandomizedPageGroupIndices present while RandomizePageGroups≠"Y" (ignored)', 'remove it or set RandomizePageGroups="Y"', 'new'),
    ('SK709', 'error', 'randomization', 'GoToBookmark target (first token) matches no BookmarkID on an earlier page', 'add the BookmarkID to an earlier page or fix the spelling', 'V16'),
    ('SK710', 'error', 'randomization', 'With randomization, every earlier page carrying the BookmarkID is in another non-zero PageGroup', 'put both pages in one group, or the bookmark page in group 0', 'V16'),
    ('SK711', 'warning', 'randomization', 'GoToBookmark has more than two tokens (extra tokens joined into the label)', 'use "<id> <label>"', 'new'),
    ('SK712', 'warning', 'randomization', 'The same BookmarkID on several pages (jump goes to the most recently visited)', 'use distinct IDs', 'new'),
    ('SK713', 'error', 'randomization', 'DisplayLabelMapID without an image with the same LabelMapID on an earlier page', 'tag the source image with LabelMapID or fix the spelling', 'V15, V39'),
    ('SK714', 'error', 'randomization', 'The earlier LabelMapID is on a different Path', 'redisplay on the same file', 'V15'),
    ('SK715', 'error', 'randomization', 'With randomization, every earlier matching LabelMapID page is in another non-zero PageGroup', 'same group, or source in group 0', 'V15'),
    ('SK716', 'warning', 'randomization', 'Elements sharing a Path on a page disagree on DisplayLabelMapID (some lack it)', 'repeat it on every element of that path', 'new'),
    ('SK717', 'warning', 'randomization', 'The same LabelMapID on images with different Paths', 'use one LabelMapID per image file', 'new'),
    ('SK718', 'error', 'randomization', 'MergeLabelMaps="Y" without DisplayLabelMapID', 'add DisplayLabelMapID', 'V37'),
    ('SK719', 'error', 'randomization', 'MergeLabelMaps="Y" on a page with EnableSegmentEditor, SegmentRequiredOnAnyImage or any SegmentRequired = "Y"', 'no drawing on a merge page', 'V38'),
    ('SK720', 'error', 'randomization', 'MergeLabelMaps source page (nearest earlier matching LabelMapID) lacks Loop="Y"', 'set Loop="Y" on the source page', 'V40'),
    ('SK721', 'error', 'randomization', 'MergeLabelMaps="Y" on a page that itself has Loop="Y"', 'remove Loop from the merge page', 'V41'),
    ('SK722', 'error', 'randomization', 'MergeLabelMaps: neither the page nor the source page has a PageGroup', 'give both the same PageGroup', 'V42'),
    ('SK723', 'error', 'randomization', 'MergeLabelMaps: PageGroup of page and source page differ (numeric comparison)', 'use the same PageGroup', 'V43'),
    ('SK724', 'warning', 'randomization', 'MergeLabelMaps source page lacks EnableSegmentEditor="Y" (nothing to merge)', 'enable drawing on the looped page', 'new'),
    ('SK801', 'error', 'files-on-disk', 'Image file not found under the images root', 'fix the path or the images root', 'V73'),
    ('SK802', 'warning', 'files-on-disk', 'Image file found only with different letter case', 'correct the case', 'new'),
    ('SK803', 'error', 'files-on-disk', 'Path resolves, through a link, outside the images root, or a detached header (.nhdr, .mhd) names a data file outside it', 'move the file under the root', 'new'),
    ('SK804', 'error', 'files-on-disk', 'File unreadable as its Type (decoder error; NRRD or NIfTI data shorter than its header declares, found without decoding; Volume not 2-D/3-D, VolumeSequence not 4-D, Vector not a single grey/RGB slice)', 'convert the file or change Type', 'R1'),
    ('SK805', 'warning', 'files-on-disk', 'LabelMap file has a non-integer voxel type or negative values', 'store label maps as unsigned integers', 'new'),
    ('SK806', 'error', 'files-on-disk', 'DicomRead="Y" but the file is not DICOM, lacks SeriesInstanceUID, or an RTStruct lacks its referenced-series chain', 'point Path at a file of the series', 'R2'),
    ('SK807', 'warning', 'files-on-disk', "RTStruct's referenced series is not among the page's DICOM images", 'add the referenced series to the page', 'R4'),
    ('SK808', 'warning', 'files-on-disk', 'Label map or segmentation grid differs from the Background image of its viewport (size, spacing, origin, direction beyond 10⁻³ mm / 10⁻⁴ rad); it is resampled for display', "export the mask on the image's grid", 'new'),
    ('SK809', 'warning', 'files-on-disk', 'Label map or segmentation does not overlap its Background image at all (nothing visible)', 'check the file pairing', 'new'),
    ('SK810', 'warning', 'files-on-disk', 'ROI name under Select/Ignore matches no segment in the file (segment name or number; RTSTRUCT: ROIName or ROI Number of a contoured ROI; LabelMap: no colour-table name)', 'copy the exact, case-sensitive name', 'new'),
    ('SK811', 'warning', 'files-on-disk', "InitialSliceOffset outside the image extent along the viewport's normal", 'use an offset inside the volume', 'new'),
    ('SK812', 'error', 'files-on-disk', 'ROIColorFile <stem>.txt not found in the session folder', 'place the file next to the session file', 'V9, V14'),
    ('SK813', 'error', 'files-on-disk', 'Colour-file line (not starting with #) does not have exactly 6 tokens; blank lines included', 'write id name r g b a; delete blank lines', 'V10'),
    ('SK814', 'error', 'files-on-disk', 'Colour-file id, r, g, b or a not an integer', 'use integers', 'V11'),
    ('SK815', 'error', 'files-on-disk', 'Colour-file id is 0 (reserved for erase)', 'start ids at 1', 'V12'),
    ('SK816', 'warning', 'files-on-disk', 'Colour-file id repeated (last entry wins)', 'make ids unique', 'new'),
    ('SK817', 'warning', 'files-on-disk', 'Colour component outside 0–255 (clamped), or a name used twice', 'fix the entry', 'new'),
    ('SK818', 'error', 'files-on-disk', 'Picture file not found in the session folder', 'place the picture next to the session file', 'V63'),
    ('SK819', 'error', 'files-on-disk', 'Picture format neither browser-displayable (png, jpg, jpeg, gif, bmp, svg, webp, ico) nor convertible (pbm, pgm, ppm, xbm, xpm, tif, tiff, tga, wbmp, icns)', 'convert to PNG', 'V64'),
    ('SK820', 'error', 'files-on-disk', 'ROIColorFile has an id above 255 while a page has EnableSegmentEditor="Y" (the browser draws 8-bit labels)', 'renumber the colour file ids to 1-255', 'new (C9)'),
)
# fmt: on

RULES: dict[str, Rule] = {row[0]: Rule(*row) for row in _TABLE}


def severity(code: str, dialect: Dialect = "sessionkit") -> Severity:
    """Severity of rule ``code`` in ``dialect`` (``iq`` turns the codes of :data:`IQ_ERRORS` into errors).

    Raises
    ------
    KeyError
        When ``code`` is not in the rule table.
    """
    if dialect == "iq" and code in IQ_ERRORS:
        return "error"
    return RULES[code].severity
