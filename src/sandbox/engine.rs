//! Docker engines: where sandboxes run. An [`Engine`] is one Docker Engine API endpoint, named
//! like the docker CLI names it (`unix:///var/run/docker.sock`, `tcp://host:2376` with TLS client
//! certificates); [`Engines`] is the set a run spreads its sandboxes over, each engine with a
//! number of slots.
//!
//! Configuration, in the docker CLI's terms: `DOCKER_HOST`, `DOCKER_TLS_VERIFY` and
//! `DOCKER_CERT_PATH` (`ca.pem`, `cert.pem`, `key.pem`) give the default engine; the global
//! `--docker-host` flag (repeatable) or an engines file (`--engines FILE`, TOML) replace it with a
//! list. [`configure`] records that list once per process, so every command and cleanup path
//! sees the same engines without threading them through every call.
//!
//! Plain `tcp://` is refused unless the host is loopback: the Engine API gives whoever reaches it
//! root on that machine, so a remote engine needs TLS client certificates. `ssh://` is not
//! supported (bollard's ssh transport pulls in an ssh client library); an ssh tunnel to the
//! remote socket (`ssh -NL /tmp/remote.sock:/var/run/docker.sock host`) works as a `unix://`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use bollard::Docker;
use serde::Deserialize;

/// The socket the docker CLI uses when `DOCKER_HOST` is unset.
const DEFAULT_SOCKET: &str = "unix:///var/run/docker.sock";
/// Seconds bollard waits for any one request; long enough for an image export.
const REQUEST_TIMEOUT_SECS: u64 = 600;
/// How many times work whose engine stopped answering starts over on another engine.
pub const RETRIES_ON_LOST_ENGINE: usize = 2;
/// How long an engine has to answer a ping before it counts as lost.
pub const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// TLS client files in the docker CLI's layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    /// `ca.pem`, `cert.pem` and `key.pem` in `dir`; each must exist.
    pub fn in_dir(dir: &Path) -> Result<TlsFiles> {
        let files = TlsFiles { ca: dir.join("ca.pem"), cert: dir.join("cert.pem"), key: dir.join("key.pem") };
        for file in [&files.ca, &files.cert, &files.key] {
            if !file.is_file() {
                bail!("TLS certificate directory {}: {} is missing", dir.display(), file.display());
            }
        }
        Ok(files)
    }
}

/// One Docker Engine API endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    /// The address as given (`unix:///…`, `tcp://…`), used in messages and the progress line.
    pub host: String,
    pub tls: Option<TlsFiles>,
    /// How many sandboxes may run on it at once (`None`: as many as the run's workers).
    pub slots: Option<usize>,
}

impl Engine {
    /// Checks an address against the rules in the module comment.
    pub fn new(host: &str, tls: Option<TlsFiles>, slots: Option<usize>) -> Result<Engine> {
        let engine = Engine { host: host.to_string(), tls, slots };
        if let Some(path) = host.strip_prefix("unix://") {
            if path.is_empty() {
                bail!("engine {host}: no socket path after unix://");
            }
            if engine.tls.is_some() {
                bail!("engine {host}: TLS certificates are for tcp:// engines, not a unix socket");
            }
            return Ok(engine);
        }
        if let Some(rest) = host.strip_prefix("tcp://").or_else(|| host.strip_prefix("https://")) {
            let authority = rest.split('/').next().unwrap_or_default();
            let name = host_part(authority);
            if name.is_empty() {
                bail!("engine {host}: no host name after tcp://");
            }
            if engine.tls.is_none() && !is_loopback(name) {
                bail!(
                    "engine {host}: plain TCP to a host other than this machine is refused: whoever reaches a Docker \
                     engine's port controls that machine as root. Give TLS client certificates (DOCKER_TLS_VERIFY=1 \
                     DOCKER_CERT_PATH=DIR holding ca.pem, cert.pem and key.pem, or cert_path in the engines file), \
                     or tunnel it over ssh to a unix socket"
                );
            }
            return Ok(engine);
        }
        if host.starts_with("ssh://") {
            bail!(
                "engine {host}: ssh:// is not supported; tunnel the remote socket instead \
                 (ssh -NL /tmp/remote-docker.sock:/var/run/docker.sock HOST) and use unix:///tmp/remote-docker.sock"
            );
        }
        bail!("engine {host}: unknown address (expected unix:///PATH or tcp://HOST:PORT)")
    }

    /// The engine the docker CLI would use: `DOCKER_HOST`, with TLS when `DOCKER_TLS_VERIFY` is
    /// set (certificates from `DOCKER_CERT_PATH`, else `~/.docker`).
    pub fn from_env() -> Result<Engine> {
        let host = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty());
        let host = host.as_deref().unwrap_or(DEFAULT_SOCKET);
        Engine::new(host, env_tls().with_context(|| format!("DOCKER_HOST={host}"))?, None)
    }

    /// A client for this engine, its API version agreed with the daemon (older daemons, such as
    /// Debian's 20.10, refuse bollard's default version).
    pub async fn connect(&self) -> Result<Docker> {
        let hint =
            || format!("cannot reach the Docker engine at {} (start a local one with scripts/docker-up.sh)", self.host);
        let docker = match (&self.tls, self.host.strip_prefix("unix://")) {
            (_, Some(path)) => Docker::connect_with_unix(path, REQUEST_TIMEOUT_SECS, bollard::API_DEFAULT_VERSION),
            (Some(tls), None) => Docker::connect_with_ssl(
                &self.host,
                &tls.key,
                &tls.cert,
                &tls.ca,
                REQUEST_TIMEOUT_SECS,
                bollard::API_DEFAULT_VERSION,
            ),
            (None, None) => Docker::connect_with_http(&self.host, REQUEST_TIMEOUT_SECS, bollard::API_DEFAULT_VERSION),
        }
        .with_context(hint)?;
        match tokio::time::timeout(PING_TIMEOUT, docker.negotiate_version()).await {
            Ok(answer) => answer.with_context(hint),
            Err(_) => Err(anyhow::anyhow!("no answer within {PING_TIMEOUT:?}")).with_context(hint),
        }
    }

    /// Whether the engine answers a ping within [`PING_TIMEOUT`].
    pub async fn answers(&self) -> bool {
        let ping = async { self.connect().await.ok()?.ping().await.ok() };
        matches!(tokio::time::timeout(PING_TIMEOUT, ping).await, Ok(Some(_)))
    }
}

/// `host` of `host:port`, `[v6]:port` or a bare host.
fn host_part(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    authority.rsplit_once(':').map_or(authority, |(host, _)| host)
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// TLS files when `DOCKER_TLS_VERIFY` asks for them (the docker CLI treats any non-empty value as on).
fn env_tls() -> Result<Option<TlsFiles>> {
    if std::env::var("DOCKER_TLS_VERIFY").map_or(true, |v| v.is_empty()) {
        return Ok(None);
    }
    let dir = match std::env::var("DOCKER_CERT_PATH").ok().filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(
            std::env::var("HOME").context("DOCKER_TLS_VERIFY is set but neither DOCKER_CERT_PATH nor HOME")?,
        )
        .join(".docker"),
    };
    TlsFiles::in_dir(&dir).map(Some)
}

/// The engines file: `[[engine]]` tables with `host`, optional `cert_path` and `slots`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnginesFile {
    engine: Vec<EngineEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EngineEntry {
    host: String,
    cert_path: Option<PathBuf>,
    slots: Option<usize>,
}

/// Reads an engines file; relative certificate paths are relative to the file.
pub fn read_engines_file(path: &Path) -> Result<Vec<Engine>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read engines file {}", path.display()))?;
    let file: EnginesFile = toml::from_str(&text).with_context(|| format!("engines file {}", path.display()))?;
    if file.engine.is_empty() {
        bail!("engines file {}: no [[engine]] entries", path.display());
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let mut engines = Vec::new();
    for (index, entry) in file.engine.into_iter().enumerate() {
        let context = || format!("engines file {}: engine {}", path.display(), index + 1);
        if entry.slots == Some(0) {
            bail!("{}: slots must be at least 1", context());
        }
        let tls = entry.cert_path.map(|dir| TlsFiles::in_dir(&base.join(dir))).transpose().with_context(context)?;
        engines.push(Engine::new(&entry.host, tls, entry.slots).with_context(context)?);
    }
    Ok(engines)
}

/// `--docker-host` values: TLS from `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH` for `tcp://` ones.
pub fn engines_from_hosts(hosts: &[String]) -> Result<Vec<Engine>> {
    let tls = env_tls()?;
    hosts
        .iter()
        .map(|host| Engine::new(host, if host.starts_with("unix://") { None } else { tls.clone() }, None))
        .collect()
}

static CONFIGURED: OnceLock<Vec<Engine>> = OnceLock::new();

/// Records the engines of this process (the CLI calls it once, from `--docker-host`/`--engines`).
pub fn configure(engines: Vec<Engine>) -> Result<()> {
    if engines.is_empty() {
        bail!("no Docker engine configured");
    }
    CONFIGURED.set(engines).map_err(|_| anyhow::anyhow!("the Docker engines were configured twice"))
}

/// The configured engines, or the one from the environment.
pub fn configured() -> Result<Vec<Engine>> {
    match CONFIGURED.get() {
        Some(engines) => Ok(engines.clone()),
        None => Ok(vec![Engine::from_env()?]),
    }
}

/// The first configured engine: where single-sandbox commands and image builds go.
pub fn default_engine() -> Result<Engine> {
    Ok(configured()?.swap_remove(0))
}

/// One engine of a pool and what it is doing.
struct Member {
    engine: Engine,
    slots: usize,
    busy: AtomicUsize,
    failures: AtomicUsize,
    lost: AtomicBool,
}

/// Engines a run spreads its sandboxes over: a sandbox goes to the engine with the most free
/// slots among those not lost. Cheap to clone (shared).
#[derive(Clone)]
pub struct Engines {
    members: Arc<Vec<Member>>,
    freed: Arc<tokio::sync::Notify>,
}

/// A slot on one engine, given back when dropped.
pub struct Lease {
    pool: Engines,
    index: usize,
}

impl Engines {
    /// A pool of `engines`; an engine without a slot count gets `default_slots`.
    pub fn new(engines: Vec<Engine>, default_slots: usize) -> Engines {
        let members = engines
            .into_iter()
            .map(|engine| Member {
                slots: engine.slots.unwrap_or(default_slots).max(1),
                engine,
                busy: AtomicUsize::new(0),
                failures: AtomicUsize::new(0),
                lost: AtomicBool::new(false),
            })
            .collect();
        Engines { members: Arc::new(members), freed: Arc::new(tokio::sync::Notify::new()) }
    }

    /// The configured engines, `default_slots` each unless the engines file says otherwise.
    pub fn configured(default_slots: usize) -> Result<Engines> {
        Ok(Engines::new(configured()?, default_slots))
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Waits for a free slot on an engine that is not lost; an error once every engine is lost.
    pub async fn acquire(&self) -> Result<Lease> {
        loop {
            let freed = self.freed.notified();
            if let Some(lease) = self.try_acquire()? {
                return Ok(lease);
            }
            freed.await;
        }
    }

    fn try_acquire(&self) -> Result<Option<Lease>> {
        let live: Vec<usize> =
            (0..self.members.len()).filter(|&i| !self.members[i].lost.load(Ordering::SeqCst)).collect();
        if live.is_empty() {
            let names: Vec<&str> = self.members.iter().map(|m| m.engine.host.as_str()).collect();
            bail!("every Docker engine of this run stopped answering ({})", names.join(", "));
        }
        // Most free slots first; ties go to the engine listed first.
        let free = |i: usize| self.members[i].slots.saturating_sub(self.members[i].busy.load(Ordering::SeqCst));
        let Some(&best) = live.iter().filter(|&&i| free(i) > 0).max_by_key(|&&i| (free(i), std::cmp::Reverse(i)))
        else {
            return Ok(None);
        };
        let member = &self.members[best];
        let taken = member
            .busy
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |busy| (busy < member.slots).then_some(busy + 1));
        Ok(taken.is_ok().then(|| Lease { pool: self.clone(), index: best }))
    }

    /// Marks an engine lost: no new sandbox goes there, and waiting acquirers look again.
    pub fn mark_lost(&self, engine: &Engine) {
        for member in self.members.iter().filter(|m| &m.engine == engine) {
            member.lost.store(true, Ordering::SeqCst);
        }
        self.freed.notify_waiters();
    }

    /// The engines other than `engine` that are not lost (image sources).
    pub fn others(&self, engine: &Engine) -> Vec<Engine> {
        self.members
            .iter()
            .filter(|m| &m.engine != engine && !m.lost.load(Ordering::SeqCst))
            .map(|m| m.engine.clone())
            .collect()
    }

    /// `HOST busy/slots` per engine, with failures and `lost` when there are any.
    pub fn status(&self) -> String {
        let parts: Vec<String> = self
            .members
            .iter()
            .map(|m| {
                let mut part = format!("{} {}/{}", m.engine.host, m.busy.load(Ordering::SeqCst), m.slots);
                let failures = m.failures.load(Ordering::SeqCst);
                if failures > 0 {
                    part.push_str(&format!(" {failures} failed"));
                }
                if m.lost.load(Ordering::SeqCst) {
                    part.push_str(" lost");
                }
                part
            })
            .collect();
        parts.join(", ")
    }
}

impl Lease {
    pub fn engine(&self) -> &Engine {
        &self.pool.members[self.index].engine
    }

    pub fn pool(&self) -> &Engines {
        &self.pool
    }

    /// After a failure on this lease's engine: whether to start the work over elsewhere. Yes
    /// when `retries` are left and the engine no longer answers; the engine is then counted a
    /// failure and marked lost. A failure on an engine that answers is the work's own.
    pub async fn retry_elsewhere(&self, retries: usize) -> bool {
        if retries >= RETRIES_ON_LOST_ENGINE || self.engine().answers().await {
            return false;
        }
        self.pool.members[self.index].failures.fetch_add(1, Ordering::SeqCst);
        self.pool.mark_lost(self.engine());
        true
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.pool.members[self.index].busy.fetch_sub(1, Ordering::SeqCst);
        self.pool.freed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls() -> Option<TlsFiles> {
        Some(TlsFiles { ca: "ca".into(), cert: "cert".into(), key: "key".into() })
    }

    #[test]
    fn addresses_follow_the_rules() {
        assert!(Engine::new("unix:///var/run/docker.sock", None, None).is_ok());
        assert!(Engine::new("tcp://127.0.0.1:2375", None, None).is_ok());
        assert!(Engine::new("tcp://localhost:2375", None, None).is_ok());
        assert!(Engine::new("tcp://[::1]:2375", None, None).is_ok());
        assert!(Engine::new("tcp://10.1.2.3:2376", tls(), None).is_ok());
        let plain = Engine::new("tcp://10.1.2.3:2375", None, None).unwrap_err().to_string();
        assert!(plain.contains("plain TCP") && plain.contains("10.1.2.3"), "{plain}");
        assert!(Engine::new("tcp://docker.example:2375", None, None).is_err());
        assert!(Engine::new("ssh://me@host", None, None).unwrap_err().to_string().contains("ssh -NL"));
        assert!(Engine::new("unix://", None, None).is_err());
        assert!(Engine::new("unix:///s", tls(), None).is_err());
        assert!(Engine::new("npipe:////./pipe/docker", None, None).is_err());
    }

    #[tokio::test]
    async fn leases_go_to_the_engine_with_the_most_free_slots_and_skip_lost_ones() {
        let a = Engine::new("unix:///a", None, Some(2)).unwrap();
        let b = Engine::new("unix:///b", None, Some(1)).unwrap();
        let pool = Engines::new(vec![a.clone(), b.clone()], 4);
        let first = pool.acquire().await.unwrap();
        assert_eq!(first.engine(), &a);
        // a has 1 free, b has 1 free: the tie goes to the first listed.
        let second = pool.acquire().await.unwrap();
        assert_eq!(second.engine(), &a);
        let third = pool.acquire().await.unwrap();
        assert_eq!(third.engine(), &b);
        assert!(pool.try_acquire().unwrap().is_none(), "every slot is taken");
        assert_eq!(pool.status(), "unix:///a 2/2, unix:///b 1/1");
        drop(third);
        pool.mark_lost(&b);
        assert!(pool.try_acquire().unwrap().is_none(), "b is lost and a is full");
        let waiter = tokio::spawn({
            let pool = pool.clone();
            async move { pool.acquire().await.map(|lease| lease.engine().clone()) }
        });
        drop(first);
        assert_eq!(waiter.await.unwrap().unwrap(), a);
        pool.mark_lost(&a);
        let refused = pool.acquire().await.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(refused.contains("every Docker engine"), "{refused}");
        drop(second);
    }

    #[test]
    fn engines_files_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let certs = dir.path().join("certs");
        std::fs::create_dir(&certs).unwrap();
        for name in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::write(certs.join(name), "x").unwrap();
        }
        let file = dir.path().join("engines.toml");
        std::fs::write(
            &file,
            "[[engine]]\nhost = \"unix:///var/run/docker.sock\"\nslots = 3\n\n[[engine]]\nhost = \"tcp://10.0.0.2:2376\"\ncert_path = \"certs\"\n",
        )
        .unwrap();
        let engines = read_engines_file(&file).unwrap();
        assert_eq!(engines.len(), 2);
        assert_eq!(engines[0].slots, Some(3));
        assert_eq!(engines[1].tls.as_ref().unwrap().ca, certs.join("ca.pem"));
        std::fs::write(&file, "[[engine]]\nhost = \"tcp://10.0.0.2:2375\"\n").unwrap();
        let error = format!("{:#}", read_engines_file(&file).unwrap_err());
        assert!(error.contains("engine 1") && error.contains("plain TCP"), "{error}");
        std::fs::write(&file, "[[engine]]\nhost = \"tcp://10.0.0.2:2376\"\ncert_path = \"nowhere\"\n").unwrap();
        assert!(format!("{:#}", read_engines_file(&file).unwrap_err()).contains("ca.pem is missing"));
        std::fs::write(&file, "[[engine]]\nhost = \"unix:///s\"\nslot = 3\n").unwrap();
        assert!(read_engines_file(&file).is_err(), "unknown keys are refused");
    }
}
