"""OpenAPI pieces every Django service shares: the Problem schema and its error responses."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from services.django_project.errors import PROBLEM_CONTENT_TYPE

# What each status means across the platform; a view declares the ones it can return.
ERROR_DESCRIPTIONS = {
    400: "malformed JSON (`malformed_json`) or a body nested too deeply (`bad_request`)",
    404: "no such resource (`not_found`)",
    409: "the change conflicts with the resource's state (`conflict`)",
    413: "request body too large (`payload_too_large`)",
    415: "the body is not application/json (`unsupported_media_type`)",
    422: "invalid input (`validation_error`); `details` lists each error with its `loc`",
    502: "a service this one calls answered with an error (`bad_gateway`)",
    503: "a service this one calls is unavailable or not configured (`service_unavailable`)",
}
# Statuses any operation that reads a JSON body can answer with, besides its own.
BODY_ERRORS = (400, 413, 415, 422)


class ProblemSerializer(serializers.Serializer):
    """The platform's error body: a stable code, a message and optional structured details."""

    error = serializers.CharField(help_text="stable snake_case error code")
    detail = serializers.CharField(help_text="human-readable message")
    details = serializers.JSONField(required=False, help_text="structured data, if any")


def problems(*statuses: int) -> dict[Any, OpenApiResponse]:
    """Return extend_schema responses declaring each status with the Problem body."""
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, description=ERROR_DESCRIPTIONS[status]
        )
        for status in sorted(set(statuses))
    }
