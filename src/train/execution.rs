//! The execution reward of a rollout: its action runs in the sandbox restored to the expert's
//! state before step k, and what it did is compared with what the expert's action did from
//! that same state (`reward::execution`).
//!
//! The expert's effects are computed once per trajectory, while capturing the step states;
//! each rollout then costs one restore (only the files that differ are written), one action
//! and one diff.

use anyhow::Result;

use crate::action::Action;
use crate::reward::execution::{execution_score, Effect};
use crate::sandbox::step_states::StepStates;
use crate::sandbox::tools::run_action;
use crate::sandbox::{ExecLimits, Sandbox};

/// A trajectory's step states plus the effect of each expert action.
pub struct ExpertEffects {
    pub states: StepStates,
    pub effects: Vec<Effect>,
}

impl ExpertEffects {
    /// Replays the expert's actions once from the sandbox's current state.
    pub async fn capture<S: Sandbox>(
        sandbox: &mut S,
        actions: &[Action],
        legacy: bool,
        limits: &ExecLimits,
    ) -> Result<Self> {
        let tools = crate::sandbox::tools::ToolBox::new(legacy);
        let states = StepStates::capture(sandbox, tools, actions, limits).await?;
        let mut effects = Vec::with_capacity(actions.len());
        for (k, output) in states.outputs.iter().enumerate() {
            states.restore(sandbox, k + 1)?;
            let after = sandbox.work_tree().diff()?;
            states.restore(sandbox, k)?;
            let before = sandbox.work_tree().diff()?;
            effects.push(Effect {
                exit_code: output.exit_code,
                output: output.observation.clone(),
                diff: change(&before, &after),
            });
        }
        Ok(ExpertEffects { states, effects })
    }

    /// The execution reward of `action` proposed at `step`, in [0, 1]. Leaves the sandbox in
    /// the state before `step`.
    pub async fn reward<S: Sandbox>(
        &self,
        sandbox: &mut S,
        step: usize,
        action: &Action,
        limits: &ExecLimits,
    ) -> Result<f64> {
        let mut tools = self.states.restore(sandbox, step)?;
        let before = sandbox.work_tree().diff()?;
        let output = run_action(sandbox, &mut tools, action, limits).await?;
        let after = sandbox.work_tree().diff()?;
        self.states.restore(sandbox, step)?;
        let student = Effect { exit_code: output.exit_code, output: output.observation, diff: change(&before, &after) };
        let Some(expert) = self.effects.get(step) else {
            anyhow::bail!("step {step} is out of range: the trajectory has {} steps", self.effects.len());
        };
        Ok(execution_score(&student, expert))
    }
}

/// What one action changed: the diff after it, unless it equals the diff before it.
fn change(before: &str, after: &str) -> String {
    if before == after {
        String::new()
    } else {
        after.to_string()
    }
}
