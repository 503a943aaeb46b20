//! The environment and repository setup a SWE-bench spec describes, as one bash script run in
//! the repository at its base commit: what the harness's env and instance images do
//! (`make_env_script_list_py`, `make_repo_script_list_py`, v4.1.0), written for a sandbox that
//! already holds the repository.
//!
//! Order: the conda environment (`python` and `conda_packages`, or the repository's
//! `environment_yml`), the repository's `requirements` file, `pip_packages`, the spec's
//! `extra_pip` pins, the `offline` substitutes when asked for, `pre_install`, `install`, and the
//! harness's empty `SWE-bench` commit.
//!
//! In an image without conda ([`PythonEnv::Venv`], `srl env build`), a venv made with the
//! image's `python3` takes the conda environment's place: the spec's conda packages go in with
//! pip, a conda environment file is skipped with a WARNING line, and pytest is installed last if
//! nothing brought it.
//!
//! Where it differs from the harness, and why: the harness downloads the requirements or
//! environment file at `environment_setup_commit` from GitHub and rewrites it (inlining `-r`
//! includes, dropping a few uninstallable packages); here the file is read from the repository
//! at the base commit, so a sandbox needs only the package indexes. Package specs are quoted
//! (`'numpy<2'` would otherwise be a redirection); the spec's commands are used as written.

use super::eval_script::quote;
use super::spec::Spec;

/// What the setup adds beyond SWE-bench.
pub struct SetupOptions {
    /// Install the spec's `offline` substitutes, for test runs without network.
    pub offline_substitutes: bool,
    pub python: PythonEnv,
}

/// Where the spec's packages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PythonEnv {
    /// The harness's conda environment (`spec.conda_env`) under `/opt/miniconda3`.
    Conda,
    /// A venv made at this path with the image's `python3` (images without conda: `srl env
    /// build`). The spec's conda packages are installed with pip, a conda environment file is
    /// skipped with a warning in the log, and pytest is installed when nothing else brought it.
    Venv(String),
}

/// The setup script for a repository described by `spec`, checked out at `repo_dir`.
pub fn setup_script(spec: &Spec, repo_dir: &str, options: &SetupOptions) -> String {
    let mut lines =
        vec!["#!/bin/bash".to_string(), "set -euxo pipefail".to_string(), format!("cd {}", quote(repo_dir))];
    match (&options.python, &spec.conda_env) {
        (PythonEnv::Conda, Some(env)) => lines.extend(conda_environment(spec, env)),
        (PythonEnv::Conda, None) => {}
        (PythonEnv::Venv(path), _) => lines.extend(venv_environment(spec, path)),
    }
    if !spec.requirements.is_empty() {
        lines.push(first_existing(&spec.requirements, "python -m pip install -r \"$f\""));
    }
    let offline: &[String] = if options.offline_substitutes { &spec.offline.pip } else { &[] };
    for packages in [&spec.pip_packages[..], &spec.extra_pip, offline] {
        if !packages.is_empty() {
            lines.push(format!("python -m pip install {}", quoted(packages)));
        }
    }
    if options.offline_substitutes {
        lines.extend(spec.offline.commands.iter().cloned());
    }
    lines.extend(spec.pre_install.iter().cloned());
    lines.extend(spec.install.iter().cloned());
    if let PythonEnv::Venv(_) = options.python {
        // Conda brings pytest along in the harness's images; a bare venv has none.
        lines.push("python -c 'import pytest' 2>/dev/null || python -m pip install pytest".to_string());
    }
    lines.extend([
        "git config --global user.email setup@swebench.config".to_string(),
        "git config --global user.name SWE-bench".to_string(),
        "git commit --allow-empty -am SWE-bench".to_string(),
    ]);
    lines.join("\n") + "\n"
}

/// Creating and activating the conda environment `env`.
fn conda_environment(spec: &Spec, env: &str) -> Vec<String> {
    let env = quote(env);
    let python = quote(&format!("python={}", spec.python));
    let mut lines = vec!["source /opt/miniconda3/bin/activate".to_string()];
    if spec.environment_yml.is_empty() {
        let packages =
            if spec.conda_packages.is_empty() { String::new() } else { format!(" {}", quoted(&spec.conda_packages)) };
        lines.push(format!("conda create -n {env} {python}{packages} -y"));
    } else if spec.no_use_env {
        lines.push(format!("conda create -c conda-forge -n {env} {python} -y"));
        lines.push(first_existing(&spec.environment_yml, &format!("conda env update -n {env} -f \"$f\"")));
    } else {
        lines.push(first_existing(&spec.environment_yml, &format!("conda env create -n {env} -f \"$f\"")));
        lines.push(format!("conda install -n {env} {python} -y"));
    }
    lines.push(format!("conda activate {env}"));
    lines
}

/// Creating and activating a venv at `path`, with what conda would have installed.
fn venv_environment(spec: &Spec, path: &str) -> Vec<String> {
    let path = quote(path);
    let mut lines = vec![format!("python3 -m venv {path}"), format!("source {path}/bin/activate")];
    if !spec.environment_yml.is_empty() {
        let files = spec.environment_yml.join(", ");
        let warning = format!("WARNING: no conda here: the conda environment file ({files}) is not installed");
        lines.push(format!("echo {} >&2", quote(&warning)));
    }
    if !spec.conda_packages.is_empty() {
        lines.push(format!("python -m pip install {}", quoted(&spec.conda_packages)));
    }
    lines
}

/// Runs `command` with `$f` set to the first of `candidates` that exists (the harness tries its
/// candidate paths in order too).
fn first_existing(candidates: &[String], command: &str) -> String {
    format!("for f in {}; do if [ -f \"$f\" ]; then {command}; break; fi; done", quoted(candidates))
}

fn quoted(words: &[String]) -> String {
    words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::spec::Specs;

    fn check(repo: &str, version: &str, offline: bool, expect: &str) {
        check_in(repo, version, &SetupOptions { offline_substitutes: offline, python: PythonEnv::Conda }, expect);
    }

    fn check_in(repo: &str, version: &str, options: &SetupOptions, expect: &str) {
        let specs = Specs::builtin();
        let spec = specs.find(repo, version).expect("a built-in spec");
        let script = setup_script(spec, "/testbed", options);
        assert_eq!(script, expect);
    }

    const COMMIT: &str =
        "git config --global user.email setup@swebench.config\ngit config --global user.name SWE-bench\n\
                          git commit --allow-empty -am SWE-bench\n";

    #[test]
    fn pydicom_offline_gets_its_test_data_from_a_package() {
        let head = "#!/bin/bash\nset -euxo pipefail\ncd /testbed\nsource /opt/miniconda3/bin/activate\n\
                    conda create -n testbed python=3.9 numpy -y\nconda activate testbed\npython -m pip install pytest\n\
                    python -m pip install 'numpy<2'\n";
        check(
            "pydicom/pydicom",
            "2.2",
            true,
            &format!("{head}python -m pip install pydicom-data\npython -m pip install -e .\n{COMMIT}"),
        );
        check("pydicom/pydicom", "2.2", false, &format!("{head}python -m pip install -e .\n{COMMIT}"));
    }

    #[test]
    fn requirements_and_environment_files_are_read_from_the_repository() {
        check(
            "django/django",
            "4.2",
            false,
            &format!(
                "#!/bin/bash\nset -euxo pipefail\ncd /testbed\nsource /opt/miniconda3/bin/activate\n\
                 conda create -n testbed python=3.9 -y\nconda activate testbed\n\
                 for f in tests/requirements/py3.txt; do if [ -f \"$f\" ]; then python -m pip install -r \"$f\"; break; fi; done\n\
                 python -m pip install -e .\n{COMMIT}"
            ),
        );
        let specs = Specs::builtin();
        let xarray = setup_script(
            specs.find("pydata/xarray", "2022.06").expect("xarray"),
            "/testbed",
            &SetupOptions { offline_substitutes: false, python: PythonEnv::Conda },
        );
        assert!(
            xarray.contains(
                "conda create -c conda-forge -n testbed python=3.10 -y\nfor f in ci/requirements/environment.yml \
             environment.yml; do if [ -f \"$f\" ]; then conda env update -n testbed -f \"$f\"; break; fi; done\n"
            ),
            "{xarray}"
        );
    }

    #[test]
    fn a_venv_replaces_conda_in_images_without_it() {
        let options = SetupOptions { offline_substitutes: true, python: PythonEnv::Venv("/opt/venv".into()) };
        check_in(
            "pydicom/pydicom",
            "2.2",
            &options,
            &format!(
                "#!/bin/bash\nset -euxo pipefail\ncd /testbed\npython3 -m venv /opt/venv\nsource /opt/venv/bin/activate\n\
                 python -m pip install numpy\npython -m pip install pytest\npython -m pip install 'numpy<2'\n\
                 python -m pip install pydicom-data\npython -m pip install -e .\n\
                 python -c 'import pytest' 2>/dev/null || python -m pip install pytest\n{COMMIT}"
            ),
        );
        let specs = Specs::builtin();
        let xarray = setup_script(specs.find("pydata/xarray", "2022.06").expect("xarray"), "/testbed", &options);
        assert!(xarray.contains("echo 'WARNING: no conda here: the conda environment file (ci/requirements/environment.yml, environment.yml) is not installed' >&2\n"), "{xarray}");
    }
}
