//! A client for OpenAI-compatible chat completion servers (llama.cpp's server, vLLM, …):
//! `POST {URL}/chat/completions` with the messages, temperature, `max_tokens` and stop
//! sequences; the reply is `choices[0].message.content`, the token counts its `usage`. The
//! output contract's stop sequence (`</function>`) is always sent, so a reply ends at its first
//! action as a local model's does, and the closing tag the server cut is put back.
//!
//! HTTP/1 over plain TCP or TLS (`http`: rustls with the system's roots or `SSL_CERT_FILE`;
//! `HTTPS_PROXY`/`NO_PROXY` honoured). Connection failures, timeouts, 429 and 5xx are retried
//! with exponential backoff; an untrusted certificate or any other status is an error naming the
//! URL and the reason. The API key (`OPENAI_API_KEY` or `--api-key-env NAME`) is sent as a
//! Bearer token and never printed or written anywhere.
//!
//! Building the request body, reading the response and the backoff schedule are pure
//! functions, tested at the bottom; only [`OpenAiClient::reply`] touches the network.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use hyper::body::Bytes;
use hyper::{StatusCode, Uri};
use serde_json::{json, Value};

use super::chat::{Call, ChatModel, Reply, Sampling};
use super::http::{Failure, Transport};
use crate::reward::format::OutputContract;
use crate::steps::Message;

/// Timeouts and retries of the client.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenAiOptions {
    /// Limit of one request, from connecting to the last byte of the response.
    pub request_timeout: Duration,
    /// Further attempts after a retryable failure.
    pub retries: u32,
    /// Wait before the first retry; doubled for each further one, up to `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// Sent as `Authorization: Bearer …` when present (`OPENAI_API_KEY`).
    pub api_key: Option<String>,
}

impl OpenAiOptions {
    #[cfg(test)]
    pub fn for_tests() -> OpenAiOptions {
        OpenAiOptions {
            request_timeout: Duration::from_secs(1),
            retries: 0,
            first_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(1),
            api_key: None,
        }
    }
}

pub struct OpenAiClient {
    /// `URL#MODEL` as given, for messages.
    url: String,
    endpoint: Uri,
    model: String,
    options: OpenAiOptions,
    transport: Transport,
}

impl OpenAiClient {
    /// `spec` is `http[s]://HOST[:PORT]/PATH#MODEL` (the part after `openai:`).
    pub fn new(spec: &str, options: &OpenAiOptions) -> Result<OpenAiClient> {
        let (endpoint, model) = parse_spec(spec).map_err(|e| anyhow::anyhow!("--model openai:{spec}: {e}"))?;
        let connect_timeout = options.request_timeout.min(Duration::from_secs(30));
        let transport = Transport::new(&endpoint, connect_timeout, &|key| std::env::var(key).ok())
            .map_err(|e| anyhow::anyhow!("--model openai:{spec}: {e}"))?;
        if let Some(proxy) = transport.proxy() {
            tracing::info!("openai:{spec}: through the proxy {proxy}");
        }
        Ok(OpenAiClient { url: spec.to_string(), endpoint, model, options: options.clone(), transport })
    }

    async fn attempt(&self, body: &str) -> Result<Reply, Failure> {
        let mut headers = vec![("content-type", "application/json".to_string())];
        if let Some(key) = &self.options.api_key {
            headers.push(("authorization", format!("Bearer {key}")));
        }
        let exchange = self.transport.post(&headers, Bytes::from(body.to_string()));
        let (status, bytes) =
            tokio::time::timeout(self.options.request_timeout, exchange).await.map_err(|_| Failure {
                message: format!("no complete response within {} s", self.options.request_timeout.as_secs_f64()),
                retryable: true,
            })??;
        let text = String::from_utf8_lossy(&bytes);
        if !status.is_success() {
            let excerpt: String = text.chars().take(500).collect();
            return Err(Failure { message: format!("HTTP {status}: {excerpt}"), retryable: retryable(status) });
        }
        parse_response(&text).map_err(|message| Failure { message, retryable: false })
    }
}

impl ChatModel for OpenAiClient {
    fn name(&self) -> &str {
        &self.model
    }

    async fn reply(&self, messages: &[Message], sampling: &Sampling, call: Call) -> Result<Reply> {
        let body = request_body(&self.model, messages, sampling, call.seed).to_string();
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            match self.attempt(&body).await {
                Ok(reply) => return Ok(reply),
                Err(failure) if failure.retryable && attempt < self.options.retries => {
                    let wait = backoff(attempt, self.options.first_backoff, self.options.max_backoff);
                    tracing::warn!(
                        "{}: {} (attempt {} of {}, retrying in {:.1} s)",
                        self.endpoint,
                        failure.message,
                        attempt + 1,
                        self.options.retries + 1,
                        wait.as_secs_f64()
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(failure) => bail!(
                    "POST {} (openai:{}): {} (after {} attempts, {:.1} s)",
                    self.endpoint,
                    self.url,
                    failure.message,
                    attempt + 1,
                    started.elapsed().as_secs_f64()
                ),
            }
        }
    }
}

/// The chat completions endpoint and the model name of `URL#MODEL`.
pub fn parse_spec(spec: &str) -> Result<(Uri, String), String> {
    let Some((url, model)) = spec.split_once('#').filter(|(_, m)| !m.trim().is_empty()) else {
        return Err("expected openai:URL#MODEL, e.g. openai:http://127.0.0.1:8080/v1#smollm2".to_string());
    };
    if !url.starts_with("http://") && !url.starts_with("https://") {
        return Err(format!("{url:?} is not an http:// or https:// URL"));
    }
    let endpoint = format!("{}/chat/completions", url.trim_end_matches('/'));
    let uri: Uri = endpoint.parse().map_err(|e| format!("{url:?} is not a valid URL: {e}"))?;
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("{url:?} names no host"));
    }
    Ok((uri, model.to_string()))
}

/// The JSON body of one chat completions request.
pub fn request_body(model: &str, messages: &[Message], sampling: &Sampling, seed: u64) -> Value {
    let messages: Vec<Value> = messages.iter().map(|m| json!({"role": m.role, "content": m.content})).collect();
    let mut body = json!({
        "model": model,
        "messages": messages,
        "temperature": sampling.temperature,
        "max_tokens": sampling.max_tokens,
        // Servers differ in the seed range they accept; 31 bits fit them all.
        "seed": seed & 0x7fff_ffff,
    });
    // The contract's stop sequences end a reply at its first action, as a local sampler stops.
    let mut stop: Vec<&str> = sampling.stop.iter().map(String::as_str).collect();
    for sequence in OutputContract::STOP_SEQUENCES {
        if !stop.contains(&sequence) {
            stop.push(sequence);
        }
    }
    body["stop"] = json!(stop);
    body
}

/// The reply in a chat completions response; the error says what is missing.
pub fn parse_response(text: &str) -> Result<Reply, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("the response is not JSON: {e}"))?;
    if let Some(error) = value.get("error") {
        return Err(format!("the server answered with an error: {error}"));
    }
    let message = value.pointer("/choices/0/message").ok_or("the response has no choices[0].message")?;
    let text = match message.get("content") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => String::new(),
        Some(other) => return Err(format!("choices[0].message.content is not a string: {other}")),
    };
    let count = |key: &str| value.pointer(&format!("/usage/{key}")).and_then(Value::as_u64);
    let (Some(prompt_tokens), Some(completion_tokens)) = (count("prompt_tokens"), count("completion_tokens")) else {
        return Err("the response has no usage.prompt_tokens / usage.completion_tokens".to_string());
    };
    // A reply cut by a stop sequence lacks the `</function>` it stopped on.
    let stopped = value.pointer("/choices/0/finish_reason").and_then(Value::as_str) == Some("stop");
    let contract = OutputContract::default();
    let text = contract.cut(&contract.restore_stop(&text, stopped)).to_string();
    Ok(Reply { text, prompt_tokens, completion_tokens, tokens: None })
}

/// Whether a status is worth another attempt: rate limits and server errors.
pub fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// The wait before retry `attempt` (0-based): `first`, doubled each time, capped at `max`.
pub fn backoff(attempt: u32, first: Duration, max: Duration) -> Duration {
    first.saturating_mul(1u32.checked_shl(attempt).unwrap_or(u32::MAX)).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_spec(spec: &str, expect: &str) {
        let got = match parse_spec(spec) {
            Ok((uri, model)) => format!("{uri} {model}"),
            Err(e) => format!("err {e}"),
        };
        assert_eq!(got, expect);
    }

    #[test]
    fn specs() {
        check_spec("http://127.0.0.1:8080/v1#smollm2", "http://127.0.0.1:8080/v1/chat/completions smollm2");
        check_spec("http://localhost:8080/v1/#m#2", "http://localhost:8080/v1/chat/completions m#2");
        check_spec(
            "http://127.0.0.1:8080/v1",
            "err expected openai:URL#MODEL, e.g. openai:http://127.0.0.1:8080/v1#smollm2",
        );
        check_spec("ftp://x/v1#m", "err \"ftp://x/v1\" is not an http:// or https:// URL");
        check_spec("https://api.openai.com/v1#gpt-4o", "https://api.openai.com/v1/chat/completions gpt-4o");
    }

    fn check_response(body: &str, expect: &str) {
        let got = match parse_response(body) {
            Ok(r) => format!("{:?} {} {}", r.text, r.prompt_tokens, r.completion_tokens),
            Err(e) => format!("err {e}"),
        };
        assert_eq!(got, expect);
    }

    #[test]
    fn responses() {
        // Trimmed from a llama-cpp-python 0.3 server response.
        check_response(
            r#"{"id":"chatcmpl-1","object":"chat.completion","model":"smollm2","choices":[{"index":0,"message":{"role":"assistant","content":"<think>x</think>"},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":412,"completion_tokens":7,"total_tokens":419}}"#,
            r#""<think>x</think>" 412 7"#,
        );
        check_response(
            r#"{"choices":[{"message":{"role":"assistant","content":null}}],"usage":{"prompt_tokens":1,"completion_tokens":0}}"#,
            r#""" 1 0"#,
        );
        check_response(r#"{"choices":[]}"#, "err the response has no choices[0].message");
        // Stopped on `</function>`: the tag is put back; stopped by length: left as it is.
        let cut = r#"{"choices":[{"message":{"content":"<think>x</think>\n<function=submit>\n"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2}}"#;
        check_response(cut, "\"<think>x</think>\\n<function=submit></function>\" 1 2");
        check_response(&cut.replace("\"stop\"", "\"length\""), "\"<think>x</think>\\n<function=submit>\\n\" 1 2");
        check_response(
            r#"{"choices":[{"message":{"content":"hi"}}]}"#,
            "err the response has no usage.prompt_tokens / usage.completion_tokens",
        );
        check_response(
            r#"{"error":{"message":"context too long"}}"#,
            r#"err the server answered with an error: {"message":"context too long"}"#,
        );
        assert!(parse_response("<html>").unwrap_err().starts_with("the response is not JSON"));
    }

    #[test]
    fn request_body_carries_the_sampling_settings() {
        let messages = vec![Message { role: "user".into(), content: "hi".into() }];
        let sampling = Sampling { temperature: 0.0, max_tokens: 64, stop: vec![] };
        let body = request_body("m", &messages, &sampling, u64::MAX);
        assert_eq!(
            body.to_string(),
            r#"{"max_tokens":64,"messages":[{"content":"hi","role":"user"}],"model":"m","seed":2147483647,"stop":["</function>"],"temperature":0.0}"#
        );
        let sampling = Sampling { stop: vec!["</function>".into()], ..sampling };
        assert_eq!(request_body("m", &messages, &sampling, 1)["stop"], json!(["</function>"]));
        let sampling = Sampling { stop: vec!["DONE".into()], ..sampling };
        assert_eq!(request_body("m", &messages, &sampling, 1)["stop"], json!(["DONE", "</function>"]));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let schedule: Vec<u128> =
            (0..7).map(|n| backoff(n, Duration::from_millis(500), Duration::from_secs(8)).as_millis()).collect();
        assert_eq!(schedule, [500, 1000, 2000, 4000, 8000, 8000, 8000]);
        assert_eq!(backoff(40, Duration::from_secs(1), Duration::from_secs(30)), Duration::from_secs(30));
    }

    #[test]
    fn rate_limits_and_server_errors_are_retried() {
        let statuses = [200, 400, 401, 404, 429, 500, 502, 503];
        let retried: Vec<u16> = statuses.into_iter().filter(|s| retryable(StatusCode::from_u16(*s).unwrap())).collect();
        assert_eq!(retried, [429, 500, 502, 503]);
    }

    #[tokio::test]
    async fn a_refused_connection_is_retried_then_named() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let options = OpenAiOptions { retries: 2, ..OpenAiOptions::for_tests() };
        let client = OpenAiClient::new(&format!("http://127.0.0.1:{port}/v1#m"), &options).unwrap();
        let sampling = Sampling { temperature: 0.0, max_tokens: 1, stop: vec![] };
        let error = client.reply(&[], &sampling, Call { seed: 0, turn: 0 }).await.unwrap_err().to_string();
        assert!(error.starts_with(&format!("POST http://127.0.0.1:{port}/v1/chat/completions")), "{error}");
        assert!(error.contains("cannot reach the server") && error.contains("after 3 attempts"), "{error}");
    }
}
