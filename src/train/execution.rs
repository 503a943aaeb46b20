//! The execution reward of a rollout: its action runs in the sandbox restored to the expert's
//! state before step k, and what it did is compared with what the expert's action did from
//! that same state (`reward::execution`).
//!
//! The expert's effects are computed once per trajectory, while capturing the step states;
//! each rollout then costs one restore (only the files that differ are written), one action
//! and one diff.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::action::Action;
use crate::reward::execution::{execution_score, Effect};
use crate::sandbox::step_states::StepStates;
use crate::sandbox::tools::run_action;
use crate::sandbox::{AnySandbox, Backend, ExecLimits, Sandbox};
use crate::steps::StepInstance;
use crate::task::instance::{load_instances, Instance};

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
            states.restore(sandbox, k + 1).await?;
            let after = sandbox.diff().await?;
            states.restore(sandbox, k).await?;
            let before = sandbox.diff().await?;
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
        let mut tools = self.states.restore(sandbox, step).await?;
        let before = sandbox.diff().await?;
        let output = run_action(sandbox, &mut tools, action, limits).await?;
        let after = sandbox.diff().await?;
        self.states.restore(sandbox, step).await?;
        let student = Effect { exit_code: output.exit_code, output: output.observation, diff: change(&before, &after) };
        let Some(expert) = self.effects.get(step) else {
            anyhow::bail!("step {step} is out of range: the trajectory has {} steps", self.effects.len());
        };
        Ok(execution_score(&student, expert))
    }
}

/// Execution rewards for a training set: one sandbox per trajectory whose task is known, kept
/// open for the whole run, with the expert's effects captured once.
pub struct ExecutionRewards {
    runtime: tokio::runtime::Runtime,
    environments: HashMap<String, (AnySandbox, ExpertEffects)>,
    limits: ExecLimits,
}

/// Tools whose presence means a SWE-agent 0.x trajectory (windowed file commands).
const MODERN_TOOLS: [&str; 4] = ["bash", "str_replace_editor", "submit", "finish"];

impl ExecutionRewards {
    /// Opens a sandbox for every trajectory of `instances` that is complete (every step present)
    /// and whose instance id names a task under `tasks_root`; the others get no execution reward.
    pub fn open(
        instances: &[StepInstance],
        tasks_root: &Path,
        backend: Backend,
        image: &str,
        action_timeout: Duration,
    ) -> Result<ExecutionRewards> {
        let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
        let limits = ExecLimits::new(action_timeout, 64 * 1024);
        let known = task_instances(tasks_root)?;
        let mut trajectories: BTreeMap<&str, Vec<&StepInstance>> = BTreeMap::new();
        for instance in instances {
            trajectories.entry(&instance.trajectory_id).or_default().push(instance);
        }
        let run_id = crate::sandbox::new_run_id();
        let mut environments = HashMap::new();
        for (id, mut steps) in trajectories {
            steps.sort_by_key(|s| s.step_index);
            let complete = steps.iter().enumerate().all(|(k, s)| s.step_index == k && s.n_steps == steps.len());
            let task = steps[0].instance_id.as_ref().and_then(|i| known.iter().find(|t| &t.instance_id == i));
            let (true, Some(task)) = (complete, task) else {
                tracing::info!(
                    "{id}: no execution reward (incomplete trajectory or no task under {})",
                    tasks_root.display()
                );
                continue;
            };
            let actions: Vec<Action> = steps.iter().map(|s| s.target_action.clone()).collect();
            let legacy = actions.iter().any(|a| !MODERN_TOOLS.contains(&a.tool.as_str()));
            let environment = runtime.block_on(async {
                let images = crate::task::repos::InstanceImages::default();
                let repos =
                    if tasks_root.is_file() { tasks_root.parent().unwrap_or(Path::new(".")) } else { tasks_root };
                let mut sandbox =
                    crate::task::repos::open_sandbox(task, repos, backend, image, &images, &run_id, None).await?;
                match ExpertEffects::capture(&mut sandbox, &actions, legacy, &limits).await {
                    Ok(effects) => anyhow::Ok((sandbox, effects)),
                    Err(e) => {
                        let _ = sandbox.close().await;
                        Err(e.context(format!("{id}: cannot replay the expert's actions")))
                    }
                }
            })?;
            environments.insert(id.to_string(), environment);
        }
        Ok(ExecutionRewards { runtime, environments, limits })
    }

    /// Trajectories that have an execution environment.
    pub fn trajectories(&self) -> usize {
        self.environments.len()
    }

    /// The execution reward of `action` proposed for `instance`, or `None` when its trajectory
    /// has no environment.
    pub fn score(&mut self, instance: &StepInstance, action: &Action) -> Result<Option<f64>> {
        Ok(self.score_many(&[(instance, action)])?.pop().flatten())
    }

    /// Execution rewards of many rollouts at once: each trajectory's sandbox runs its rollouts
    /// one after another, different trajectories' sandboxes run at the same time. `None` where
    /// the trajectory has no environment.
    pub fn score_many(&mut self, requests: &[(&StepInstance, &Action)]) -> Result<Vec<Option<f64>>> {
        let mut results = vec![None; requests.len()];
        let limits = &self.limits;
        let jobs = self.environments.iter_mut().filter_map(|(id, (sandbox, effects))| {
            let mine: Vec<usize> = (0..requests.len()).filter(|&i| &requests[i].0.trajectory_id == id).collect();
            (!mine.is_empty()).then_some(async move {
                let mut scores = Vec::with_capacity(mine.len());
                for i in mine {
                    let (instance, action) = requests[i];
                    scores.push((i, effects.reward(sandbox, instance.step_index, action, limits).await?));
                }
                anyhow::Ok(scores)
            })
        });
        for scores in self.runtime.block_on(futures_util::future::join_all(jobs)) {
            for (i, score) in scores? {
                results[i] = Some(score);
            }
        }
        Ok(results)
    }

    /// Removes every sandbox.
    pub fn close(self) -> Result<()> {
        let ExecutionRewards { runtime, environments, .. } = self;
        runtime.block_on(async {
            for (_, (sandbox, _)) in environments {
                sandbox.close().await?;
            }
            anyhow::Ok(())
        })
    }
}

/// Every task instance under `root` (`root/<name>/instance.json`), or the instances of `root` when
/// it is a file of SWE-bench-style instances (their environments are their images).
pub fn task_instances(root: &Path) -> Result<Vec<Instance>> {
    if root.is_file() {
        // A file of SWE-bench-style instances, whose environments are their images.
        return load_instances(root);
    }
    let mut all = Vec::new();
    for dir in crate::task::taskdir::task_dirs(root)? {
        let path = dir.join("instance.json");
        if path.is_file() {
            all.extend(load_instances(&path)?);
        }
    }
    Ok(all)
}

/// What one action changed: the diff after it, unless it equals the diff before it.
fn change(before: &str, after: &str) -> String {
    if before == after {
        String::new()
    } else {
        after.to_string()
    }
}
