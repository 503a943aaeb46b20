//! A second Docker engine for tests of remote engines: a `dockerd` of its own on a loopback TCP
//! port with TLS client verification (certificates made here), beside the machine's main engine,
//! which it never touches. [`SecondEngine`] is a guard: dropping it, panics included, stops the
//! engine and removes everything it made.
//!
//! Each guard has its own directory `/tmp/srl-e2-<pid>-<n>` holding the certificates, the
//! engine's data root, exec root, pid file, log and unix socket. It is under `/tmp` rather than
//! `$TMPDIR` because unix socket paths (containerd's lives in the exec root) must stay under 108
//! bytes. It is a loop-mounted sparse ext4 image (`<dir>.ext4`): deleting an engine's files
//! (~9,000 for the sandbox image) took 1 to 26 s on this machine's ext4 (mounted with
//! `discard`), dropping the image takes milliseconds; it stays on the disk where mounting fails. Directories of test processes that died
//! without dropping their guard (a killed test run) are cleaned up by the next
//! [`SecondEngine::start`].
//!
//! Storage: `overlay2`, which needs no setup (no loop image, no quotas) and works on tmpfs, ext4
//! and xfs; `vfs` (which copies every layer, so it is slow) where overlay2 fails to start, as on
//! an overlayfs. Neither limits a container's disk, so the sandbox sets no `size` storage option.

use std::io::{Read, Write};
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

const DIR_PREFIX: &str = "srl-e2-";

/// A running second engine; see the module documentation.
pub struct SecondEngine {
    dir: PathBuf,
    port: u16,
    certs: PathBuf,
    wrong_certs: PathBuf,
    /// `None` once stopped or killed.
    dockerd: Option<Child>,
}

impl SecondEngine {
    /// Starts the engine; Err with a clear message (and dockerd log tail) if it cannot. Retries
    /// with another port when the one picked was taken meanwhile, and with `vfs` when overlay2
    /// does not work on this machine.
    pub fn start() -> Result<SecondEngine> {
        clean_stale();
        let mut driver = "overlay2";
        for attempt in 1.. {
            match SecondEngine::start_with(driver) {
                Err(error) if attempt < 3 && format!("{error:#}").contains("address already in use") => {}
                Err(error) if attempt < 3 && format!("{error:#}").contains("error initializing graphdriver") => {
                    driver = "vfs";
                }
                result => return result,
            }
        }
        unreachable!("the third attempt returns")
    }

    fn start_with(driver: &str) -> Result<SecondEngine> {
        let dir = new_dir()?;
        // The guard owns the directory from here, so that an error below still cleans it up.
        let mut engine = SecondEngine {
            port: 0,
            certs: dir.join("certs"),
            wrong_certs: dir.join("wrong-certs"),
            dir,
            dockerd: None,
        };
        let dir = &engine.dir;
        // On a file system of its own, a sparse ext4 image: deleting the engine's many small
        // files one by one takes tens of seconds on some disks (ext4 mounted with `discard`),
        // dropping one image file takes none. Not a tmpfs: there a sandbox's writes would count
        // against its memory limit, and the hostile suite's large files would meet the memory
        // limit instead of the file size limit. On the plain disk if it cannot be made.
        let image = image_of(dir);
        let made = std::fs::File::create(&image).and_then(|file| file.set_len(16 << 30)).is_ok()
            && Command::new("mkfs.ext4")
                .args(["-q", "-F", "-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard"])
                .arg(&image)
                .status()
                .is_ok_and(|status| status.success());
        if !made || !Command::new("mount").args(["-o", "loop"]).arg(&image).arg(dir).status().is_ok_and(|s| s.success())
        {
            let _ = std::fs::remove_file(&image);
        }
        write_certs(&engine.certs, &engine.wrong_certs)?;
        // An empty configuration keeps the machine's /etc/docker/daemon.json (hosts, storage
        // driver, ...) out of this engine.
        std::fs::write(dir.join("daemon.json"), "{}")?;
        let log = std::fs::File::create(dir.join("dockerd.log"))?;
        // Free when we looked; another process may take it before dockerd does (start retries).
        engine.port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut command = Command::new("dockerd");
        command.arg("--config-file").arg(dir.join("daemon.json"));
        command.args(["--tlsverify", "--tlscacert"]).arg(engine.certs.join("ca.pem"));
        command.arg("--tlscert").arg(engine.certs.join("server-cert.pem"));
        command.arg("--tlskey").arg(engine.certs.join("server-key.pem"));
        command.args(["-H", &engine.tcp_host(), "-H", &engine.unix_host()]);
        command.arg("--data-root").arg(dir.join("data"));
        command.arg("--exec-root").arg(dir.join("exec"));
        command.arg("--pidfile").arg(dir.join("dockerd.pid"));
        command.args(["--storage-driver", driver]);
        // Like scripts/docker-up.sh: sandboxes have no network, and the host's firewall stays.
        command.args(["--bridge=none", "--iptables=false", "--ip6tables=false"]);
        command.stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log);
        engine.dockerd = Some(command.spawn().context("cannot run dockerd")?);
        engine.wait_until_up(driver)?;
        Ok(engine)
    }

    /// Polls the engine's unix socket until it answers a ping; both sockets open together.
    fn wait_until_up(&mut self, driver: &str) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        let socket = self.dir.join("docker.sock");
        loop {
            let dockerd = self.dockerd.as_mut().expect("dockerd was started");
            if let Some(status) = dockerd.try_wait()? {
                bail!("second dockerd ({driver}) exited with {status}; its log ends:\n{}", self.log_tail());
            }
            if ping(&socket) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("second dockerd ({driver}) did not answer within 30 s; its log ends:\n{}", self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `tcp://127.0.0.1:PORT`
    pub fn tcp_host(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    /// `unix:///.../docker.sock` (its local socket, for setup only)
    pub fn unix_host(&self) -> String {
        format!("unix://{}", self.dir.join("docker.sock").display())
    }

    /// Directory with ca.pem, cert.pem, key.pem (client side, `DOCKER_CERT_PATH` layout), and the
    /// engine's own server-cert.pem and server-key.pem.
    pub fn cert_dir(&self) -> &Path {
        &self.certs
    }

    /// A directory with a client cert/CA that the engine does not trust and that does not trust
    /// the engine: ca.pem, cert.pem and key.pem of another CA. Mix its files with
    /// [`cert_dir`](Self::cert_dir)'s to get only one side wrong.
    pub fn wrong_cert_dir(&self) -> &Path {
        &self.wrong_certs
    }

    /// SIGKILLs dockerd now, as if the engine were lost mid-run. Its containers and their
    /// containerd shims keep running until the guard is dropped.
    pub fn kill_hard(&mut self) {
        if let Some(mut dockerd) = self.dockerd.take() {
            let _ = dockerd.kill();
            let _ = dockerd.wait();
        }
    }

    /// Copies `image` from the engine the `docker` CLI reaches by default (`DOCKER_HOST` and so
    /// on: the main engine) into this one, by `docker save | docker load`. A fallback for setup:
    /// the tests stream images over the Engine API; this takes ~6 s for the 214 MB sandbox image.
    pub fn load_image_via_cli(&self, image: &str) -> Result<()> {
        // DOCKER_CONTEXT conflicts with -H, DOCKER_TLS_VERIFY would talk TLS to the unix socket.
        let pipe = r#"docker save "$1" | env -u DOCKER_CONTEXT -u DOCKER_TLS_VERIFY docker -H "$2" load"#;
        let out = Command::new("bash")
            .args(["-o", "pipefail", "-c", pipe, "bash", image, &self.unix_host()])
            .output()
            .context("cannot run bash")?;
        let error = String::from_utf8_lossy(&out.stderr);
        ensure!(out.status.success(), "docker save {image} | docker load failed: {}", error.trim());
        Ok(())
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("dockerd.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for SecondEngine {
    /// Stops dockerd with SIGTERM, which stops its containers and containerd and unmounts their
    /// file systems, or with SIGKILL after 10 s; then removes whatever is left.
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("second engine {}: dockerd's log ends:\n{}", self.tcp_host(), self.log_tail());
        }
        if let Some(mut dockerd) = self.dockerd.take() {
            let _ = Command::new("kill").args(["-TERM", &dockerd.id().to_string()]).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while matches!(dockerd.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = dockerd.kill();
            let _ = dockerd.wait();
        }
        clean(&self.dir);
    }
}

/// Whether this machine can run a second engine (root, dockerd on PATH); with a reason when not.
/// Also checks for containerd, which dockerd starts, and the docker CLI, which
/// [`SecondEngine::load_image_via_cli`] runs.
pub fn second_engine_possible() -> Result<(), String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    // "Uid: real effective saved filesystem"
    let effective = status.lines().find_map(|line| line.strip_prefix("Uid:")?.split_whitespace().nth(1));
    if effective != Some("0") {
        return Err("a second Docker engine needs root".into());
    }
    for tool in ["dockerd", "containerd", "docker"] {
        let runs = Command::new(tool).arg("--version").output().is_ok_and(|out| out.status.success());
        if !runs {
            return Err(format!("`{tool} --version` does not run: no {tool} on PATH?"));
        }
    }
    Ok(())
}

/// Makes this guard's directory: `/tmp/srl-e2-<pid>-<n>`, the pid telling [`clean_stale`] whose it is.
fn new_dir() -> Result<PathBuf> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = PathBuf::from(format!("/tmp/{DIR_PREFIX}{}-{n}", std::process::id()));
        match std::fs::create_dir(&dir) {
            // Left by an earlier process that had our pid.
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            result => return result.with_context(|| format!("cannot create {}", dir.display())).map(|()| dir),
        }
    }
}

/// Cleans up after test processes that are gone without dropping their guards.
fn clean_stale() {
    for entry in std::fs::read_dir("/tmp").into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name.strip_prefix(DIR_PREFIX).and_then(|rest| rest.split_once('-')).map(|(pid, _)| pid);
        let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
        if is_dir && pid.is_some_and(|pid| pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists()) {
            clean(&entry.path());
        }
    }
}

/// Removes what an engine in `dir` left: its processes, mounts, cgroups and files.
fn clean(dir: &Path) {
    let marker = format!("{}/", dir.display());
    // Processes naming the directory (dockerd and containerd if they outlived the stop, the
    // containerd shims, which outlive a killed dockerd) and all under them: the containers.
    let processes = processes();
    let mut doomed: Vec<u32> = processes
        .iter()
        .filter(|p| p.pid != std::process::id() && p.args.iter().any(|arg| arg.contains(&marker)))
        .map(|p| p.pid)
        .collect();
    let mut container_ids = Vec::new();
    for p in processes.iter().filter(|p| doomed.contains(&p.pid)) {
        if let Some(i) = p.args.iter().position(|arg| arg == "-id") {
            container_ids.extend(p.args.get(i + 1).filter(|id| id.chars().all(|c| c.is_ascii_hexdigit())));
        }
    }
    while let Some(child) = processes.iter().find(|p| doomed.contains(&p.ppid) && !doomed.contains(&p.pid)) {
        doomed.push(child.pid);
    }
    if !doomed.is_empty() {
        let _ = Command::new("kill").arg("-KILL").args(doomed.iter().map(u32::to_string)).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while doomed.iter().any(|pid| alive(*pid)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    // The cgroups of killed containers (cgroupfs driver, v1 and v2 layouts); runc removes them
    // when containers stop normally.
    for id in container_ids {
        let _ = std::fs::remove_dir(Path::new("/sys/fs/cgroup/docker").join(id));
        for controller in std::fs::read_dir("/sys/fs/cgroup").into_iter().flatten().flatten() {
            let _ = std::fs::remove_dir(controller.path().join("docker").join(id));
        }
    }
    // Containers' root file systems, network namespaces, the data root's own bind mount: deepest
    // first, and lazily in case a process we could not kill still holds one.
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut mounts: Vec<&str> = mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .filter(|m| m.starts_with(&marker) || *m == marker.trim_end_matches('/'))
        .collect();
    mounts.sort_by_key(|mount| std::cmp::Reverse(mount.len()));
    if !mounts.is_empty() {
        let _ = Command::new("umount").arg("-l").args(&mounts).status();
    }
    if let Err(error) = std::fs::remove_dir_all(dir) {
        eprintln!("cannot remove the second engine's {}: {error}", dir.display());
    }
    let _ = std::fs::remove_file(image_of(dir));
}

/// The file system image an engine's directory is mounted from.
fn image_of(dir: &Path) -> std::path::PathBuf {
    dir.with_extension("ext4")
}

struct Process {
    pid: u32,
    ppid: u32,
    args: Vec<String>,
}

/// Every process on the machine.
fn processes() -> Vec<Process> {
    let read = |entry: std::fs::DirEntry| {
        let pid = entry.file_name().to_str()?.parse().ok()?;
        // "pid (comm) state ppid ...", where comm may hold spaces and parentheses.
        let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
        let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?;
        let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
        let args = cmdline.split(|b| *b == 0).map(|arg| String::from_utf8_lossy(arg).into_owned()).collect();
        Some(Process { pid, ppid, args })
    };
    std::fs::read_dir("/proc").into_iter().flatten().flatten().filter_map(read).collect()
}

/// Whether `pid` runs: exists and is not a zombie.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')))
}

/// Answers whether the engine behind `socket` answers `GET /_ping` with 200.
fn ping(socket: &Path) -> bool {
    let Ok(mut stream) = UnixStream::connect(socket) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut reply = String::new();
    stream.write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n").is_ok()
        && stream.read_to_string(&mut reply).is_ok()
        && reply.split_whitespace().nth(1) == Some("200")
}

/// Writes a CA, a server certificate for 127.0.0.1 and localhost and a client certificate into
/// `certs`; and into `wrong` a client certificate and CA of another, unrelated CA.
fn write_certs(certs: &Path, wrong: &Path) -> Result<()> {
    use ExtendedKeyUsagePurpose::{ClientAuth, ServerAuth};
    let (ca_pem, ca) = new_ca("srl test engine CA")?;
    let (server_pem, server_key) = new_leaf(&ca, &["127.0.0.1", "localhost"], ServerAuth)?;
    let (client_pem, client_key) = new_leaf(&ca, &[], ClientAuth)?;
    let (wrong_ca_pem, wrong_ca) = new_ca("srl test wrong CA")?;
    let (wrong_pem, wrong_key) = new_leaf(&wrong_ca, &[], ClientAuth)?;
    std::fs::DirBuilder::new().mode(0o700).create(certs)?;
    std::fs::DirBuilder::new().mode(0o700).create(wrong)?;
    let files = [
        (certs.join("ca.pem"), ca_pem),
        (certs.join("cert.pem"), client_pem),
        (certs.join("key.pem"), client_key),
        (certs.join("server-cert.pem"), server_pem),
        (certs.join("server-key.pem"), server_key),
        (wrong.join("ca.pem"), wrong_ca_pem),
        (wrong.join("cert.pem"), wrong_pem),
        (wrong.join("key.pem"), wrong_key),
    ];
    files.into_iter().try_for_each(|(path, pem)| std::fs::write(path, pem))?;
    Ok(())
}

/// A self-signed CA: its certificate's PEM, and the issuer that signs with it.
fn new_ca(name: &str) -> Result<(String, Issuer<'static, KeyPair>)> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let key = KeyPair::generate()?;
    let pem = params.self_signed(&key)?.pem();
    Ok((pem, Issuer::new(params, key)))
}

/// A certificate signed by `ca` for the names (IP addresses or DNS names) and the purpose given:
/// its PEM and its key's.
fn new_leaf(ca: &Issuer<'_, KeyPair>, names: &[&str], usage: ExtendedKeyUsagePurpose) -> Result<(String, String)> {
    let mut params = CertificateParams::new(names.iter().map(ToString::to_string).collect::<Vec<_>>())?;
    params.distinguished_name.push(DnType::CommonName, names.first().copied().unwrap_or("srl test client"));
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![usage];
    let key = KeyPair::generate()?;
    Ok((params.signed_by(&key, ca)?.pem(), key.serialize_pem()))
}
