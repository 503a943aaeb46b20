//! Which Docker image holds an instance's environment: the repository at `/testbed` with its
//! dependencies installed. Pure: a name from an instance and the naming settings.
//!
//! The rule, in order:
//! 1. the instance's own `image_name` (SWE-smith rows; R2E-Gym's `docker_image` is read into
//!    the same field), used as written;
//! 2. the shipped tasks (repository owner [`SHIPPED_OWNER`]): the SWE-bench rule under the
//!    namespace [`SHIPPED_NAMESPACE`], because nobody publishes them and `srl env build` makes
//!    them: `srl/sweb.eval.x86_64.srl-tasks_1776_build-graph-1:latest`;
//! 3. every other instance: the SWE-bench harness's name (v4.1.0 `test_spec.py`),
//!    `<namespace>/sweb.eval.x86_64.<instance id, lowercased, __ → _1776_>:<tag>`, or without a
//!    namespace the harness's local name `sweb.eval.x86_64.<instance id, lowercased>:<tag>`.
//!
//! `srl env build` tags what it builds with this same name, so eval, replay and the agent find
//! a built image and a pulled one the same way. Not handled: SWE-Gym's `xingyaoww/` names
//! (`__` → `_s_`); give those rows an `image_name`.

use super::instance::Instance;

/// The SWE-bench harness's default namespace on Docker Hub.
pub const SWEBENCH_NAMESPACE: &str = "swebench";
pub const DEFAULT_TAG: &str = "latest";
/// The owner in the `repo` of every shipped task (`srl-tasks/build-graph`).
pub const SHIPPED_OWNER: &str = "srl-tasks";
/// The namespace of the images `srl env build` makes for the shipped tasks.
pub const SHIPPED_NAMESPACE: &str = "srl";
const ARCH: &str = "x86_64";

/// How instance images are named where an instance names none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageNaming {
    /// `swebench` by default; empty: the harness's local names, which carry no namespace.
    pub namespace: String,
    pub tag: String,
}

impl ImageNaming {
    /// The names the SWE-bench harness pulls.
    pub fn swebench() -> ImageNaming {
        ImageNaming { namespace: SWEBENCH_NAMESPACE.to_string(), tag: DEFAULT_TAG.to_string() }
    }
}

/// The image that holds `instance`'s environment.
pub fn image_name(instance: &Instance, naming: &ImageNaming) -> String {
    if let Some(name) = instance.image_name.as_deref().filter(|n| !n.trim().is_empty()) {
        return name.trim().to_string();
    }
    let namespace = if is_shipped(instance) { SHIPPED_NAMESPACE } else { naming.namespace.as_str() };
    swebench_name(&instance.instance_id, namespace, &naming.tag)
}

/// Whether `instance` is one of the tasks this project ships.
pub fn is_shipped(instance: &Instance) -> bool {
    instance.repo.split('/').next() == Some(SHIPPED_OWNER)
}

/// The harness's `instance_image_key`, with its Docker Hub spelling under a namespace (Docker
/// Hub refuses `__` in repository names).
fn swebench_name(instance_id: &str, namespace: &str, tag: &str) -> String {
    let key = format!("sweb.eval.{ARCH}.{}", instance_id.to_lowercase());
    let tag = if tag.is_empty() { DEFAULT_TAG } else { tag };
    let namespace = namespace.trim_end_matches('/');
    if namespace.is_empty() {
        format!("{key}:{tag}")
    } else {
        format!("{namespace}/{}:{tag}", key.replace("__", "_1776_"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(repo: &str, instance_id: &str, own_image: Option<&str>, namespace: &str, tag: &str, expect: &str) {
        let record = serde_json::json!({
            "repo": repo, "instance_id": instance_id, "base_commit": "0".repeat(40), "patch": "",
            "problem_statement": "", "FAIL_TO_PASS": [], "PASS_TO_PASS": [], "image_name": own_image,
        });
        let instance = Instance::try_from(record).expect("a valid instance");
        let naming = ImageNaming { namespace: namespace.to_string(), tag: tag.to_string() };
        assert_eq!(image_name(&instance, &naming), expect);
    }

    #[test]
    fn swebench_instances_get_the_harness_name() {
        check(
            "django/django",
            "django__django-11333",
            None,
            "swebench",
            "latest",
            "swebench/sweb.eval.x86_64.django_1776_django-11333:latest",
        );
        check(
            "Project-MONAI/MONAI",
            "Project-MONAI__MONAI-4109",
            None,
            "swebench",
            "v2",
            "swebench/sweb.eval.x86_64.project-monai_1776_monai-4109:v2",
        );
    }

    #[test]
    fn without_a_namespace_the_name_is_the_harness_local_one() {
        check(
            "pytest-dev/pytest",
            "pytest-dev__pytest-11143",
            None,
            "",
            "",
            "sweb.eval.x86_64.pytest-dev__pytest-11143:latest",
        );
    }

    #[test]
    fn an_image_named_by_the_instance_wins() {
        check(
            "john-kurkowski/tldextract",
            "john-kurkowski__tldextract.3d1bf184.combine_file__49lzm22u",
            Some("jyangballin/swesmith.x86_64.john-kurkowski_1776_tldextract.3d1bf184"),
            "swebench",
            "latest",
            "jyangballin/swesmith.x86_64.john-kurkowski_1776_tldextract.3d1bf184",
        );
    }

    #[test]
    fn shipped_tasks_live_under_the_srl_namespace() {
        check(
            "srl-tasks/build-graph",
            "srl-tasks__build-graph-1",
            None,
            "swebench",
            "latest",
            "srl/sweb.eval.x86_64.srl-tasks_1776_build-graph-1:latest",
        );
    }
}
