"""The reader server: Starlette routes (clarifications C1), access checks (C7), uvicorn runner."""

from sessionkit.server.app import create_app
from sessionkit.server.run import check_bind, check_port, is_loopback, serve

__all__ = ["check_bind", "check_port", "create_app", "is_loopback", "serve"]
