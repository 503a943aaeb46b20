//! `srl view`: a read-only web page on 127.0.0.1 to read trajectories, evaluations and training
//! runs. The page (`page/`: HTML, CSS and plain JavaScript written for it) is compiled into the
//! binary, so it works offline; the server answers the page's `/api/...` requests from a
//! [`catalog::Catalog`] of the paths given on the command line.
//!
//! The URL never names a file: runs, trajectories, steps and groups are addressed by their
//! position in the catalog, so nothing outside the given paths can be reached. A path holding
//! `..` or starting with `//` is refused (403) before routing; anything else unknown is a 404.
//! Requests whose `Host` is not this machine's name are refused (DNS rebinding).
//!
//! Reloading the page rescans the paths (new files, lines appended to files already indexed).

mod api;
mod catalog;
mod lines;
mod train;

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};
use serde_json::Value;

use api::{ApiError, Query};
use catalog::Catalog;

const INDEX_HTML: &str = include_str!("page/index.html");
const APP_CSS: &str = include_str!("page/app.css");
const APP_JS: &str = include_str!("page/app.js");
const TRAJ_JS: &str = include_str!("page/trajectory.js");
const TRAIN_JS: &str = include_str!("page/train.js");

pub struct ViewOptions {
    pub paths: Vec<PathBuf>,
    /// 0 picks a free port.
    pub port: u16,
}

/// A bound, not yet serving, viewer.
pub struct Viewer {
    listener: tokio::net::TcpListener,
    catalog: Arc<Mutex<Catalog>>,
    roots: Arc<Vec<PathBuf>>,
}

impl Viewer {
    /// Scans the paths (so a wrong one is an error before anything is served) and binds.
    pub async fn bind(options: &ViewOptions) -> Result<Viewer> {
        for path in &options.paths {
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        }
        let catalog = Catalog::scan(&options.paths, Catalog::default())?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port)).await.with_context(|| {
            format!("cannot listen on 127.0.0.1:{} (is the port taken? try --port 0)", options.port)
        })?;
        Ok(Viewer { listener, catalog: Arc::new(Mutex::new(catalog)), roots: Arc::new(options.paths.clone()) })
    }

    pub fn url(&self) -> Result<String> {
        Ok(format!("http://{}/", self.listener.local_addr()?))
    }

    /// What the scan found, in one line.
    pub fn summary(&self) -> String {
        // A request that failed mid-scan leaves the catalog to the next scan, which refreshes it.
        let catalog = self.catalog.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let trajectories: usize = catalog.runs.iter().map(|r| catalog.trajectories(r).len()).sum();
        format!(
            "{} runs, {} trajectories, {} unreadable files or records",
            catalog.runs.len(),
            trajectories,
            catalog.problems.len()
        )
    }

    /// Serves until the process is stopped.
    pub async fn serve(self) -> Result<()> {
        loop {
            let (stream, _) = self.listener.accept().await.context("cannot accept a connection")?;
            let (catalog, roots) = (self.catalog.clone(), self.roots.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| handle(catalog.clone(), roots.clone(), req));
                let io = hyper_util::rt::TokioIo::new(stream);
                if let Err(e) = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await {
                    tracing::debug!("connection ended: {e}");
                }
            });
        }
    }
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Reply {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("cache-control", "no-store")
        .header("content-security-policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:")
        .body(Full::new(body.into()))
        .expect("static headers are valid")
}

fn json_reply(status: StatusCode, value: &Value) -> Reply {
    reply(status, "application/json", value.to_string())
}

async fn handle(
    catalog: Arc<Mutex<Catalog>>,
    roots: Arc<Vec<PathBuf>>,
    req: Request<hyper::body::Incoming>,
) -> Result<Reply, Infallible> {
    let path = req.uri().path().to_string();
    let query = parse_query(req.uri().query().unwrap_or(""));
    if req.method() != hyper::Method::GET {
        return Ok(reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "read-only: GET only"));
    }
    // Only this machine's names: a page on another site cannot reach the viewer through a
    // DNS name rebound to 127.0.0.1 (trajectories can hold secrets).
    let host = req.headers().get(hyper::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let hostname = host.rsplit_once(':').map_or(host, |(name, _)| name);
    if !["127.0.0.1", "localhost", "[::1]"].contains(&hostname) {
        return Ok(reply(StatusCode::FORBIDDEN, "text/plain", "forbidden: open the viewer as http://127.0.0.1:PORT/"));
    }
    let decoded = percent_decode(&path);
    if decoded.starts_with("//") || decoded.split(['/', '\\']).any(|part| part == "..") {
        return Ok(reply(StatusCode::FORBIDDEN, "text/plain", "forbidden: the viewer serves no files by path"));
    }
    let page = match path.as_str() {
        "/" | "/index.html" => Some(("text/html; charset=utf-8", INDEX_HTML)),
        "/app.css" => Some(("text/css", APP_CSS)),
        "/app.js" => Some(("text/javascript", APP_JS)),
        "/trajectory.js" => Some(("text/javascript", TRAJ_JS)),
        "/train.js" => Some(("text/javascript", TRAIN_JS)),
        _ => None,
    };
    if let Some((content_type, body)) = page {
        return Ok(reply(StatusCode::OK, content_type, body));
    }
    let routed = tokio::task::spawn_blocking(move || route(&catalog, &roots, &path, &query)).await;
    Ok(match routed {
        Ok(Ok(value)) => json_reply(StatusCode::OK, &value),
        Ok(Err(ApiError::NotFound(message))) => {
            json_reply(StatusCode::NOT_FOUND, &serde_json::json!({"error": message}))
        }
        Ok(Err(ApiError::BadRequest(message))) => {
            json_reply(StatusCode::UNPROCESSABLE_ENTITY, &serde_json::json!({"error": message}))
        }
        Ok(Err(ApiError::Internal(e))) => {
            json_reply(StatusCode::INTERNAL_SERVER_ERROR, &serde_json::json!({"error": format!("{e:#}")}))
        }
        Err(e) => json_reply(StatusCode::INTERNAL_SERVER_ERROR, &serde_json::json!({"error": e.to_string()})),
    })
}

fn index(part: &str) -> Result<usize, ApiError> {
    part.parse().map_err(|_| ApiError::NotFound(format!("{part:?} is not an index")))
}

fn route(catalog: &Mutex<Catalog>, roots: &[PathBuf], path: &str, query: &Query) -> Result<Value, ApiError> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    // Every request rescans, so a catalog left half-updated by a failed request mends itself
    // instead of failing every request after it.
    let mut catalog = catalog.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    match parts.as_slice() {
        ["api", "runs"] => {
            let previous = std::mem::take(&mut *catalog);
            *catalog = Catalog::scan(roots, previous)?;
            Ok(api::runs(&catalog))
        }
        ["api", "runs", r, "trajectories"] => api::trajectory_list(&catalog, index(r)?, query),
        ["api", "runs", r, "trajectories", t] => api::trajectory(&catalog, index(r)?, index(t)?),
        ["api", "runs", r, "trajectories", t, "steps"] => api::steps(&catalog, index(r)?, index(t)?, query),
        ["api", "runs", r, "trajectories", t, "text", what] => api::full_text(&catalog, index(r)?, index(t)?, what),
        ["api", "runs", r, "metrics"] => train::metrics(&catalog, index(r)?),
        ["api", "runs", r, "groups"] => train::groups(&catalog, index(r)?, query),
        ["api", "runs", r, "step_ids"] => train::step_ids(&catalog, index(r)?),
        _ => Err(ApiError::NotFound(format!("no such page: {path}"))),
    }
}

fn parse_query(query: &str) -> Query {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(&value.replace('+', " ")))
        })
        .collect()
}

/// `%XX` escapes decoded (bytes that do not make UTF-8 become U+FFFD); a malformed escape is kept as text.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_and_escapes_are_decoded() {
        let query = parse_query("q=django%20admin&outcome=exit%3Asubmitted&bad=%zz&plus=a+b");
        assert_eq!(query["q"], "django admin");
        assert_eq!(query["outcome"], "exit:submitted");
        assert_eq!(query["bad"], "%zz");
        assert_eq!(query["plus"], "a b");
        assert_eq!(percent_decode("/%2e%2e/etc"), "/../etc");
    }
}
