"""The binary serves health and readiness, and JSON errors for unknown routes."""
import requests


def test_health_and_ready(tracefeed):
    assert requests.get(tracefeed.url + "/healthz").json() == {"status": "ok"}
    assert requests.get(tracefeed.url + "/readyz").status_code == 200


def test_unknown_route_is_json_404(tracefeed):
    r = requests.get(tracefeed.url + "/api/v1/nope")
    assert r.status_code == 404
    assert r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
