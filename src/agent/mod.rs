//! The student as an agent: episodes of a model acting in a sandbox on task instances.
//!
//! For each instance a fresh sandbox starts at the base commit; then, turn by turn, the model
//! sees the training prompt (`episode::prompt_messages`), replies, the reply is held to the
//! reward's output contract (`reward::format`), and its one action runs with the sandbox tools.
//! A reply that breaks the contract is answered with a corrective message and costs a turn.
//! The episode ends on `submit` (or `finish`), after `max_steps` replies, or when the model or
//! the sandbox fails; its submission is the work tree's diff either way.
//!
//! - [`episode`]: what an episode records, the prompt window, the `srl.trajectory/1` record;
//! - [`chat`]: the [`chat::ChatModel`] seam: messages in, one reply out;
//! - [`model`]: its kinds (local candle model, OpenAI-compatible server, scripted replies);
//! - [`openai`]: the HTTP client for OpenAI-compatible servers;
//! - [`output`]: the run directory (trajectories, SWE-agent `.traj` files, predictions, summary).
//!
//! Deliberately absent: grading (the caller runs `task::eval` on the predictions) and any
//! retry of a failed episode.

pub mod chat;
pub mod episode;
pub mod http;
pub mod model;
pub mod openai;
pub mod output;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::reward::format::check_format;
use crate::sandbox::engine::{Engines, Lease};
use crate::sandbox::tools::{run_action, ToolBox};
use crate::sandbox::{Backend, ExecLimits, Sandbox};
use crate::task::instance::Instance;
use crate::task::repos;
use crate::trajectory::{Fnv64, Usage};
use episode::{prompt_messages, Episode, Outcome, Round, Termination};
use model::{Call, ChatModel, Sampling};

/// Output kept per action: the same cap `task::replay` uses, so a replay sees what the agent saw.
pub const OUTPUT_CAP: usize = 100_000;

pub struct AgentOptions {
    /// Model replies per episode, rejected ones included.
    pub max_steps: usize,
    /// Previous rounds shown in each prompt; `None` shows all.
    pub context_rounds: Option<usize>,
    /// Observations (and rejected replies) longer than this keep only head and tail in prompts.
    pub max_observation_chars: usize,
    /// Wall-clock limit of one action.
    pub action_timeout: Duration,
    pub sampling: Sampling,
    /// Base seed; each episode and turn derives its own from it.
    pub seed: u64,
    /// Episodes run at the same time.
    pub workers: usize,
    pub backend: Backend,
    pub image: String,
    /// Where instances' repositories are found (see `task::repos`).
    pub repos: PathBuf,
    /// Names this run's sandboxes.
    pub run_id: String,
    /// The instances' environment images.
    pub images: repos::InstanceImages,
    /// Docker engines to spread the sandboxes over (`None`: the default engine).
    pub engines: Option<Engines>,
}

/// Runs one episode per instance, `options.workers` at a time, calling `progress` as each
/// ends. Episodes come back in the order of `instances`.
pub async fn run_episodes<M: ChatModel>(
    model: &M,
    instances: &[Instance],
    options: &AgentOptions,
    progress: &mut dyn FnMut(&Episode),
) -> Vec<Episode> {
    let jobs = instances
        .iter()
        .enumerate()
        .map(|(idx, instance)| async move { (idx, run_instance(model, instance, options).await) });
    let mut stream = futures_util::stream::iter(jobs).buffer_unordered(options.workers.max(1));
    let mut done = Vec::with_capacity(instances.len());
    while let Some((idx, episode)) = stream.next().await {
        progress(&episode);
        done.push((idx, episode));
    }
    done.sort_by_key(|(idx, _)| *idx);
    done.into_iter().map(|(_, episode)| episode).collect()
}

/// One instance on an engine of the run's pool. An episode that ended in an error while its
/// engine stopped answering starts over on another engine (at most [`crate::sandbox::engine::RETRIES_ON_LOST_ENGINE`] times):
/// the sandbox and everything the episode did in it are gone with the engine.
async fn run_instance<M: ChatModel>(model: &M, instance: &Instance, options: &AgentOptions) -> Episode {
    let mut retries = 0;
    loop {
        let lease = match &options.engines {
            Some(pool) => match pool.acquire().await {
                Ok(lease) => Some(lease),
                Err(e) => return failed_episode(instance, format!("no engine to run on: {e:#}")),
            },
            None => None,
        };
        let episode = run_on(model, instance, options, lease.as_ref()).await;
        let Some(lease) = lease else {
            return episode;
        };
        if !matches!(episode.termination, Termination::Error(_)) || !lease.retry_elsewhere(retries).await {
            return episode;
        }
        tracing::warn!(
            "{}: engine {} stopped answering; the episode starts over on another engine",
            instance.instance_id,
            lease.engine().host
        );
        retries += 1;
    }
}

fn failed_episode(instance: &Instance, reason: String) -> Episode {
    Episode {
        instance_id: instance.instance_id.clone(),
        problem_statement: instance.problem_statement.clone(),
        rounds: Vec::new(),
        termination: Termination::Error(reason),
        submission: String::new(),
        seconds: 0.0,
    }
}

/// One instance: a sandbox at its base commit, the episode, the final diff, the teardown.
async fn run_on<M: ChatModel>(
    model: &M,
    instance: &Instance,
    options: &AgentOptions,
    lease: Option<&Lease>,
) -> Episode {
    let started = Instant::now();
    let mut episode = Episode {
        instance_id: instance.instance_id.clone(),
        problem_statement: instance.problem_statement.clone(),
        rounds: Vec::new(),
        termination: Termination::StepLimit,
        submission: String::new(),
        seconds: 0.0,
    };
    let opened = repos::open_sandbox(
        instance,
        &options.repos,
        options.backend,
        &options.image,
        &options.images,
        &options.run_id,
        lease,
    )
    .await;
    match opened {
        Err(e) => episode.termination = Termination::Error(format!("cannot start a sandbox: {e:#}")),
        Ok(mut sandbox) => {
            let mut hash = Fnv64::new();
            hash.write(instance.instance_id.as_bytes());
            let seed = options.seed ^ hash.finish();
            episode.termination =
                run_episode(&mut sandbox, model, &instance.problem_statement, seed, &mut episode.rounds, options).await;
            match sandbox.diff().await {
                Ok(diff) => episode.submission = diff,
                Err(e) => {
                    episode.termination = Termination::Error(format!("cannot compute the work tree's diff: {e:#}"))
                }
            }
            if let Err(e) = sandbox.close().await {
                tracing::warn!("{}: cannot remove the sandbox: {e:#}", instance.instance_id);
            }
        }
    }
    episode.seconds = started.elapsed().as_secs_f64();
    episode
}

/// The loop: query, check the format, execute, record, check the limit. Rounds are pushed to
/// `rounds` as they happen, so a failure keeps everything before it.
pub async fn run_episode<S: Sandbox, M: ChatModel>(
    sandbox: &mut S,
    model: &M,
    problem_statement: &str,
    seed: u64,
    rounds: &mut Vec<Round>,
    options: &AgentOptions,
) -> Termination {
    let mut tools = ToolBox::new(false);
    let limits = ExecLimits::new(options.action_timeout, OUTPUT_CAP);
    while rounds.len() < options.max_steps {
        let messages =
            prompt_messages(problem_statement, rounds, options.context_rounds, options.max_observation_chars);
        let call = Call { seed: seed.wrapping_add(rounds.len() as u64), turn: rounds.len() };
        let asked = Instant::now();
        let reply = match model.reply(&messages, &options.sampling, call).await {
            Ok(reply) => reply,
            Err(e) => return Termination::Error(format!("the model failed: {e:#}")),
        };
        let mut usage = Usage {
            model_calls: 1,
            prompt_tokens: reply.prompt_tokens,
            completion_tokens: reply.completion_tokens,
            model_seconds: asked.elapsed().as_secs_f64(),
            ..Usage::default()
        };
        let formatted = match check_format(&reply.text) {
            Ok(formatted) => formatted,
            Err(error) => {
                usage.format_errors = 1;
                rounds.push(Round {
                    reply: reply.text,
                    outcome: Outcome::FormatError { error },
                    usage,
                    tokens: reply.tokens,
                });
                continue;
            }
        };
        let ran = Instant::now();
        let output = match run_action(sandbox, &mut tools, &formatted.action, &limits).await {
            Ok(output) => output,
            Err(e) => return Termination::Error(format!("the sandbox failed: {e:#}")),
        };
        usage.exec_seconds = ran.elapsed().as_secs_f64();
        let submitted = output.submitted.is_some();
        let outcome = Outcome::Action {
            thought: formatted.thought,
            action: formatted.action,
            observation: output.observation,
            exit_code: output.exit_code,
        };
        rounds.push(Round { reply: reply.text, outcome, usage, tokens: reply.tokens });
        if submitted {
            return Termination::Submitted;
        }
    }
    Termination::StepLimit
}
