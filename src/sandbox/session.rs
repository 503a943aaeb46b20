//! One attached shell per sandbox and user: a small bash loop started once with `docker exec`
//! (stdin attached), which reads commands from its stdin and runs each in turn. A command then
//! costs one message each way on a connection that is already open, instead of the four HTTP
//! requests of a fresh `docker exec` (create, start, the attach upgrade, inspect for the exit
//! code): about 1 ms instead of about 60 ms on a local engine.
//!
//! Framing. A request is NUL-terminated fields: a nonce, the working directory, the argument
//! count, then the arguments (commands cannot hold a NUL, so nothing needs escaping). The loop
//! runs the argv with stdin from `/dev/null` (a command must never read the protocol), then
//! prints `\n<nonce> <status>\n` on stdout and on stderr. The harness reads each stream up to
//! its marker. The nonce is fresh for every command and never in a process's arguments or
//! environment, so output cannot end a command early by accident; an agent that went out of
//! its way to forge one would only garble its own observation.
//!
//! Lifetime. Timeouts and floods are handled as before: the caller kills every agent process
//! with a fresh exec, which takes this loop with it (it runs as the agent); the next command
//! starts a new one. The same happens when a command kills the loop itself (`kill -9 $PPID`,
//! `kill -KILL -1`): its observation ends there with status 137, as a SIGKILL gives in a shell.
//! Output a background process prints after its command ended belongs to no command; it is
//! shown at the start of the next command's output, as a terminal would show it.
//!
//! The working directory and environment do not carry over between commands (each is a fresh
//! `bash -c`), as with a `docker exec` per command.

use std::pin::Pin;

use anyhow::{bail, Context, Result};
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::Docker;
use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// The loop. `exec` replaces the subshell with the command, so the status is the command's.
/// The loop's own stderr is `/dev/null` around the command, so bash's job report of a command
/// killed by a signal ("Killed") stays out of the output, as with a `docker exec` per command.
const LOOP: &str = r#"unset SHLVL
while IFS= read -r -d '' nonce && IFS= read -r -d '' dir && IFS= read -r -d '' count; do
  args=()
  for ((i = 0; i < count; i++)); do IFS= read -r -d '' arg || exit 0; args+=("$arg"); done
  { (cd "$dir" && exec "${args[@]}") </dev/null 2>&3 3>&-; } 3>&2 2>/dev/null
  status=$?
  printf '\n%s %d\n' "$nonce" "$status"
  printf '\n%s %d\n' "$nonce" "$status" >&2
done
"#;

/// What a shell reports for a command killed by SIGKILL.
pub const KILLED_STATUS: i64 = 137;

type OutputStream = Pin<Box<dyn Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>>;

/// An attached shell loop in one container, as one user.
pub struct Session {
    output: OutputStream,
    input: Pin<Box<dyn AsyncWrite + Send>>,
    /// Output that arrived after the previous command's marker.
    carry_stdout: Vec<u8>,
    carry_stderr: Vec<u8>,
    commands: u64,
    /// A command was sent and its end not read (its caller gave up on it).
    in_flight: bool,
}

/// What one command printed, as it arrives.
pub enum Piece<'a> {
    Stdout(&'a [u8]),
    Stderr(&'a [u8]),
}

/// How a command's run through the session ended.
pub enum Finish {
    Exited(i64),
    /// The caller's `on_output` asked to stop (an output flood); the command is still running.
    Stopped,
    /// The loop died before the command's marker (the command killed it).
    SessionLost,
    /// The deadline passed first; the command is still running (the caller kills it).
    TimedOut,
}

impl Session {
    /// Starts the loop in `container` as `user`.
    pub async fn start(docker: &Docker, container: &str, user: &str) -> Result<Session> {
        let options = CreateExecOptions {
            cmd: Some(vec!["bash", "-c", LOOP]),
            user: Some(user),
            working_dir: Some("/"),
            attach_stdin: Some(true),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            ..Default::default()
        };
        let exec = docker
            .create_exec(container, options)
            .await
            .with_context(|| format!("failed to create the shell session in container {container}"))?;
        let started = docker
            .start_exec(&exec.id, None)
            .await
            .with_context(|| format!("failed to start the shell session in container {container}"))?;
        let StartExecResults::Attached { output, input } = started else {
            bail!("docker started the shell session detached");
        };
        Ok(Session { output, input, carry_stdout: Vec::new(), carry_stderr: Vec::new(), commands: 0, in_flight: false })
    }

    /// Whether a command was started and not read to its end: the session is out of step.
    pub fn interrupted(&self) -> bool {
        self.in_flight
    }

    /// Runs `argv` in `dir`, passing its output to `on_output` as it comes; `on_output` returns
    /// false to stop reading (the command goes on running: the caller kills it). After anything
    /// but `Exited` the session must be dropped.
    pub async fn run(
        &mut self,
        dir: &str,
        argv: &[&str],
        deadline: Option<tokio::time::Instant>,
        mut on_output: impl FnMut(Piece<'_>) -> bool,
    ) -> Result<Finish> {
        if argv.iter().chain([&dir]).any(|arg| arg.contains('\0')) {
            bail!("a command or its arguments hold a NUL byte, which no process can receive");
        }
        self.commands += 1;
        self.in_flight = true;
        let nonce = nonce(self.commands);
        let count = argv.len().to_string();
        let mut request = Vec::new();
        for field in [nonce.as_str(), dir, count.as_str()].into_iter().chain(argv.iter().copied()) {
            request.extend_from_slice(field.as_bytes());
            request.push(0);
        }
        self.input.write_all(&request).await.context("the shell session refused a command")?;
        self.input.flush().await.context("the shell session refused a command")?;

        let mut stdout = Framer::new(&nonce, std::mem::take(&mut self.carry_stdout));
        let mut stderr = Framer::new(&nonce, std::mem::take(&mut self.carry_stderr));
        // Output carried over from the previous command comes first.
        for (framer, is_stdout) in [(&mut stdout, true), (&mut stderr, false)] {
            let ready = framer.push(&[]);
            if !ready.is_empty() && !on_output(if is_stdout { Piece::Stdout(&ready) } else { Piece::Stderr(&ready) }) {
                return Ok(Finish::Stopped);
            }
        }
        // Bytes held back as a possible start of the marker are the command's after all when it
        // ends without one.
        let flush = |stdout: &mut Framer, stderr: &mut Framer, on_output: &mut dyn FnMut(Piece<'_>) -> bool| {
            let (out, err) = (std::mem::take(&mut stdout.pending), std::mem::take(&mut stderr.pending));
            if !out.is_empty() {
                on_output(Piece::Stdout(&out));
            }
            if !err.is_empty() {
                on_output(Piece::Stderr(&err));
            }
        };
        while stdout.status.is_none() || stderr.status.is_none() {
            let next = match deadline {
                Some(deadline) => match tokio::time::timeout_at(deadline, self.output.next()).await {
                    Ok(next) => next,
                    Err(_) => {
                        flush(&mut stdout, &mut stderr, &mut on_output);
                        return Ok(Finish::TimedOut);
                    }
                },
                None => self.output.next().await,
            };
            let Some(chunk) = next else {
                flush(&mut stdout, &mut stderr, &mut on_output);
                return Ok(Finish::SessionLost);
            };
            let keep_going = match chunk {
                Err(_) => {
                    flush(&mut stdout, &mut stderr, &mut on_output);
                    return Ok(Finish::SessionLost);
                }
                Ok(LogOutput::StdOut { message } | LogOutput::Console { message }) => {
                    let ready = stdout.push(&message);
                    ready.is_empty() || on_output(Piece::Stdout(&ready))
                }
                Ok(LogOutput::StdErr { message }) => {
                    let ready = stderr.push(&message);
                    ready.is_empty() || on_output(Piece::Stderr(&ready))
                }
                Ok(LogOutput::StdIn { .. }) => true,
            };
            if !keep_going {
                flush(&mut stdout, &mut stderr, &mut on_output);
                return Ok(Finish::Stopped);
            }
        }
        self.carry_stdout = stdout.rest;
        self.carry_stderr = stderr.rest;
        self.in_flight = false;
        Ok(Finish::Exited(stdout.status.unwrap_or(KILLED_STATUS)))
    }
}

/// A value no output will hold by chance: 128 bits from two freshly keyed hashers.
fn nonce(counter: u64) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut halves = [0u64; 2];
    for half in &mut halves {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(counter);
        hasher.write_u128(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos(),
        );
        *half = hasher.finish();
    }
    format!("srl-end-{:016x}{:016x}", halves[0], halves[1])
}

/// Splits one stream at the end marker `\n<nonce> <status>\n`: bytes before it are the
/// command's output, bytes after it are the next command's.
struct Framer {
    marker: Vec<u8>,
    pending: Vec<u8>,
    status: Option<i64>,
    rest: Vec<u8>,
}

impl Framer {
    fn new(nonce: &str, carried: Vec<u8>) -> Framer {
        Framer { marker: format!("\n{nonce} ").into_bytes(), pending: carried, status: None, rest: Vec::new() }
    }

    /// Takes more bytes; returns those that are certainly output (not part of a marker).
    fn push(&mut self, bytes: &[u8]) -> Vec<u8> {
        if self.status.is_some() {
            self.rest.extend_from_slice(bytes);
            return Vec::new();
        }
        self.pending.extend_from_slice(bytes);
        let mut from = 0;
        while let Some(found) = find(&self.pending[from..], &self.marker) {
            let at = from + found;
            let after = at + self.marker.len();
            let Some(end) = self.pending[after..].iter().position(|&b| b == b'\n') else {
                // The marker has begun but its status line is not complete yet.
                return self.pending.drain(..at).collect();
            };
            let status = std::str::from_utf8(&self.pending[after..after + end]).ok().and_then(|s| s.parse().ok());
            if let Some(status) = status {
                self.status = Some(status);
                self.rest = self.pending.split_off(after + end + 1);
                self.pending.truncate(at);
                return std::mem::take(&mut self.pending);
            }
            // Not a status line: output that happens to look like the marker.
            from = at + 1;
        }
        // Keep back what could be the start of a marker.
        let keep = (self.marker.len() - 1).min(self.pending.len());
        let ready = self.pending.len() - keep;
        self.pending.drain(..ready).collect()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(offset) = haystack[from..].iter().position(|&b| b == needle[0]) {
        let at = from + offset;
        if haystack.len() - at < needle.len() {
            return None;
        }
        if &haystack[at..at + needle.len()] == needle {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(framer: &mut Framer, chunks: &[&[u8]]) -> Vec<u8> {
        chunks.iter().flat_map(|chunk| framer.push(chunk)).collect()
    }

    #[test]
    fn output_ends_at_the_marker_however_it_is_split() {
        let stream = b"hello\nworld\nsrl-end-x 3 not yet\n\nsrl-end-x 7\nlater";
        for split in 0..stream.len() {
            let mut framer = Framer::new("srl-end-x", Vec::new());
            let out = feed(&mut framer, &[&stream[..split], &stream[split..]]);
            assert_eq!(out, b"hello\nworld\nsrl-end-x 3 not yet\n", "split at {split}");
            assert_eq!(framer.status, Some(7));
            assert_eq!(framer.rest, b"later");
        }
    }

    #[test]
    fn output_without_a_final_newline_and_carried_bytes_are_kept() {
        let mut framer = Framer::new("n", b"from before ".to_vec());
        let out = feed(&mut framer, &[b"no newline", b"\nn 0\n"]);
        assert_eq!(out, b"from before no newline");
        assert_eq!(framer.status, Some(0));
        let mut framer = Framer::new("n", Vec::new());
        assert!(feed(&mut framer, &[b"\nn 1\n"]).is_empty());
        assert_eq!(framer.status, Some(1));
    }

    #[test]
    fn nonces_differ() {
        assert_ne!(nonce(1), nonce(1));
        assert!(nonce(2).starts_with("srl-end-") && nonce(2).len() == 8 + 32);
    }
}
