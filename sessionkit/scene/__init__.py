"""Page resolver: a session page plus loaded images become a :class:`Scene` (views, layers, segments)."""

from sessionkit.scene.model import Scene, SceneLayer, SceneSegment, SceneView, VolumeSource

__all__ = ["Scene", "SceneLayer", "SceneSegment", "SceneView", "VolumeSource"]
