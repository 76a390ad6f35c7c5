"""tracefeed's labeling store for MLflow.

MLflow 3.x (OSS) has labeling sessions only for Databricks; everything else goes through
``mlflow.genai.labeling.stores.LabelingStoreRegistry``, which picks a store by the tracking URI's
scheme from the ``mlflow.labeling_store`` entry points. This package registers
:class:`TracefeedLabelingStore` for ``http`` and ``https``, so with
``MLFLOW_TRACKING_URI=http://<tracefeed>`` the unmodified MLflow calls work::

    mlflow.genai.labeling.create_labeling_session(...)   # POST   /api/v1/labeling-sessions
    mlflow.genai.labeling.get_labeling_sessions()          # GET    /api/v1/labeling-sessions
    mlflow.genai.labeling.get_labeling_session(run_id)     # (by the session's mlflow_run_id)
    mlflow.genai.labeling.delete_labeling_session(s)       # DELETE /api/v1/labeling-sessions/{id}
    session.add_traces(df_or_list)                         # POST   …/{id}/items {trace_ids}
    session.sync(to_dataset="name")                        # completed items → POST /api/v1/datasets/{name}/records

Requests go through MLflow's own HTTP layer (``mlflow.utils.rest_utils.http_request``) with
MLflow's credentials for the URI (``get_default_host_creds``): ``MLFLOW_TRACKING_TOKEN`` as a
bearer token, or ``MLFLOW_TRACKING_USERNAME``/``MLFLOW_TRACKING_PASSWORD`` as HTTP Basic, the
same TLS settings (``MLFLOW_TRACKING_INSECURE_TLS``, ``MLFLOW_TRACKING_SERVER_CERT_PATH``, ...)
and retries as MLflow's tracking client.

Errors are ``MlflowException``\\ s carrying tracefeed's error code and message (which names the
field at fault, e.g. ``label_schemas[0]: label schema "nope" does not exist``).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from mlflow.entities import Trace
from mlflow.exceptions import MlflowException
from mlflow.genai.label_schemas.label_schemas import (
    InputCategorical,
    InputCategoricalList,
    InputNumeric,
    InputPassFail,
    InputText,
    InputTextList,
    LabelSchema,
    LabelSchemaType,
)
from mlflow.genai.labeling.labeling import LabelingSession
from mlflow.genai.labeling.stores import AbstractLabelingStore
from mlflow.protos.databricks_pb2 import (
    ENDPOINT_NOT_FOUND,
    INVALID_PARAMETER_VALUE,
    RESOURCE_DOES_NOT_EXIST,
)

_SESSIONS = "/api/v1/labeling-sessions"
_SCHEMAS = "/api/v1/label-schemas"
_DATASETS = "/api/v1/datasets"
# tracefeed adds at most this many traces per POST …/items.
_MAX_ITEMS_PER_REQUEST = 10_000
# … and at most this many trace ids per POST /api/v1/datasets/{name}/records.
_MAX_DATASET_TRACES_PER_REQUEST = 1000
REVIEW_APP_ID = "tracefeed"


def _quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


class TracefeedLabelingStore(AbstractLabelingStore):
    """Labeling sessions and label schemas kept by a tracefeed server (its labeling role).

    Built by MLflow's registry with the resolved tracking URI; holds no connection state, so it is
    cheap to build per call (which is what MLflow does).
    """

    def __init__(self, tracking_uri: str | None = None) -> None:
        super().__init__(tracking_uri)
        if tracking_uri is None:
            from mlflow.tracking._tracking_service.utils import _resolve_tracking_uri

            tracking_uri = _resolve_tracking_uri(None)
        self._tracking_uri = tracking_uri.rstrip("/")

    # ---- HTTP ----------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, json: Any = None, params: Any = None,
              expected: int = 200) -> dict:
        from mlflow.utils.credentials import get_default_host_creds
        from mlflow.utils.rest_utils import http_request, verify_rest_response

        response = http_request(
            get_default_host_creds(self._tracking_uri), path, method, json=json, params=params
        )
        if response.status_code == 404 and "no route for" in response.text:
            raise MlflowException(
                f"{self._tracking_uri} does not serve {method} {path}: tracefeed-mlflow needs a "
                "tracefeed server running the labeling role (`tracefeed run` or "
                "`tracefeed labeling`)",
                error_code=ENDPOINT_NOT_FOUND,
            )
        if response.status_code != expected:
            _use_mlflow_error_code(response)
        verify_rest_response(response, path, expected_status=expected)
        return response.json() if response.text.strip() else {}

    # ---- conversions -----------------------------------------------------------------------

    def _session(self, d: dict) -> LabelingSession:
        url = d.get("url") or ""
        if url.startswith("/"):  # the server knows no external base URL: use the one we reached
            url = self._tracking_uri + url
        return LabelingSession(
            name=d["name"],
            assigned_users=list(d.get("assigned_users") or []),
            agent=None,
            label_schemas=list(d.get("label_schemas") or []),
            labeling_session_id=d["labeling_session_id"],
            mlflow_run_id=d["mlflow_run_id"],
            review_app_id=REVIEW_APP_ID,
            experiment_id=str(d.get("experiment_id") or "0"),
            url=url,
            enable_multi_turn_chat=False,
            custom_inputs=None,
        )

    def _fetch(self, labeling_session: LabelingSession) -> LabelingSession:
        return self._session(
            self._call("GET", f"{_SESSIONS}/{_quote(labeling_session.labeling_session_id)}")
        )

    # ---- sessions --------------------------------------------------------------------------

    def get_labeling_session(self, run_id: str) -> LabelingSession:
        for session in self.get_labeling_sessions():
            if run_id in (session.mlflow_run_id, session.labeling_session_id):
                return session
        raise MlflowException(
            f"Labeling session with run_id `{run_id}` not found", error_code=RESOURCE_DOES_NOT_EXIST
        )

    def get_labeling_sessions(self, experiment_id: str | None = None) -> list[LabelingSession]:
        sessions = [self._session(d) for d in self._call("GET", _SESSIONS).get("labeling_sessions", [])]
        if experiment_id is not None:
            sessions = [s for s in sessions if s.experiment_id == str(experiment_id)]
        return sessions

    def create_labeling_session(
        self,
        name: str,
        *,
        assigned_users: list[str] | None = None,
        agent: str | None = None,
        label_schemas: list[str] | None = None,
        enable_multi_turn_chat: bool = False,
        custom_inputs: dict[str, Any] | None = None,
        experiment_id: str | None = None,
    ) -> LabelingSession:
        unsupported = [
            arg
            for arg, given in (
                ("agent", agent is not None),
                ("enable_multi_turn_chat", enable_multi_turn_chat),
                ("custom_inputs", bool(custom_inputs)),
            )
            if given
        ]
        if unsupported:
            raise MlflowException(
                f"{', '.join(unsupported)}: not supported by tracefeed's labeling sessions "
                "(reviewers label recorded traces; no agent is called)",
                error_code=INVALID_PARAMETER_VALUE,
            )
        if experiment_id is None:
            # As mlflow does for runs: the active experiment, MLFLOW_EXPERIMENT_ID, or "0". The
            # session's run lives there, so search_traces(run_id=...) finds it.
            from mlflow.tracking.fluent import _get_experiment_id

            experiment_id = _get_experiment_id() or "0"
        body = {
            "name": name,
            "label_schemas": list(label_schemas or []),
            "assigned_users": list(assigned_users or []),
            "experiment_id": str(experiment_id),
        }
        return self._session(self._call("POST", _SESSIONS, json=body, expected=201))

    def delete_labeling_session(self, labeling_session: LabelingSession) -> None:
        self._call("DELETE", f"{_SESSIONS}/{_quote(labeling_session.labeling_session_id)}")

    def add_traces_to_session(
        self, labeling_session: LabelingSession, traces: list[Trace]
    ) -> LabelingSession:
        ids = []
        for i, trace in enumerate(traces):
            trace_id = trace if isinstance(trace, str) else getattr(trace.info, "trace_id", None)
            if not trace_id:
                raise MlflowException(f"traces[{i}]: no trace id", error_code=INVALID_PARAMETER_VALUE)
            ids.append(trace_id)
        path = f"{_SESSIONS}/{_quote(labeling_session.labeling_session_id)}/items"
        for start in range(0, len(ids), _MAX_ITEMS_PER_REQUEST):
            self._call("POST", path, json={"trace_ids": ids[start : start + _MAX_ITEMS_PER_REQUEST]})
        return self._fetch(labeling_session)

    def add_dataset_to_session(
        self,
        labeling_session: LabelingSession,
        dataset_name: str,
        record_ids: list[str] | None = None,
    ) -> LabelingSession:
        raise MlflowException(
            "add_dataset: not supported by tracefeed; add the dataset's traces with "
            "session.add_traces(mlflow.search_traces(...))",
            error_code=INVALID_PARAMETER_VALUE,
        )

    def sync_session_expectations(self, labeling_session: LabelingSession, dataset: str) -> None:
        """The session's completed items → tracefeed evaluation dataset `dataset` (created if
        needed), each record with its trace's expectations (e.g. the experts' expected_response).

        Lists the completed items (GET …/items?status=completed) and adds their traces
        (POST /api/v1/datasets/{name}/records {trace_ids}), so it works whichever tracefeed
        process serves the datasets; adding is idempotent, so syncing again only updates."""
        from mlflow.utils.credentials import get_default_host_creds
        from mlflow.utils.rest_utils import http_request, verify_rest_response

        created = http_request(
            get_default_host_creds(self._tracking_uri), _DATASETS, "POST", json={"name": dataset}
        )
        if created.status_code != 409:  # 409: it exists already
            verify_rest_response(created, _DATASETS, expected_status=201)
        items = f"{_SESSIONS}/{_quote(labeling_session.labeling_session_id)}/items"
        trace_ids, token = [], None
        while True:
            params = {"status": "completed", "max_results": 1000}
            if token:
                params["page_token"] = token
            page = self._call("GET", items, params=params)
            trace_ids += [i["trace_id"] for i in page.get("items", [])]
            token = page.get("next_page_token")
            if not token:
                break
        records = f"{_DATASETS}/{_quote(dataset)}/records"
        for start in range(0, len(trace_ids), _MAX_DATASET_TRACES_PER_REQUEST):
            self._call("POST", records,
                       json={"trace_ids": trace_ids[start : start + _MAX_DATASET_TRACES_PER_REQUEST]})

    def set_session_assigned_users(
        self, labeling_session: LabelingSession, assigned_users: list[str]
    ) -> LabelingSession:
        raise MlflowException(
            "set_assigned_users: not supported by tracefeed (a session's assigned users are fixed "
            "when it is created); create a new session with the users",
            error_code=INVALID_PARAMETER_VALUE,
        )

    # ---- label schemas (the Databricks-style signature: name-keyed, with title/overwrite) ----

    def get_label_schema(self, name: str) -> LabelSchema:
        return schema_from_tracefeed(self._call("GET", f"{_SCHEMAS}/{_quote(name)}"))

    def create_label_schema(
        self,
        name: str,
        *,
        type: str,
        title: str,
        input: Any,
        instruction: str | None = None,
        enable_comment: bool = False,
        overwrite: bool = False,
    ) -> LabelSchema:
        body = {
            "name": name,
            "type": str(LabelSchemaType(str(type))),
            "title": title,
            "instruction": instruction or "",
            "enable_comment": bool(enable_comment),
            "input": input_to_tracefeed(input),
            "overwrite": bool(overwrite),
        }
        return schema_from_tracefeed(self._call("POST", _SCHEMAS, json=body, expected=201))

    def delete_label_schema(self, name: str) -> None:
        self._call("DELETE", f"{_SCHEMAS}/{_quote(name)}")


def _use_mlflow_error_code(response) -> None:
    """tracefeed answers {"error_code", "message"} with mostly MLflow's codes; one it names
    differently (CONFLICT, PAYLOAD_TOO_LARGE) would reach the caller as INTERNAL_ERROR, so it is
    replaced by MLflow's code for the HTTP status (409 → RESOURCE_CONFLICT)."""
    import json

    from mlflow.protos.databricks_pb2 import ErrorCode
    from mlflow.exceptions import get_error_code

    try:
        body = response.json()
    except ValueError:
        return
    if not isinstance(body, dict) or body.get("error_code") in ErrorCode.keys():
        return
    by_status = {409: "RESOURCE_CONFLICT", 413: "INVALID_PARAMETER_VALUE"}
    body["error_code"] = by_status.get(response.status_code) or ErrorCode.Name(
        get_error_code(response.status_code)
    )
    response._content = json.dumps(body).encode()


def input_to_tracefeed(input_obj: Any) -> dict:
    """An MLflow input dataclass → tracefeed's `input` ({<kind>: {...}})."""

    def drop_none(d: dict) -> dict:
        return {k: v for k, v in d.items() if v is not None}

    if isinstance(input_obj, InputCategorical):
        kind = "categorical_list" if input_obj.multi_select else "categorical"
        return {kind: {"options": list(input_obj.options)}}
    if isinstance(input_obj, InputCategoricalList):
        return {"categorical_list": {"options": list(input_obj.options)}}
    if isinstance(input_obj, InputText):
        return {"text": drop_none({"max_length": input_obj.max_length})}
    if isinstance(input_obj, InputTextList):
        return {"text_list": drop_none({"max_length_each": input_obj.max_length_each,
                                        "max_count": input_obj.max_count})}
    if isinstance(input_obj, InputNumeric):
        return {"numeric": drop_none({"min_value": input_obj.min_value, "max_value": input_obj.max_value})}
    if isinstance(input_obj, InputPassFail):
        return {"pass_fail": {"positive_label": input_obj.positive_label,
                              "negative_label": input_obj.negative_label}}
    raise MlflowException(
        f"input: unsupported label schema input {type(input_obj).__name__}",
        error_code=INVALID_PARAMETER_VALUE,
    )


def schema_from_tracefeed(d: dict) -> LabelSchema:
    """tracefeed's schema JSON → MLflow's LabelSchema (schema_id = the name)."""
    (kind, spec), = d["input"].items()
    if kind == "categorical":
        input_obj = InputCategorical(options=list(spec["options"]))
    elif kind == "categorical_list":
        input_obj = InputCategoricalList(options=list(spec["options"]))
    elif kind == "text":
        input_obj = InputText(max_length=spec.get("max_length"))
    elif kind == "text_list":
        input_obj = InputTextList(max_length_each=spec.get("max_length_each"), max_count=spec.get("max_count"))
    elif kind == "numeric":
        input_obj = InputNumeric(min_value=spec.get("min_value"), max_value=spec.get("max_value"))
    else:
        input_obj = InputPassFail(positive_label=spec["positive_label"], negative_label=spec["negative_label"])
    return LabelSchema(
        name=d["name"],
        type=LabelSchemaType(d["type"]),
        input=input_obj,
        instruction=d.get("instruction") or None,
        enable_comment=bool(d.get("enable_comment")),
        schema_id=d["name"],
    )
