"""Exceptions raised by todo_core (defined in Python so they can subclass ValueError)."""

from __future__ import annotations

from typing import Any, Dict, List

__all__ = ["TodoError", "ValidationError", "EventError"]


class TodoError(Exception):
    """Base class of every error raised by todo_core."""


class ValidationError(TodoError, ValueError):
    """Input that the core rejects, with every rejected field, as in the HTTP error body.

    ``details`` lists ``{"field", "code", "message"}`` dicts in the order the core checked them;
    ``field``, ``code`` and ``message`` are those of the first one. ``status`` is the HTTP status
    the server answers with: 400 for a value that breaks its rule, 422 for input of the wrong
    shape (not an object, an unknown field, a value of the wrong JSON type).
    """

    error_code = "VALIDATION_ERROR"

    def __init__(self, details: List[Dict[str, str]], status: int = 400) -> None:
        self.details: List[Dict[str, str]] = [dict(d) for d in details]
        self.status: int = status
        first = self.details[0] if self.details else {"field": "body", "code": "invalid_value", "message": "invalid input"}
        self.field: str = first["field"]
        self.code: str = first["code"]
        self.message: str = first["message"]
        super().__init__(details, status)

    def __str__(self) -> str:
        return "; ".join(f"{d['field']}: {d['message']} ({d['code']})" for d in self.details)

    def __repr__(self) -> str:
        return f"ValidationError({self.details!r}, status={self.status})"

    def to_dict(self) -> Dict[str, Any]:
        """The HTTP error body: ``{"error": {"code", "message", "details"}}``."""
        return {
            "error": {
                "code": self.error_code,
                "message": str(self),
                "details": [dict(d) for d in self.details],
            }
        }


class EventError(TodoError, ValueError):
    """An event that todo-events rejects. ``code`` routes it: ``NOT_JSON``, ``INVALID_VERSION``,
    ``UNSUPPORTED_VERSION``, ``UNKNOWN_EVENT_TYPE``, ``MALFORMED`` (the contract's codes)."""

    def __init__(self, code: str, message: str) -> None:
        self.code: str = code
        self.message: str = message
        super().__init__(code, message)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
