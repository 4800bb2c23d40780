"""The reader server: Starlette routes (clarifications C1), access checks (C7), uvicorn runner."""

from sessionkit.server.app import create_app
from sessionkit.server.run import check_bind, is_loopback, serve

__all__ = ["check_bind", "create_app", "is_loopback", "serve"]
