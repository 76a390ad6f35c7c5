"""MLflow ↔ tracefeed: an MLflow labeling-store plugin (registered for http/https tracking URIs
through the ``mlflow.labeling_store`` entry point, so ``mlflow.genai.labeling`` works unchanged
against a tracefeed server) and a few helpers for what MLflow's OSS client cannot say.

See README.md beside this package.
"""

from __future__ import annotations

from typing import Any, Literal

from tracefeed_mlflow.store import TracefeedLabelingStore

__all__ = ["TracefeedLabelingStore", "create_label_schema", "delete_label_schema", "get_label_schema"]


def create_label_schema(
    name: str,
    *,
    type: Literal["feedback", "expectation"],
    title: str,
    input: Any,
    instruction: str | None = None,
    enable_comment: bool = False,
    overwrite: bool = False,
    tracking_uri: str | None = None,
):
    """``mlflow.genai.label_schemas.create_label_schema`` with the Databricks signature — ``title``
    and ``overwrite`` included, which MLflow's OSS client refuses on a non-Databricks URI — against
    tracefeed's ``POST /api/v1/label-schemas``. Also takes InputCategoricalList / InputTextList.
    Returns MLflow's ``LabelSchema`` (``schema_id`` is the name)."""
    return TracefeedLabelingStore(tracking_uri).create_label_schema(
        name,
        type=type,
        title=title,
        input=input,
        instruction=instruction,
        enable_comment=enable_comment,
        overwrite=overwrite,
    )


def get_label_schema(name: str, *, tracking_uri: str | None = None):
    """A schema by name, any input kind (``GET /api/v1/label-schemas/{name}``)."""
    return TracefeedLabelingStore(tracking_uri).get_label_schema(name)


def delete_label_schema(name: str, *, tracking_uri: str | None = None) -> None:
    """Deletes a schema by name (409 while a session uses it or when the config file defines it)."""
    TracefeedLabelingStore(tracking_uri).delete_label_schema(name)
