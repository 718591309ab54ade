def test_unknown_api_path_answers_404_envelope(api_client):
    response = api_client.get("/api/v1/no-such-thing", HTTP_X_REQUEST_ID="abc-123")
    assert response.status_code == 404
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert body["request_id"] == "abc-123"
    assert response["X-Request-Id"] == "abc-123"
