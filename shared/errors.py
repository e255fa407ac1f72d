"""One error hierarchy for the platform; each error knows its HTTP status."""

from __future__ import annotations

from typing import Any


class SynapseError(Exception):
    """Base error: carries an HTTP status, a stable code and optional details."""

    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_problem(self) -> dict[str, Any]:
        """Return the JSON problem body the services send for this error."""
        body: dict[str, Any] = {"error": self.code, "detail": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body

    def headers(self) -> dict[str, str]:
        """Return the response headers this error adds to its problem (none by default)."""
        return {}


class BadRequestError(SynapseError):
    """Raised when a request is malformed."""

    status_code = 400
    code = "bad_request"


class ValidationError(SynapseError):
    """Raised when input is well-formed but invalid."""

    status_code = 422
    code = "validation_error"


class UnsafeArtifactError(ValidationError):
    """Raised when a model artifact is refused as unsafe to load."""

    code = "unsafe_artifact"


class AuthenticationError(SynapseError):
    """Raised when a caller is not authenticated."""

    status_code = 401
    code = "unauthenticated"


class PermissionDeniedError(SynapseError):
    """Raised when a caller may not perform the operation."""

    status_code = 403
    code = "forbidden"


class NotFoundError(SynapseError):
    """Raised when the requested resource does not exist."""

    status_code = 404
    code = "not_found"


class ConflictError(SynapseError):
    """Raised when a change conflicts with the resource's current state."""

    status_code = 409
    code = "conflict"


class PayloadTooLargeError(SynapseError):
    """Raised when a request body is larger than allowed."""

    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaTypeError(SynapseError):
    """Raised when a request body has a content type that is not accepted."""

    status_code = 415
    code = "unsupported_media_type"


class TooManyRequestsError(SynapseError):
    """Raised when a service is at capacity; callers may retry after ``retry_after`` seconds."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        """Return the Retry-After header (whole seconds, as HTTP requires)."""
        return {"Retry-After": str(self.retry_after)}


class ServiceUnavailableError(SynapseError):
    """Raised when a dependency is down or not ready."""

    status_code = 503
    code = "service_unavailable"


class UpstreamError(SynapseError):
    """Raised when an upstream service answers with an error."""

    status_code = 502
    code = "bad_gateway"
