//! The one error type every route answers with: a status and a JSON [`ErrorBody`].
//!
//! Client errors (4xx) say what is wrong and are not logged as failures; internal errors are
//! logged with their cause and answered with a generic sentence.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use zonepatrol_shared::protocol::{ErrorBody, ErrorCode};

use crate::store::StoreError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: ErrorBody,
    /// Seconds to wait before trying again, sent as `Retry-After`.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a code; the status follows from the code.
    pub fn new(error: ErrorCode, message: impl Into<String>) -> ApiError {
        let status = match error {
            ErrorCode::BadRequest | ErrorCode::BadChanges => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::WrongOffset => StatusCode::CONFLICT,
            ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::HashMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError {
            status,
            body: ErrorBody {
                error,
                message: message.into(),
            },
            retry_after: None,
        }
    }

    /// 400 bad request.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::BadRequest, message)
    }

    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Unauthorized, message)
    }

    /// 429: this name must wait `wait` before its password is checked again.
    pub fn too_many_attempts(wait: std::time::Duration) -> ApiError {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let minutes = seconds.div_ceil(60);
        ApiError {
            retry_after: Some(seconds),
            ..ApiError::new(
                ErrorCode::TooManyAttempts,
                format!(
                    "too many wrong passwords for this name: wait {minutes} min and try again, \
                     or ask an admin to set a new password"
                ),
            )
        }
    }

    /// 503: the server is busy; try again after `seconds`.
    pub fn busy(seconds: u64, message: impl Into<String>) -> ApiError {
        ApiError {
            retry_after: Some(seconds),
            ..ApiError::new(ErrorCode::Busy, message)
        }
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::NotFound, message)
    }

    /// 500, logging the cause.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "internal error");
        ApiError::new(
            ErrorCode::Internal,
            "the server failed to do this; nothing was lost on your side: try again later",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Busy(_) => ApiError::busy(
                5,
                "the server is busy with other writes: try again in a few seconds",
            ),
            e => ApiError::internal(&e),
        }
    }
}

impl From<crate::reports::ReportError> for ApiError {
    fn from(e: crate::reports::ReportError) -> ApiError {
        match e {
            crate::reports::ReportError::Store(e) => e.into(),
            e => ApiError::internal(&e),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> ApiError {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                ErrorCode::TooLarge,
                "the request is larger than the server takes: send fewer documents at a time",
            )
        } else {
            ApiError::bad_request(format!(
                "the request body is not valid: {}",
                rejection.body_text()
            ))
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unauthorized = self.status == StatusCode::UNAUTHORIZED;
        let mut response = (self.status, Json(self.body)).into_response();
        if unauthorized {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
