//! The page and its files, compiled into the binary: no build step, no
//! CDN, nothing fetched at run time, so it works offline in a classroom.
//! The files live in `web/static/`, plain HTML, CSS and JavaScript.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Name, content type and contents of each file under `/static/`.
const FILES: [(&str, &str, &str); 4] = [
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../static/style.css"),
    ),
    (
        "figure.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/figure.js"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/app.js"),
    ),
    (
        "zones.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/zones.js"),
    ),
];

const INDEX: &str = include_str!("../static/index.html");

/// `GET /`: the page.
pub async fn index() -> Response {
    file_response("text/html; charset=utf-8", INDEX)
}

/// `GET /static/{file}`.
pub async fn file(Path(name): Path<String>) -> Result<Response, ApiError> {
    FILES
        .iter()
        .find(|(file, _, _)| *file == name)
        .map(|(_, content_type, body)| file_response(content_type, body))
        .ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                format!("no such file: /static/{name}"),
            )
        })
}

fn file_response(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, content_type),
            // The binary may change under the same URL (a rebuild): always
            // revalidate, which on loopback costs nothing.
            (CACHE_CONTROL, "no-cache"),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}
