"""The one exception tree of nbcluster. No I/O.

Every error a user can cause is one of these, with a message worded like
Kubernetes' API server or kubectl. Foreign errors (Docker, OS, YAML) are converted
at the boundary that meets them (``raise NotFound(...) from exc``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = [
    "AlreadyExists",
    "ApplyFailed",
    "BadRequest",
    "CauseType",
    "Conflict",
    "FieldError",
    "Forbidden",
    "Gone",
    "NbClusterError",
    "NotFound",
    "RuntimeUnavailable",
    "Timeout",
    "UnknownResource",
    "UsageError",
    "ValidationError",
    "YAMLError",
]


class NbClusterError(Exception):
    """Base of every error nbcluster raises on purpose (never a bug)."""

    #: Kubernetes' ``Status.reason`` for this error.
    reason: str = "InternalError"
    #: HTTP status code the API server would answer with.
    code: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(NbClusterError):
    """``pods "web" not found``."""

    reason = "NotFound"
    code = 404


class AlreadyExists(NbClusterError):
    """``pods "web" already exists``."""

    reason = "AlreadyExists"
    code = 409


class Conflict(NbClusterError):
    """A write carried a stale resourceVersion (optimistic concurrency)."""

    reason = "Conflict"
    code = 409


class Gone(NbClusterError):
    """A watch asked for a resourceVersion older than the store still remembers."""

    reason = "Expired"
    code = 410


class BadRequest(NbClusterError):
    """The request itself is malformed (bad patch, bad selector...)."""

    reason = "BadRequest"
    code = 400


class Forbidden(NbClusterError):
    """Refused by admission (e.g. creating in a terminating namespace)."""

    reason = "Forbidden"
    code = 403


class Timeout(NbClusterError):
    """A wait ran out of time."""

    reason = "Timeout"
    code = 504


class RuntimeUnavailable(NbClusterError):
    """A container runtime (Docker daemon, process supervisor) does not answer."""

    reason = "ServiceUnavailable"
    code = 503


class UsageError(NbClusterError):
    """A kubectl-style command line that does not parse (unknown verb or flag)."""

    reason = "BadRequest"
    code = 400


class UnknownResource(NbClusterError):
    """``the server doesn't have a resource type "deploymnets"`` (+ a suggestion)."""

    reason = "NotFound"
    code = 404

    def __init__(self, name: str, suggestion: str | None = None) -> None:
        message = f'the server doesn\'t have a resource type "{name}"'
        if suggestion:
            message += f"\ndid you mean {suggestion}?"
        super().__init__(message)
        self.name = name
        self.suggestion = suggestion


class CauseType(str, Enum):
    """Kubernetes' field.ErrorType wording (``field.Required`` -> "Required value")."""

    REQUIRED = "Required value"
    INVALID = "Invalid value"
    UNSUPPORTED = "Unsupported value"
    FORBIDDEN = "Forbidden"
    DUPLICATE = "Duplicate value"
    NOT_FOUND = "Not found"
    TOO_LONG = "Too long"
    TOO_MANY = "Too many"
    UNKNOWN_FIELD = "unknown field"
    TYPE = "Invalid type"


_NO_VALUE = object()


@dataclass(frozen=True)
class FieldError:
    """One problem at one field path, e.g. ``spec.containers[0].image``.

    ``str()`` reads like Kubernetes' ``field.Error``:
    ``spec.replicas: Invalid value: -1: must be greater than or equal to 0``.
    """

    path: str
    type: CauseType
    detail: str = ""
    value: Any = field(default=_NO_VALUE, compare=False)

    def __str__(self) -> str:
        if self.type is CauseType.UNKNOWN_FIELD:
            return f'unknown field "{self.path}"'
        text = f"{self.path}: {self.type.value}"
        if self.value is not _NO_VALUE and self.type in (
            CauseType.INVALID,
            CauseType.UNSUPPORTED,
            CauseType.DUPLICATE,
            CauseType.NOT_FOUND,
            CauseType.TYPE,
        ):
            text += f": {_render_value(self.value)}"
        if self.detail:
            text += f": {self.detail}"
        return text


def _render_value(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class ValidationError(NbClusterError):
    """An object that fails validation; carries every problem at once.

    ``str()`` reads like the API server's 422 answer::

        The Deployment "web" is invalid:
        * spec.replicas: Invalid value: -1: must be greater than or equal to 0
        * spec.template.metadata.labels: Invalid value: ...: `selector` does not match
    """

    reason = "Invalid"
    code = 422

    def __init__(self, kind: str, name: str, errors: list[FieldError]) -> None:
        self.kind = kind
        self.name = name
        # The schema and the semantic checks can find the same problem: say it once.
        self.errors = list(dict.fromkeys(errors))
        if len(self.errors) == 1:
            message = f'{kind} "{name}" is invalid: {self.errors[0]}'
        else:
            lines = "\n".join(f"* {e}" for e in self.errors)
            message = f'{kind} "{name}" is invalid: \n{lines}'
        if self.errors and all(e.type is CauseType.UNKNOWN_FIELD for e in self.errors):
            # kubectl's strict decoding wording.
            unknown = ", ".join(str(e) for e in self.errors)
            message = f'error validating {kind} "{name}": strict decoding error: {unknown}'
        super().__init__(message)

    @property
    def paths(self) -> list[str]:
        return [e.path for e in self.errors]


class YAMLError(NbClusterError):
    """Broken YAML: names the source, the document number, line and column (1-based)."""

    reason = "BadRequest"
    code = 400

    def __init__(
        self,
        problem: str,
        *,
        source: str = "<input>",
        document: int | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.problem = problem
        self.source = source
        self.document = document
        self.line = line
        self.column = column
        where = source
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        doc = f" (document {document})" if document is not None else ""
        super().__init__(f"error parsing {where}{doc}: {problem}")


class ApplyFailed(NbClusterError):
    """Some documents of a multi-document apply failed; the others were applied.

    ``results`` holds kubectl's lines for those that worked (``pod/x created``),
    ``failures`` (document index, object description, error) for those that did not.
    """

    reason = "Invalid"
    code = 422

    def __init__(self, results: list[str], failures: list[tuple[int, str, NbClusterError]]) -> None:
        self.results = list(results)
        self.failures = list(failures)
        lines = list(self.results)
        for index, what, err in self.failures:
            lines.append(f"Error from server ({err.reason}) in document {index + 1} ({what}): {err}")
        super().__init__("\n".join(lines))
