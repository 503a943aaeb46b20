//! The sandbox state before each step of an expert trajectory, captured once, so a rollout at
//! step k starts from the expert's state after steps 1..k−1 without replaying them.
//!
//! Capturing runs the expert's actions once, snapshotting the repository (and cloning the tool
//! state: the editor's undo history, the SWE-agent window) before each. Restoring step k is a
//! checkout of one snapshot: its cost depends on how far the current files are from that
//! state, not on k. Processes are not part of a state: an action is over when it returns.

use anyhow::{bail, Result};

use super::tools::{run_action, ToolBox, ToolOutput};
use super::{ExecLimits, Sandbox, Snapshot};
use crate::action::Action;

pub struct StepStates {
    /// `before[k]`: the files and tool state before step k (0-based); one more entry than
    /// steps, the last being the state after the final step.
    before: Vec<(Snapshot, ToolBox)>,
    /// What each expert action produced when it was replayed.
    pub outputs: Vec<ToolOutput>,
}

impl StepStates {
    /// Runs `actions` in `sandbox` from its current state, snapshotting before each one.
    pub async fn capture<S: Sandbox>(
        sandbox: &mut S,
        mut tools: ToolBox,
        actions: &[Action],
        limits: &ExecLimits,
    ) -> Result<StepStates> {
        let mut before = Vec::with_capacity(actions.len() + 1);
        let mut outputs = Vec::with_capacity(actions.len());
        for action in actions {
            before.push((sandbox.snapshot().await?, tools.clone()));
            outputs.push(run_action(sandbox, &mut tools, action, limits).await?);
        }
        before.push((sandbox.snapshot().await?, tools));
        Ok(StepStates { before, outputs })
    }

    pub fn n_steps(&self) -> usize {
        self.before.len() - 1
    }

    /// Puts `sandbox` in the state before step `step` (0-based; `n_steps()` is the end state)
    /// and returns the tool state that goes with it.
    pub async fn restore<S: Sandbox>(&self, sandbox: &mut S, step: usize) -> Result<ToolBox> {
        let Some((snapshot, tools)) = self.before.get(step) else {
            bail!("step {step} is out of range: the trajectory has {} steps", self.n_steps());
        };
        sandbox.restore(snapshot).await?;
        Ok(tools.clone())
    }
}
