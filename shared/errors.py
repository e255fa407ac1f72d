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


class BadRequestError(SynapseError):
    status_code = 400
    code = "bad_request"


class ValidationError(SynapseError):
    status_code = 422
    code = "validation_error"


class UnsafeArtifactError(ValidationError):
    code = "unsafe_artifact"


class AuthenticationError(SynapseError):
    status_code = 401
    code = "unauthenticated"


class PermissionDeniedError(SynapseError):
    status_code = 403
    code = "forbidden"


class NotFoundError(SynapseError):
    status_code = 404
    code = "not_found"


class ConflictError(SynapseError):
    status_code = 409
    code = "conflict"


class PayloadTooLargeError(SynapseError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaTypeError(SynapseError):
    status_code = 415
    code = "unsupported_media_type"


class ServiceUnavailableError(SynapseError):
    status_code = 503
    code = "service_unavailable"


class UpstreamError(SynapseError):
    status_code = 502
    code = "bad_gateway"
