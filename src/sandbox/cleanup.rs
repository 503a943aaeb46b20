//! Removing sandbox containers: one run's (Ctrl-C, SIGTERM), and those whose creating process
//! died on this host (a crash, a SIGKILL), on every configured engine. Containers carry
//! `srl.run_id`, `srl.pid` and `srl.host` labels, set by `docker.rs`; an async `Drop` cannot
//! exist, so the orphan sweep is the crash cleanup.

use std::collections::HashMap;

use anyhow::{Context, Result};
use bollard::models::ContainerSummary;
use bollard::query_parameters::{ListContainersOptionsBuilder, RemoveContainerOptionsBuilder};
use bollard::Docker;

use super::docker::{LABEL_HOST, LABEL_PID, LABEL_RUN};
use super::engine::Engine;

/// Force-removes a container with its anonymous volumes; one already gone counts as removed.
pub(super) async fn remove_container(docker: &Docker, id: &str) -> Result<()> {
    let options = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
    match docker.remove_container(id, Some(options)).await {
        Ok(()) => Ok(()),
        // 404: already removed; 409: another cleanup is removing it right now.
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404 | 409, .. }) => Ok(()),
        Err(error) => Err(error).with_context(|| format!("failed to remove sandbox container {id}")),
    }
}

async fn list_labelled(docker: &Docker, label_filter: &str) -> Result<Vec<ContainerSummary>> {
    let filters = HashMap::from([("label", vec![label_filter.to_string()])]);
    let options = ListContainersOptionsBuilder::new().all(true).filters(&filters).build();
    docker
        .list_containers(Some(options))
        .await
        .with_context(|| format!("failed to list containers labelled {label_filter}"))
}

/// Removes every container of run `run_id`, running or not, on every configured engine;
/// returns how many. An engine that does not answer is skipped with a warning (its error is
/// returned when nothing could be removed anywhere).
pub async fn remove_run(run_id: &str) -> Result<usize> {
    let filter = format!("{LABEL_RUN}={run_id}");
    on_every_engine(|docker| {
        let filter = filter.clone();
        async move {
            let mut removed = 0;
            for container in list_labelled(&docker, &filter).await? {
                if let Some(id) = container.id {
                    remove_container(&docker, &id).await?;
                    removed += 1;
                }
            }
            Ok(removed)
        }
    })
    .await
}

/// Removes the sandbox containers left by processes of this host that no longer exist
/// (a crash, a SIGKILL), on every configured engine; returns how many. Containers of live
/// processes and of other hosts sharing an engine are left alone.
pub async fn remove_orphans() -> Result<usize> {
    on_every_engine(|docker| async move { remove_orphans_on(&docker).await }).await
}

/// [`remove_orphans`] on one engine.
async fn remove_orphans_on(docker: &Docker) -> Result<usize> {
    let host = host_name();
    let mut removed = 0;
    for container in list_labelled(docker, LABEL_RUN).await? {
        let orphan = container.labels.as_ref().is_some_and(|labels| is_orphan(labels, &host, process_alive));
        if let (true, Some(id)) = (orphan, container.id) {
            remove_container(docker, &id).await?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// The orphan sweep before this process's first sandbox on `engine`; later sandboxes on the
/// same engine skip it (a sweep is a list request plus removals, on every sandbox start before).
pub async fn sweep_orphans_once(engine: &Engine) {
    static SWEPT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    {
        let mut swept = SWEPT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if swept.contains(&engine.host) {
            return;
        }
        swept.push(engine.host.clone());
    }
    let result = match engine.connect().await {
        Ok(docker) => remove_orphans_on(&docker).await,
        Err(error) => Err(error),
    };
    match result {
        Ok(0) => {}
        Ok(n) => tracing::info!("removed {n} sandbox containers left behind by dead runs on {}", engine.host),
        Err(e) => tracing::warn!("cannot look for orphaned sandbox containers on {}: {e:#}", engine.host),
    }
}

/// Runs `clean` on each configured engine and adds up what it removed.
async fn on_every_engine<F, Fut>(clean: F) -> Result<usize>
where
    F: Fn(Docker) -> Fut,
    Fut: std::future::Future<Output = Result<usize>>,
{
    let mut removed = 0;
    let mut failed = None;
    for engine in super::engine::configured()? {
        let result = match engine.connect().await {
            Ok(docker) => clean(docker).await,
            Err(error) => Err(error),
        };
        match result.with_context(|| format!("engine {}", engine.host)) {
            Ok(n) => removed += n,
            Err(error) => {
                tracing::warn!("{error:#}");
                failed = Some(error);
            }
        }
    }
    match failed {
        Some(error) if removed == 0 => Err(error),
        _ => Ok(removed),
    }
}

/// Whether a container's labels name this host and a process that is gone. Unreadable labels
/// never make an orphan: removing a live run's sandbox is worse than leaking one.
fn is_orphan(labels: &HashMap<String, String>, host: &str, alive: impl Fn(i32) -> bool) -> bool {
    if labels.get(LABEL_HOST).map(String::as_str) != Some(host) {
        return false;
    }
    match labels.get(LABEL_PID).and_then(|pid| pid.parse::<i32>().ok()) {
        Some(pid) if pid > 0 => !alive(pid),
        _ => false,
    }
}

/// Signal 0 checks existence without sending anything; EPERM means it exists under another user.
pub(super) fn process_alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only performs the permission and existence checks.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

pub(super) fn host_name() -> String {
    let mut buffer = [0u8; 256];
    // SAFETY: the pointer and length describe `buffer`, which outlives the call.
    let result = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    if result != 0 {
        return "unknown".to_string();
    }
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    String::from_utf8_lossy(&buffer[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(host: &str, pid: &str) -> HashMap<String, String> {
        HashMap::from([
            (LABEL_RUN.to_string(), "r".to_string()),
            (LABEL_PID.to_string(), pid.to_string()),
            (LABEL_HOST.to_string(), host.to_string()),
        ])
    }

    #[test]
    fn orphans_are_dead_processes_of_this_host_only() {
        let dead = |_| false;
        let alive = |_| true;
        assert!(is_orphan(&labels("h", "42"), "h", dead));
        assert!(!is_orphan(&labels("h", "42"), "h", alive));
        assert!(!is_orphan(&labels("other", "42"), "h", dead));
        assert!(!is_orphan(&labels("h", "not a pid"), "h", dead));
        assert!(!is_orphan(&labels("h", "0"), "h", dead));
        assert!(!is_orphan(&HashMap::new(), "h", dead));
    }

    #[test]
    fn this_process_is_alive_and_an_impossible_pid_is_not() {
        assert!(process_alive(std::process::id() as i32));
        // Above the kernel's largest pid_max (2^22).
        assert!(!process_alive(999_999_999));
    }
}
