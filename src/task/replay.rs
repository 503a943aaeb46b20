//! Replaying a recorded trajectory: every expert action runs again in a fresh sandbox at the
//! base commit, and each new observation is compared with the recorded one.
//!
//! The comparison is `reward::execution::output_similarity` (difflib's ratio after normalising
//! line ends and trailing whitespace, over the first few thousand characters): enough to tell a
//! reproduced output from a different one without quadratic work on megabyte logs. Replay
//! does not judge the result; the caller grades the final diff if it wants to. A step that
//! differs carries a unified diff of the two observations (`similar`), so a person sees how.

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use crate::reward::execution::output_similarity;
use crate::sandbox::tools::{run_action, ToolBox};
use crate::sandbox::{ExecLimits, Sandbox};
use crate::trajectory::Trajectory;

#[derive(Debug, Clone, Serialize)]
pub struct StepReplay {
    pub step: usize,
    pub tool: String,
    pub recorded_exit_code: Option<i64>,
    pub exit_code: Option<i64>,
    /// Similarity of the new observation to the recorded one, in [0, 1].
    pub similarity: f64,
    /// Where the two differ, as a unified diff (recorded → replayed, cut to
    /// [`DIVERGENCE_LINES`] lines); absent when they are identical.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub divergence: Option<String>,
}

/// Lines of a step's divergence report kept.
pub const DIVERGENCE_LINES: usize = 40;

/// A unified diff of two observations, line ends and trailing blanks normalised, cut to
/// [`DIVERGENCE_LINES`] lines with a count of the rest.
pub fn divergence(recorded: &str, replayed: &str) -> String {
    let normalise = |text: &str| text.lines().map(str::trim_end).collect::<Vec<_>>().join("\n") + "\n";
    let (recorded, replayed) = (normalise(recorded), normalise(replayed));
    let diff = similar::TextDiff::from_lines(&recorded, &replayed);
    let text = diff.unified_diff().context_radius(1).header("recorded", "replayed").to_string();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = lines.iter().take(DIVERGENCE_LINES).copied().collect::<Vec<_>>().join("\n");
    if lines.len() > DIVERGENCE_LINES {
        out.push_str(&format!("\n… {} more diff lines", lines.len() - DIVERGENCE_LINES));
    }
    out
}

#[derive(Debug, Clone, Serialize)]
pub struct TrajectoryReplay {
    pub trajectory_id: String,
    pub instance_id: Option<String>,
    pub steps: Vec<StepReplay>,
    pub mean_similarity: f64,
    /// Steps whose observation came back identical (after normalisation).
    pub identical_steps: usize,
    /// The work tree's diff after the last step.
    pub diff: String,
}

/// SWE-agent's and SWE-smith's recorded observations carry an `OBSERVATION:` prefix that the
/// tools do not print.
fn strip_prefix(text: &str) -> &str {
    text.strip_prefix("OBSERVATION:\n").or_else(|| text.strip_prefix("OBSERVATION:\r\n")).unwrap_or(text)
}

/// Replays `trajectory` in `sandbox`, which must be at the trajectory's starting state.
pub async fn replay<S: Sandbox>(
    sandbox: &mut S,
    trajectory: &Trajectory,
    timeout: Duration,
) -> Result<TrajectoryReplay> {
    let limits = ExecLimits::new(timeout, 100_000);
    // SWE-agent 0.x trajectories use its windowed commands (`open`, `edit 3:5`, `search_dir`);
    // SWE-agent's and OpenHands' shells keep the working directory between commands.
    let mut tools = ToolBox::for_format(&trajectory.source_format);
    let mut steps = Vec::with_capacity(trajectory.steps.len());
    for (idx, step) in trajectory.steps.iter().enumerate() {
        let output = run_action(sandbox, &mut tools, &step.action, &limits).await?;
        let (replayed, recorded) = (strip_prefix(&output.observation), strip_prefix(&step.observation));
        let similarity = output_similarity(replayed, recorded);
        let divergence = (similarity < 1.0).then(|| divergence(recorded, replayed));
        steps.push(StepReplay {
            step: idx,
            tool: step.action.tool.clone(),
            recorded_exit_code: step.exit_code,
            exit_code: output.exit_code,
            similarity,
            divergence,
        });
    }
    let n = steps.len().max(1) as f64;
    let mean_similarity = steps.iter().map(|s| s.similarity).sum::<f64>() / n;
    let identical_steps = steps.iter().filter(|s| s.similarity == 1.0).count();
    Ok(TrajectoryReplay {
        trajectory_id: trajectory.id.clone(),
        instance_id: trajectory.instance_id.clone(),
        steps,
        mean_similarity,
        identical_steps,
        diff: sandbox.diff().await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divergence_shows_the_changed_lines_in_context() {
        let recorded = "collected 3 items\ntest_a PASSED\ntest_b PASSED  \r\n";
        let replayed = "collected 3 items\ntest_a PASSED\ntest_b FAILED\n";
        let report = divergence(recorded, replayed);
        assert!(report.starts_with("--- recorded\n+++ replayed\n"), "{report}");
        assert!(report.contains("-test_b PASSED\n+test_b FAILED"), "{report}");
        assert!(!report.contains("collected"), "one line of context only: {report}");
        let long: String = (0..200).map(|i| format!("{i}\n")).collect();
        let cut = divergence(&long, "");
        assert!(cut.ends_with("more diff lines"), "{cut}");
        assert_eq!(cut.lines().count(), DIVERGENCE_LINES + 1);
    }
}
