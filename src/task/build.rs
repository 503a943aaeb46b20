//! Deriving what a task's files imply by running them: FAIL_TO_PASS and PASS_TO_PASS from the
//! test command before and after the gold patch (never typed by hand), and the expert
//! trajectory's observations from executing its actions.
//!
//! Both work in any sandbox; the caller picks the backend and writes the results.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::json;

use super::grade::Report;
use super::instance::Instance;
use super::log_parsers::{detect, StatusMap, TestStatus};
use super::taskdir::ExpertStep;
use crate::action::render;
use crate::sandbox::tools::{run_action, ToolBox};
use crate::sandbox::{ExecLimits, Sandbox};

/// Bytes of test output kept: enough for any test log of a task this size.
pub const TEST_OUTPUT_CAP: usize = 8 << 20;

/// The test lists of an instance, with the runs they came from.
pub struct DerivedTests {
    pub fail_to_pass: Vec<String>,
    pub pass_to_pass: Vec<String>,
    pub before: StatusMap,
    pub after: StatusMap,
}

/// A test that counts as passing (SWE-bench: PASSED or XFAIL).
fn passes(status: Option<&TestStatus>) -> bool {
    matches!(status, Some(TestStatus::Passed | TestStatus::Xfail))
}

/// Runs the test command and parses what it printed; a run that printed no test results is an error.
pub async fn run_tests<S: Sandbox>(
    sandbox: &mut S,
    test_command: &str,
    timeout: Duration,
) -> Result<(StatusMap, String)> {
    let observation = sandbox.exec(test_command, &ExecLimits::new(timeout, TEST_OUTPUT_CAP)).await?;
    if observation.timed_out {
        bail!("the test command timed out after {} s", timeout.as_secs());
    }
    let statuses = detect(&observation.output).parse(&observation.output);
    if statuses.is_empty() {
        bail!("the test command printed no test results:\n{}", observation.agent_text());
    }
    Ok((statuses, observation.output))
}

/// Applies the test patch, runs the tests, applies the gold patch, runs them again.
pub async fn derive_tests<S: Sandbox>(
    sandbox: &mut S,
    test_patch: &str,
    gold_patch: &str,
    test_command: &str,
    timeout: Duration,
) -> Result<DerivedTests> {
    apply(sandbox, test_patch, "test patch").await?;
    let (before, _) = run_tests(sandbox, test_command, timeout).await.context("tests before the gold patch")?;
    apply(sandbox, gold_patch, "gold patch").await?;
    let (after, _) = run_tests(sandbox, test_command, timeout).await.context("tests after the gold patch")?;
    let fail_to_pass: Vec<String> =
        after.keys().filter(|t| passes(after.get(*t)) && !passes(before.get(*t))).cloned().collect();
    let pass_to_pass: Vec<String> =
        after.keys().filter(|t| passes(after.get(*t)) && passes(before.get(*t))).cloned().collect();
    if fail_to_pass.is_empty() {
        bail!("no test fails before the gold patch and passes after it");
    }
    Ok(DerivedTests { fail_to_pass, pass_to_pass, before, after })
}

/// Runs the instance's evaluation (the harness's eval script: test patch, test command, markers)
/// on the sandbox's current files and grades it with SWE-bench's rules: does this state resolve
/// the instance? The script and its log are kept in a temporary directory, dropped afterwards.
pub async fn grade_work_tree<S: Sandbox>(sandbox: &mut S, instance: &Instance, timeout: Duration) -> Result<Report> {
    let plan = super::eval_script::test_plan(instance, &super::spec::Specs::builtin(), sandbox.repo_dir())
        .map_err(anyhow::Error::msg)?;
    let logs = tempfile::tempdir().context("cannot create a temporary directory for the test log")?;
    let (report, _) = super::eval::test_and_grade(sandbox, instance, &plan, timeout, logs.path()).await?;
    Ok(report)
}

pub async fn apply<S: Sandbox>(sandbox: &mut S, patch: &str, what: &str) -> Result<&'static str> {
    let outcome = sandbox.apply_patch(patch).await?;
    outcome.method.with_context(|| format!("the {what} does not apply:\n{}", outcome.log))
}

/// Executes the expert's actions from the sandbox's current state and returns the trajectory
/// as a SWE-smith fine-tuning record (`{"messages": …, "instance_id": …}`), observations as
/// they really came out, plus the final diff.
pub async fn record_expert<S: Sandbox>(
    sandbox: &mut S,
    instance_id: &str,
    problem_statement: &str,
    expert: &[ExpertStep],
    timeout: Duration,
) -> Result<(serde_json::Value, String)> {
    let limits = ExecLimits::new(timeout, 100_000);
    let mut tools = ToolBox::default();
    let mut messages = vec![
        json!({"role": "system", "content": SYSTEM_PROMPT}),
        json!({"role": "user", "content": format!("<uploaded_files>\n/testbed\n</uploaded_files>\nI've uploaded a python code repository in the directory /testbed. Consider the following PR description:\n\n<pr_description>\n{problem_statement}\n</pr_description>\n\nCan you help me implement the necessary changes to the repository so that the requirements specified in the <pr_description> are met?")}),
    ];
    let mut submitted = None;
    for step in expert {
        let output = run_action(sandbox, &mut tools, &step.action, &limits).await?;
        messages.push(json!({"role": "assistant", "content": format!("{}\n\n{}", step.thought, render(&step.action))}));
        messages.push(json!({"role": "user", "content": format!("OBSERVATION:\n{}", output.observation)}));
        submitted = output.submitted.or(submitted);
    }
    let diff = match submitted {
        Some(diff) => diff,
        None => bail!("the expert trajectory never submits"),
    };
    Ok((json!({"messages": messages, "instance_id": instance_id}), diff))
}

const SYSTEM_PROMPT: &str = "You are a software engineer fixing an issue in the Python repository at /testbed.

Tools, called as <function=NAME><parameter=KEY>VALUE</parameter></function>:
- bash(command): run a shell command.
- str_replace_editor(command, path, file_text, old_str, new_str, insert_line, view_range): view, create and edit files.
- submit(): finish; the changes to the repository are the solution.";
