//! One HTTP/1.1 request per connection, over plain TCP or TLS, directly or through an HTTP
//! proxy: what the `openai` client needs to reach a local server, a hosted API or a vLLM behind
//! TLS, and nothing more (no pooling: a chat completion takes seconds, a connection
//! milliseconds).
//!
//! - TLS is rustls with the `ring` provider (no OpenSSL). Trusted roots are the system's, or the
//!   PEM bundle `SSL_CERT_FILE` names (read by `rustls-native-certs`).
//! - Proxies come from `HTTPS_PROXY` / `HTTP_PROXY` (either case), skipped for hosts that
//!   `NO_PROXY` lists (`*`, a host, or a domain and its subdomains). An https target goes through
//!   a `CONNECT` tunnel; an http target is sent to the proxy in absolute form. Only `http://`
//!   proxies, with optional `user:password@` sent as basic proxy authorization.
//!
//! Nothing here logs a request: headers may hold an API key.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What went wrong with one attempt, and whether another may help.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub retryable: bool,
}

fn failure(message: String, retryable: bool) -> Failure {
    Failure { message, retryable }
}

/// Where requests go and how they get there.
pub struct Transport {
    uri: Uri,
    https: bool,
    host: String,
    port: u16,
    proxy: Option<Proxy>,
    tls: Option<tokio_rustls::TlsConnector>,
    connect_timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Proxy {
    host: String,
    port: u16,
    /// `Basic …` for `Proxy-Authorization`, when the proxy URL holds credentials.
    authorization: Option<String>,
}

impl Transport {
    /// A transport to `uri` (`http://` or `https://`); `env` looks up environment variables
    /// (the proxy settings), so tests can pass their own.
    pub fn new(
        uri: &Uri,
        connect_timeout: Duration,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Transport, String> {
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(format!("{uri} is not an http:// or https:// URL")),
        };
        let host = uri.host().filter(|h| !h.is_empty()).ok_or_else(|| format!("{uri} names no host"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let proxy = proxy_for(https, &host, env)?;
        let tls = if https { Some(tls_connector()?) } else { None };
        Ok(Transport { uri: uri.clone(), https, host, port, proxy, tls, connect_timeout })
    }

    /// The proxy requests go through, as `host:port`, for messages.
    pub fn proxy(&self) -> Option<String> {
        self.proxy.as_ref().map(|p| format!("{}:{}", p.host, p.port))
    }

    /// POSTs `body` with `headers`; the status and the whole response body come back.
    pub async fn post(&self, headers: &[(&str, String)], body: Bytes) -> Result<(StatusCode, Bytes), Failure> {
        let (host, port) = match &self.proxy {
            Some(proxy) => (proxy.host.as_str(), proxy.port),
            None => (self.host.as_str(), self.port),
        };
        let connect = TcpStream::connect((host, port));
        let tcp = tokio::time::timeout(self.connect_timeout, connect)
            .await
            .map_err(|_| {
                failure(format!("cannot reach {host}:{port}: no connection within {:?}", self.connect_timeout), true)
            })?
            .map_err(|e| failure(format!("cannot reach the server at {host}:{port}: {e}"), true))?;
        let _ = tcp.set_nodelay(true);
        let authority = if self.port == if self.https { 443 } else { 80 } {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        };
        // Through a proxy, plain http names the whole URL; otherwise the path alone.
        let target = if self.proxy.is_some() && !self.https {
            self.uri.to_string()
        } else {
            self.uri.path_and_query().map_or("/".to_string(), |p| p.as_str().to_string())
        };
        let mut request = Request::post(target).header("host", authority);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        if let (Some(proxy), false) = (&self.proxy, self.https) {
            if let Some(authorization) = &proxy.authorization {
                request = request.header("proxy-authorization", authorization);
            }
        }
        let request =
            request.body(Full::new(body)).map_err(|e| failure(format!("cannot build the request: {e}"), false))?;
        match &self.tls {
            None => send(TokioIo::new(tcp), request).await,
            Some(tls) => {
                let tcp = match &self.proxy {
                    Some(proxy) => tunnel(tcp, &self.host, self.port, proxy).await?,
                    None => tcp,
                };
                let name = rustls::pki_types::ServerName::try_from(self.host.clone())
                    .map_err(|e| failure(format!("{} is not a valid TLS server name: {e}", self.host), false))?;
                let stream = tls.connect(name, tcp).await.map_err(|e| {
                    // A certificate problem does not go away on retry; a reset connection may.
                    let certificate = e.to_string().contains("certificate");
                    let hint = if certificate {
                        " (the server's certificate is not trusted: set SSL_CERT_FILE to a PEM bundle holding its CA)"
                    } else {
                        ""
                    };
                    failure(format!("TLS handshake with {}:{} failed: {e}{hint}", self.host, self.port), !certificate)
                })?;
                send(TokioIo::new(stream), request).await
            }
        }
    }
}

async fn send<I>(io: I, request: Request<Full<Bytes>>) -> Result<(StatusCode, Bytes), Failure>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| failure(format!("HTTP handshake failed: {}", error_chain(&e)), true))?;
    let driver = tokio::spawn(connection);
    let exchange = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| failure(format!("the request failed: {}", error_chain(&e)), true))?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| failure(format!("the response was cut off: {}", error_chain(&e)), true))?
            .to_bytes();
        Ok((status, bytes))
    };
    let result = exchange.await;
    driver.abort();
    result
}

/// Opens a `CONNECT` tunnel to `host:port` through `proxy` on `tcp`.
async fn tunnel(mut tcp: TcpStream, host: &str, port: u16, proxy: &Proxy) -> Result<TcpStream, Failure> {
    let mut head = format!("CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n");
    if let Some(authorization) = &proxy.authorization {
        head.push_str(&format!("Proxy-Authorization: {authorization}\r\n"));
    }
    head.push_str("\r\n");
    let where_ = format!("the proxy {}:{}", proxy.host, proxy.port);
    tcp.write_all(head.as_bytes()).await.map_err(|e| failure(format!("{where_}: {e}"), true))?;
    // Byte by byte up to the blank line: nothing past the proxy's answer may be consumed here.
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n\r\n") {
        if answer.len() > 16 * 1024 {
            return Err(failure(format!("{where_} answered CONNECT with more than 16 KiB of headers"), false));
        }
        match tcp.read(&mut byte).await {
            Ok(0) => return Err(failure(format!("{where_} closed the connection during CONNECT"), true)),
            Ok(_) => answer.push(byte[0]),
            Err(e) => return Err(failure(format!("{where_}: {e}"), true)),
        }
    }
    let text = String::from_utf8_lossy(&answer);
    let status_line = text.lines().next().unwrap_or_default();
    if status_line.split_whitespace().nth(1) != Some("200") {
        return Err(failure(format!("{where_} refused the tunnel to {host}:{port}: {status_line}"), false));
    }
    Ok(tcp)
}

fn tls_connector() -> Result<tokio_rustls::TlsConnector, String> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for certificate in found.certs {
        // A malformed system certificate is skipped, as browsers do; the others still count.
        let _ = roots.add(certificate);
    }
    if roots.is_empty() {
        let errors: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
        return Err(format!(
            "no trusted root certificates found ({}); set SSL_CERT_FILE to a PEM bundle",
            if errors.is_empty() { "the system store is empty".to_string() } else { errors.join("; ") }
        ));
    }
    // ring rather than aws-lc-rs: it builds in seconds with a C compiler alone, where aws-lc-rs
    // needs cmake and minutes. rustls marks ring's provider deprecated for lacking post-quantum
    // key exchange, which an API client of ours does not need.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot configure TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// The proxy for a request to `host`, from the environment.
fn proxy_for(https: bool, host: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Proxy>, String> {
    let keys = if https { ["HTTPS_PROXY", "https_proxy"] } else { ["HTTP_PROXY", "http_proxy"] };
    let Some((key, url)) = keys.iter().find_map(|k| env(k).filter(|v| !v.trim().is_empty()).map(|v| (*k, v))) else {
        return Ok(None);
    };
    let no_proxy = env("NO_PROXY").or_else(|| env("no_proxy")).unwrap_or_default();
    if bypassed(&no_proxy, host) {
        return Ok(None);
    }
    parse_proxy(url.trim()).map(Some).map_err(|e| format!("{key}={url:?}: {e}"))
}

/// Whether `NO_PROXY` exempts `host`: `*`, the host itself, or a domain it is under.
fn bypassed(no_proxy: &str, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    no_proxy.split(',').map(|e| e.trim().to_ascii_lowercase()).filter(|e| !e.is_empty()).any(|entry| {
        if entry == "*" {
            return true;
        }
        let domain = entry.trim_start_matches('.');
        let domain = match domain.rsplit_once(':') {
            Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) && !name.contains(':') => name,
            _ => domain,
        };
        host == domain || host.ends_with(&format!(".{domain}"))
    })
}

fn parse_proxy(url: &str) -> Result<Proxy, String> {
    let rest = match url.split_once("://") {
        Some(("http", rest)) => rest,
        Some((scheme, _)) => return Err(format!("only http:// proxies are supported, not {scheme}://")),
        None => url,
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let (credentials, address) = match authority.rsplit_once('@') {
        Some((credentials, address)) => (Some(credentials), address),
        None => (None, authority),
    };
    let (host, port) = match address.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || address.starts_with('[') => {
            (host, port.parse::<u16>().map_err(|_| format!("{port:?} is not a port"))?)
        }
        _ => (address, 80),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err("no proxy host".to_string());
    }
    let authorization = credentials.map(|c| format!("Basic {}", base64(c.as_bytes())));
    Ok(Proxy { host: host.to_string(), port, authorization })
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |key| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_string())
    }

    #[test]
    fn proxies_come_from_the_environment_unless_no_proxy_exempts_the_host() {
        let vars = [("HTTPS_PROXY", "http://user:pass@proxy.internal:3128"), ("NO_PROXY", "localhost, .corp.example")];
        let proxy = proxy_for(true, "api.openai.com", &env(&vars)).unwrap().unwrap();
        assert_eq!((proxy.host.as_str(), proxy.port), ("proxy.internal", 3128));
        assert_eq!(proxy.authorization.as_deref(), Some("Basic dXNlcjpwYXNz"));
        assert_eq!(proxy_for(true, "localhost", &env(&vars)).unwrap(), None);
        assert_eq!(proxy_for(true, "llm.corp.example", &env(&vars)).unwrap(), None);
        assert_eq!(proxy_for(false, "api.openai.com", &env(&vars)).unwrap(), None, "HTTPS_PROXY is for https only");
        let lower = [("http_proxy", "proxy:8080")];
        assert_eq!(proxy_for(false, "h", &env(&lower)).unwrap().unwrap().port, 8080);
        assert_eq!(proxy_for(false, "h", &env(&[("HTTP_PROXY", "p"), ("NO_PROXY", "*")])).unwrap(), None);
        let socks = proxy_for(true, "h", &env(&[("HTTPS_PROXY", "socks5://p:1080")])).unwrap_err();
        assert!(socks.contains("only http:// proxies"), "{socks}");
    }

    #[test]
    fn base64_pads_like_rfc_4648() {
        let encoded: Vec<String> =
            ["", "f", "fo", "foo", "foob", "fooba", "foobar"].map(|s| base64(s.as_bytes())).into();
        assert_eq!(encoded, ["", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"]);
    }
}
