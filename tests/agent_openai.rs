//! `srl agent` against a real OpenAI-compatible server: llama.cpp's (`llama_cpp.server` from
//! llama-cpp-python) serving the SmolLM2 GGUF that `scripts/fetch-model.sh` puts in `models/`.
//! The untrained model will not solve the tasks; the test checks that the client speaks the
//! protocol, counts the server's tokens and that every artifact is written.
//!
//! Skips with a message when `python3 -c 'import llama_cpp.server'` fails (install it with
//! `pip install 'llama-cpp-python[server]==0.3.36'`) or the model file is absent, unless
//! SRL_REQUIRE_LLAMA_SERVER=1, which turns a skip into a failure. The server is killed when the
//! test ends, panics included.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use srl::trajectory::Trajectory;
use support::TestContext;

const MODEL: &str = "models/SmolLM2-135M-Instruct.Q4_1.gguf";
const TASKS: [&str; 2] = ["unitly", "leaderboard"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Why the server cannot run here, if it cannot.
fn missing_prerequisite() -> Option<String> {
    let import = Command::new("python3").args(["-c", "import llama_cpp.server"]).output();
    if !import.is_ok_and(|out| out.status.success()) {
        return Some("python3 cannot import llama_cpp.server (pip install 'llama-cpp-python[server]==0.3.36')".into());
    }
    if !root().join(MODEL).is_file() {
        return Some(format!("{MODEL} is absent (scripts/fetch-model.sh)"));
    }
    None
}

/// The server process; killed and reaped on drop, so a failing assertion never leaks it.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(log: &Path) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = std::fs::File::create(log).unwrap();
        let child = Command::new("python3")
            .args(["-m", "llama_cpp.server", "--model", MODEL, "--model_alias", "smollm2"])
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--n_ctx", "4096"])
            .current_dir(root())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start python3 -m llama_cpp.server");
        let mut server = Server { child, port };
        server.wait_until_ready(Duration::from_secs(120));
        server
    }

    /// Polls `GET /v1/models` until it answers 200.
    fn wait_until_ready(&mut self, limit: Duration) {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the llama server exited with {status} before answering");
            }
            if get(self.port, "/v1/models").is_some_and(|r| r.starts_with("HTTP/1.1 200")) {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("the llama server did not answer /v1/models within {} s", limit.as_secs());
    }
}

fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

#[test]
fn agent_drives_a_llama_cpp_server() {
    if let Some(problem) = missing_prerequisite() {
        assert!(
            !std::env::var("SRL_REQUIRE_LLAMA_SERVER").is_ok_and(|v| v == "1"),
            "SRL_REQUIRE_LLAMA_SERVER=1 but {problem}"
        );
        println!("skipping: {problem}");
        return;
    }
    let cx = TestContext::new();
    let server = Server::start(&cx.path("server.log"));
    let instances: Vec<String> = TASKS
        .iter()
        .map(|name| std::fs::read_to_string(root().join("tasks").join(name).join("instance.json")).unwrap())
        .map(|text| serde_json::from_str::<Value>(&text).unwrap().to_string())
        .collect();
    cx.write("instances.jsonl", instances.join("\n") + "\n");
    let model = format!("openai:http://127.0.0.1:{}/v1#smollm2", server.port);
    let tasks = root().join("tasks");
    let run = cx.srl(&[
        "agent",
        "--model",
        &model,
        "--instances",
        "instances.jsonl",
        "-o",
        "run",
        "--sandbox",
        "local",
        "--repos",
        tasks.to_str().unwrap(),
        "--max-steps",
        "3",
        "--max-tokens",
        "96",
        "--max-observation-chars",
        "2000",
        "--workers",
        "2",
    ]);
    // Exit 1 only if grading met an infrastructure error (e.g. no host pytest for a patch).
    assert!(run.code == 0 || run.stderr.contains("error: grading"), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("agent: 2 episodes in ") && run.stdout.contains("resolved "), "{}", run.stdout);
    let trajectories: Vec<Trajectory> =
        cx.read("run/trajectories.jsonl").lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(trajectories.len(), 2);
    for trajectory in &trajectories {
        let usage = trajectory.usage.as_ref().unwrap();
        assert_ne!(trajectory.exit_status.as_deref(), Some("exit_error"), "{}", cx.read("run/summary.json"));
        assert!(usage.model_calls >= 1 && usage.model_calls <= 3, "{usage:?}");
        assert!(usage.prompt_tokens > 300 * usage.model_calls, "the server's usage counts the prompt: {usage:?}");
        assert!(usage.completion_tokens >= 1 && usage.completion_tokens <= 96 * usage.model_calls, "{usage:?}");
        let id = trajectory.instance_id.as_deref().unwrap();
        let traj: Value = serde_json::from_str(&cx.read(&format!("run/trajs/{id}.traj"))).unwrap();
        assert_eq!(traj["info"]["model_stats"]["tokens_received"], usage.completion_tokens);
        let imported = cx.srl(&["import", &format!("run/trajs/{id}.traj"), "-o", "back.jsonl"]);
        assert_eq!(imported.code, 0, "{}", imported.stderr);
        let back: Trajectory = serde_json::from_str(cx.read("back.jsonl").trim()).unwrap();
        assert_eq!(back.steps.len(), trajectory.steps.len());
    }
    let predictions = cx.read("run/preds.jsonl");
    assert_eq!(predictions.lines().count(), 2);
    assert!(predictions.lines().all(|l| serde_json::from_str::<Value>(l).unwrap()["model_name_or_path"] == "smollm2"));
    let report: Value = serde_json::from_str(&cx.read("run/report.json")).unwrap();
    assert_eq!(report["total_instances"], 2);
    drop(server);
}
