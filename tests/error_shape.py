"""The error shape of docs/errors.md, checked the same way by every test that expects a refusal."""


def assert_error_json(response, status: int, code: str) -> dict:
    """`response` answers `status` with {"code", "errors": {field: [{message, code}]}}."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"code", "errors"}, body
    assert body["code"] == code, body
    assert body["errors"], body
    for field, problems in body["errors"].items():
        assert isinstance(field, str)
        assert problems
        for problem in problems:
            assert set(problem) == {"message", "code"}, problem
            assert problem["message"] and isinstance(problem["message"], str)
            assert problem["code"] and isinstance(problem["code"], str)
    return body["errors"]
