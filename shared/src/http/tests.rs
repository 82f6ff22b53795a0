use super::*;

const RATING_FAILED: Failure = Failure::internal("RATING_STORAGE_FAILED", "Failed to store rating");
const HEALTH_FAILED: Failure =
    Failure::unavailable("DEPENDENCY_UNAVAILABLE", "The database did not answer");

fn body_of(response: &Response<Body>) -> Value {
    match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap(),
        other => panic!("unexpected body {other:?}"),
    }
}

#[test]
fn a_store_failure_is_reported_with_the_endpoint_code_and_no_internals() {
    let err = ApiError::Chat(ChatError::Store(crate::store::StoreError::Request(
        "secret internals".into(),
    )));
    let response = respond(&Config::for_table("t"), RATING_FAILED, Err(err));
    assert_eq!(response.status(), 500);
    let body = body_of(&response);
    assert_eq!(body["error"]["code"], "RATING_STORAGE_FAILED");
    assert!(!body.to_string().contains("secret"));
}

#[test]
fn an_unavailable_store_is_a_503_with_retry_after_from_every_endpoint() {
    for failure in [
        RATING_FAILED,
        HEALTH_FAILED,
        Failure::internal("LOGIN_FAILED", "Failed to sign in"),
    ] {
        let err = ApiError::Chat(ChatError::Store(StoreError::Unavailable(
            "throttled: secret internals".into(),
        )));
        let response = respond(&Config::for_table("t"), failure, Err(err));
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["retry-after"], "1");
        let body = body_of(&response);
        assert_eq!(body["error"]["code"], "SERVICE_UNAVAILABLE");
        assert!(!body.to_string().contains("secret"));
    }
    let locked = ApiError::Auth(AdminAuthError::TooManyAttempts {
        retry_after_seconds: 840,
    });
    let response = respond(&Config::for_table("t"), RATING_FAILED, Err(locked));
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "840");
    assert_eq!(body_of(&response)["error"]["code"], "TOO_MANY_ATTEMPTS");
}

#[test]
fn field_errors_name_the_field() {
    let err = ApiError::bad_request(
        InputCode::InvalidRatingData,
        "rating",
        "Rating must be 1 to 5",
    );
    let response = respond(&Config::for_table("t"), RATING_FAILED, Err(err));
    assert_eq!(response.status(), 400);
    assert_eq!(
        body_of(&response),
        json!({"success": false, "error": {"code": "INVALID_RATING_DATA", "message": "Rating must be 1 to 5", "details": {"field": "rating"}}})
    );
}

#[test]
fn success_wraps_data_and_message() {
    let response = respond(
        &Config::for_table("t"),
        HEALTH_FAILED,
        Ok(Reply::new(json!({"ok": true}), "Healthy")),
    );
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(
        body_of(&response),
        json!({"success": true, "data": {"ok": true}, "message": "Healthy"})
    );
}
