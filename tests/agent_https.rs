//! `srl agent --model openai:https://…` against a local TLS server this test starts, with a
//! certificate it makes: the server is trusted through `SSL_CERT_FILE`, the API key is sent as
//! a Bearer token and appears in no output file or log, the contract's stop sequence is sent
//! and the cut `</function>` put back; a server whose certificate is not trusted, and an unset
//! `--api-key-env`, are clear errors.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use support::{tasks_dir, TestContext};

const KEY: &str = "sk-planted-0123456789abcdef";

/// A certificate for `localhost` and its key, self-signed.
fn certificate() -> (CertificateDer<'static>, PrivateKeyDer<'static>, String) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()));
    (made.cert.der().clone(), key, made.cert.pem())
}

/// Serves chat completions over TLS on a free port, one connection at a time, recording each
/// request (headers and body); every reply is a `submit` cut before its `</function>`.
fn serve(cert: CertificateDer<'static>, key: PrivateKeyDer<'static>) -> (u16, Arc<Mutex<Vec<String>>>) {
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut tcp) = stream else { continue };
            let Ok(mut connection) = rustls::ServerConnection::new(Arc::clone(&config)) else { continue };
            let mut tls = rustls::Stream::new(&mut connection, &mut tcp);
            let mut reader = BufReader::new(&mut tls);
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                // A client that rejects our certificate closes the connection here.
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            if !head.ends_with("\r\n\r\n") {
                continue;
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            log.lock().unwrap().push(format!("{head}{}", String::from_utf8_lossy(&body)));
            let reply = serde_json::json!({
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "<think>\nDone.\n</think>\n<function=submit>\n"}}],
                "usage": {"prompt_tokens": 50, "completion_tokens": 9}
            })
            .to_string();
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                reply.len()
            );
            let _ = tls.write_all(response.as_bytes());
            let _ = tls.flush();
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    (port, seen)
}

/// Runs `srl agent` on the `unitly` task against `port` with `env` set.
fn agent(cx: &TestContext, port: u16, out: &str, env: &[(&str, &Path)], extra: &[&str]) -> (i32, String, String) {
    let instance = std::fs::read_to_string(tasks_dir().join("unitly/instance.json")).unwrap();
    let one_line: serde_json::Value = serde_json::from_str(&instance).unwrap();
    cx.write("instances.jsonl", one_line.to_string() + "\n");
    let model = format!("openai:https://localhost:{port}/v1#remote-model");
    let tasks = tasks_dir();
    let mut command = Command::new(env!("CARGO_BIN_EXE_srl"));
    command.current_dir(cx.dir.path()).env_remove("SSL_CERT_DIR").env("OPENAI_API_KEY", KEY);
    for (key, value) in env {
        command.env(key, value);
    }
    command.args(["agent", "--model", &model, "--instances", "instances.jsonl", "-o", out, "--sandbox", "local"]);
    command.args(["--repos", tasks.to_str().unwrap(), "--max-steps", "2", "--no-eval", "--retries", "0"]);
    let output = command.args(extra).output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (output.status.code().unwrap_or(-1), text(&output.stdout), text(&output.stderr))
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn a_hosted_api_over_tls_is_used_with_its_key_kept_secret() {
    let cx = TestContext::new();
    let (cert, key, pem) = certificate();
    let (port, seen) = serve(cert, key);
    let bundle = cx.write("ca.pem", &pem);

    let (code, stdout, stderr) = agent(&cx, port, "run", &[("SSL_CERT_FILE", &bundle)], &[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "one reply, and it submitted");
    assert!(requests[0].starts_with("POST /v1/chat/completions HTTP/1.1\r\n"), "{}", requests[0]);
    assert!(requests[0].contains(&format!("authorization: Bearer {KEY}\r\n")), "{}", requests[0]);
    assert!(requests[0].contains(r#""stop":["</function>"]"#), "{}", requests[0]);
    let trajectory: serde_json::Value = serde_json::from_str(cx.read("run/trajectories.jsonl").trim()).unwrap();
    assert_eq!(trajectory["exit_status"], "submitted");
    assert_eq!(trajectory["steps"][0]["action"]["tool"], "submit", "the cut </function> was put back");

    let mut written = Vec::new();
    files_under(&cx.path("run"), &mut written);
    assert!(written.len() >= 4, "{written:?}");
    for path in &written {
        let bytes = std::fs::read(path).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(KEY), "the API key leaked into {}", path.display());
    }
    assert!(!stdout.contains(KEY) && !stderr.contains(KEY), "the API key was printed");

    // A server whose certificate no trusted root vouches for.
    let (_, _, other_pem) = certificate();
    let other = cx.write("other-ca.pem", &other_pem);
    let (code, stdout, stderr) = agent(&cx, port, "untrusted", &[("SSL_CERT_FILE", &other)], &[]);
    assert_ne!(code, 0, "{stdout}\n{stderr}");
    assert!(stderr.contains("TLS handshake with localhost:"), "{stderr}");
    assert!(stderr.contains("certificate is not trusted: set SSL_CERT_FILE"), "{stderr}");
    assert!(!stderr.contains(KEY), "{stderr}");
    assert_eq!(seen.lock().unwrap().len(), 1, "no request reached the server");

    // The key's variable named but unset.
    let (code, _, stderr) =
        agent(&cx, port, "nokey", &[("SSL_CERT_FILE", &bundle)], &["--api-key-env", "SRL_TEST_NO_SUCH_KEY"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("--api-key-env SRL_TEST_NO_SUCH_KEY: the environment variable SRL_TEST_NO_SUCH_KEY is not set"),
        "{stderr}"
    );
}
