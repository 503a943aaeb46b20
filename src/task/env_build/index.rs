//! The host's package-index settings, carried into a build container: pip's environment
//! (`PIP_*`), the CA-bundle and proxy variables, pip's configuration files and the files they
//! name (CA bundle, client certificate, local `find-links` folders). Without the host's CA
//! bundle, pip in a container on a machine behind an inspecting proxy fails with "No matching
//! distribution found".
//!
//! Files go in at the paths the settings name (so the settings need no rewriting); a user's
//! pip configuration goes to root's, since the build runs as root. `srl env build` takes them
//! out again before the image is committed: an image must not carry the host's index
//! credentials. Reads the environment and the file system; [`collect`] is the pure part.

use std::path::{Path, PathBuf};

/// Environment variables carried as they are, besides every `PIP_*` one.
const CARRIED: [&str; 12] = [
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
];
/// Variables whose value is a file the container needs too.
const FILE_VARS: [&str; 6] =
    ["PIP_CERT", "PIP_CLIENT_CERT", "PIP_CONFIG_FILE", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"];
/// pip's site-wide configuration files, which go in at the same path.
const SITE_CONFIGS: [&str; 2] = ["/etc/pip.conf", "/etc/xdg/pip/pip.conf"];
/// A user's configuration files (relative to `$HOME`) and where they go: root's home.
const USER_CONFIGS: [(&str, &str); 2] =
    [(".config/pip/pip.conf", "/root/.config/pip/pip.conf"), (".pip/pip.conf", "/root/.pip/pip.conf")];

/// What a build container gets from the host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexSettings {
    /// `KEY=value` for the build's commands.
    pub env: Vec<String>,
    /// Host file or folder → absolute path in the container.
    pub files: Vec<(PathBuf, String)>,
}

/// The settings of this process's environment and file system.
pub fn host_settings() -> IndexSettings {
    let vars: Vec<(String, String)> = std::env::vars().collect();
    let home = std::env::var_os("HOME").map(PathBuf::from);
    collect(&vars, home.as_deref(), &|path| std::fs::read_to_string(path).ok(), &|path| path.exists())
}

/// The settings given the environment `vars`, `home`, a way to `read` a config file and to
/// tell whether a path `exists`.
pub fn collect(
    vars: &[(String, String)],
    home: Option<&Path>,
    read: &dyn Fn(&Path) -> Option<String>,
    exists: &dyn Fn(&Path) -> bool,
) -> IndexSettings {
    let mut settings = IndexSettings::default();
    let add_file = |host: PathBuf, target: String, files: &mut Vec<(PathBuf, String)>| {
        if host.is_absolute() && exists(&host) && !files.iter().any(|(_, t)| *t == target) {
            files.push((host, target));
        }
    };
    let mut named = Vec::new();
    for (key, value) in vars {
        if key.starts_with("PIP_") || CARRIED.contains(&key.as_str()) {
            settings.env.push(format!("{key}={value}"));
        }
        if FILE_VARS.contains(&key.as_str()) {
            named.push(PathBuf::from(value));
        }
        if key == "PIP_FIND_LINKS" {
            named.extend(value.split_whitespace().map(PathBuf::from));
        }
    }
    let mut configs: Vec<(PathBuf, String)> = SITE_CONFIGS.iter().map(|p| (PathBuf::from(p), p.to_string())).collect();
    if let Some(home) = home {
        configs.extend(USER_CONFIGS.iter().map(|(rel, target)| (home.join(rel), target.to_string())));
    }
    for (host, target) in configs {
        if let Some(text) = read(&host) {
            named.extend(config_paths(&text));
            add_file(host, target, &mut settings.files);
        }
    }
    for path in named {
        let target = path.display().to_string();
        add_file(path, target, &mut settings.files);
    }
    settings.env.sort();
    settings
}

/// The local paths a pip configuration file names: `cert`, `client-cert`, `find-links`
/// (only absolute paths; URLs need nothing copied).
fn config_paths(text: &str) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else { continue };
        let key = key.trim().replace('_', "-");
        if matches!(key.as_str(), "cert" | "client-cert" | "find-links") {
            paths.extend(value.split_whitespace().filter(|v| v.starts_with('/')).map(PathBuf::from));
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(vars: &[(&str, &str)], files: &[(&str, &str)], expect_env: &[&str], expect_files: &[(&str, &str)]) {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let read = |path: &Path| files.iter().find(|(p, _)| Path::new(p) == path).map(|(_, text)| text.to_string());
        let exists = |path: &Path| files.iter().any(|(p, _)| Path::new(p) == path);
        let settings = collect(&vars, Some(Path::new("/home/me")), &read, &exists);
        assert_eq!(settings.env, expect_env);
        let got: Vec<(String, String)> =
            settings.files.iter().map(|(h, t)| (h.display().to_string(), t.clone())).collect();
        let expect: Vec<(String, String)> = expect_files.iter().map(|(h, t)| (h.to_string(), t.to_string())).collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn this_machines_settings_carry_the_ca_bundle_and_pip_conf() {
        check(
            &[
                ("PIP_CERT", "/etc/ssl/certs/ca-certificates.crt"),
                ("PIP_FIND_LINKS", "/opt/wheels"),
                ("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"),
                ("PATH", "/usr/bin"),
                ("HOME", "/home/me"),
            ],
            &[
                ("/etc/pip.conf", "[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n"),
                ("/etc/ssl/certs/ca-certificates.crt", ""),
                ("/opt/wheels", ""),
            ],
            &[
                "PIP_CERT=/etc/ssl/certs/ca-certificates.crt",
                "PIP_FIND_LINKS=/opt/wheels",
                "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
            ],
            &[
                ("/etc/pip.conf", "/etc/pip.conf"),
                ("/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs/ca-certificates.crt"),
                ("/opt/wheels", "/opt/wheels"),
            ],
        );
    }

    #[test]
    fn a_users_pip_conf_goes_to_root_and_missing_files_are_left_out() {
        check(
            &[("PIP_CLIENT_CERT", "/nowhere/client.pem"), ("https_proxy", "http://proxy:3128")],
            &[
                (
                    "/home/me/.config/pip/pip.conf",
                    "[global]\nindex-url = https://mirror/simple\nfind_links = /srv/wheels https://x\n",
                ),
                ("/srv/wheels", ""),
            ],
            &["PIP_CLIENT_CERT=/nowhere/client.pem", "https_proxy=http://proxy:3128"],
            &[("/home/me/.config/pip/pip.conf", "/root/.config/pip/pip.conf"), ("/srv/wheels", "/srv/wheels")],
        );
    }
}
