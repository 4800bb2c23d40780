"""Page resolver: a session page plus loaded images become a :class:`Scene` (views, layers, segments)."""

from sessionkit.scene.loading import ImageCache, color_lookup, resolve_image_path
from sessionkit.scene.model import Scene, SceneLayer, SceneSegment, SceneView, VolumeSource
from sessionkit.scene.resolve import resolve_page, visible_segments, volume_key

__all__ = [
    "ImageCache",
    "Scene",
    "SceneLayer",
    "SceneSegment",
    "SceneView",
    "VolumeSource",
    "color_lookup",
    "resolve_image_path",
    "resolve_page",
    "visible_segments",
    "volume_key",
]
