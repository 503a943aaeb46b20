//! One output contract from training to acting: a tiny model is trained (SFT) with the response
//! prefix `<think>\n` prefilled, then its checkpoint runs as an agent and through RLVR. The
//! checkpoint carries the prefix; both the agent and RLVR prefill it, so the replies keep the
//! format; and a reply ends right after its first complete action (no end-of-turn token, no
//! trailing text), as SRL rollouts end.
//!
//! The student is trained on exactly the prompt the agent shows at its first turn on the
//! `unitly` task, until it answers it with one memorised response.

mod support;

use serde_json::Value;
use srl::action::{render, Action};
use srl::agent::episode::prompt_messages;
use srl::steps::StepInstance;
use srl::trajectory::Trajectory;
use support::tiny::write_tiny_model;
use support::{tasks_dir, TestContext};

/// What the student learns to write after the prefix.
const GENERATED: &str = "x\n</think>\n<function=submit>\n</function>";

/// One step instance whose prompt is the agent's first prompt on `unitly` (2 rounds of context,
/// observations cut at 2000 characters) and whose expert answer is `submit` after a thought `x`.
fn write_steps(cx: &TestContext) -> Value {
    let instance: Value =
        serde_json::from_str(&std::fs::read_to_string(tasks_dir().join("unitly/instance.json")).unwrap()).unwrap();
    let problem = instance["problem_statement"].as_str().unwrap();
    let submit = Action::new("submit");
    let step = StepInstance {
        schema: srl::steps::SCHEMA.to_string(),
        id: "unitly-memo/0".to_string(),
        trajectory_id: "unitly-memo".to_string(),
        instance_id: Some(instance["instance_id"].as_str().unwrap().to_string()),
        step_index: 0,
        n_steps: 1,
        messages: prompt_messages(problem, &[], Some(2), 2000),
        target: render(&submit),
        target_action: submit,
        target_thought: "x".to_string(),
    };
    assert_eq!(format!("<think>\nx\n</think>\n{}", step.target), format!("<think>\n{GENERATED}"));
    cx.write("s.jsonl", serde_json::to_string(&step).unwrap() + "\n");
    cx.write("instances.jsonl", instance.to_string() + "\n");
    instance
}

const SFT: &str = r#"
mode = "sft"
model = "tiny"
steps = "s.jsonl"
response_prefix = "<think>\n"
max_prompt_tokens = 100000
checkpoint_every = 1000
[sft]
train_steps = 60
batch_size = 1
learning_rate = 1e-2
warmup_steps = 2
[eval]
enabled = false
"#;

#[test]
fn a_trained_student_acts_under_the_contract_it_was_trained_with() {
    let cx = TestContext::new();
    write_tiny_model(&cx.path("tiny"));
    let instance = write_steps(&cx);
    cx.write("sft.toml", SFT);
    let trained = cx.srl(&["train", "--config", "sft.toml", "--out", "run"]);
    assert_eq!(trained.code, 0, "{}\n{}", trained.stdout, trained.stderr);
    let saved: Value = serde_json::from_str(&cx.read("run/checkpoint/output_contract.json")).unwrap();
    assert_eq!(saved, serde_json::json!({"response_prefix": "<think>\n", "chat_template": "chatml"}));

    // As an agent: the prefix comes from the checkpoint, and is said so.
    let tasks = tasks_dir();
    let args = ["agent", "--model", "run/checkpoint", "--instances", "instances.jsonl", "-o", "agent"];
    let rest = ["--sandbox", "local", "--repos", tasks.to_str().unwrap(), "--max-steps", "1", "--max-tokens", "80"];
    let acted = cx.srl(&[&args[..], &rest[..], &["--no-eval"]].concat());
    assert_eq!(acted.code, 0, "{}\n{}", acted.stdout, acted.stderr);
    assert!(
        acted
            .stderr
            .contains(r#"output contract: response prefix "<think>\n" (from: checkpoint), chat template chatml"#),
        "{}",
        acted.stderr
    );
    let summary: Value = serde_json::from_str(&cx.read("agent/summary.json")).unwrap();
    assert_eq!(summary["output_contract"]["response_prefix"], "<think>\n");
    assert_eq!(summary["output_contract"]["response_prefix_from"], "checkpoint");
    assert_eq!(summary["format_valid_rate"], 1.0, "{summary}");
    let trajectory: Trajectory = serde_json::from_str(cx.read("agent/trajectories.jsonl").trim()).unwrap();
    assert_eq!(trajectory.exit_status.as_deref(), Some("submitted"));
    assert_eq!(trajectory.steps.len(), 1);
    assert_eq!((trajectory.steps[0].thought.as_str(), trajectory.steps[0].action.tool.as_str()), ("x", "submit"));
    // The byte-level tokenizer makes one token per byte: sampling stopped at the action's last
    // byte, before the end-of-turn token the student was also taught to write.
    let usage = trajectory.usage.unwrap();
    assert_eq!(usage.completion_tokens, GENERATED.len() as u64, "the reply ran past its action");

    // An override wins over the checkpoint: without the prefix the same student breaks the format.
    let bare = cx.srl(&[&args[..], &rest[..], &["--no-eval", "--response-prefix", ""]].concat());
    assert_eq!(bare.code, 0, "{}\n{}", bare.stdout, bare.stderr);
    let trajectory: Trajectory = serde_json::from_str(cx.read("agent/trajectories.jsonl").trim()).unwrap();
    assert!(trajectory.steps.is_empty());
    let rejected = &trajectory.rejected_after_last_step;
    assert_eq!(rejected.len(), 1, "the rejected reply is kept with its reason");
    assert_eq!(rejected[0].reason, "completion does not start with <think>");

    // RLVR from the checkpoint: no prefix configured, so the saved one is used; every turn keeps
    // the format and ends at the action.
    let rlvr = format!(
        "mode = \"rlvr\"\nmodel = \"run/checkpoint\"\nsteps = \"s.jsonl\"\n[eval]\nenabled = false\n\
         [reward]\ntasks = {:?}\nsandbox = \"local\"\n\
         [rlvr]\ntrain_steps = 1\ngroup_size = 2\nmax_episode_steps = 2\nmax_new_tokens = 80\ntemperature = 0.0\n",
        tasks.display().to_string()
    );
    cx.write("rlvr.toml", rlvr);
    let run = cx.srl(&["train", "--config", "rlvr.toml", "--out", "rlvr"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("response prefix \"<think>\\n\" (from "), "{}", run.stderr);
    let metrics: Value = serde_json::from_str(cx.read("rlvr/metrics.jsonl").trim()).unwrap();
    assert_eq!(metrics["format_error_rate"], 0.0, "{metrics}");
    // Two episodes, each one turn that submits: the generated text twice, nothing more.
    assert_eq!(metrics["tokens"], 2 * GENERATED.len() as u64, "{metrics}");
    assert_eq!(instance["instance_id"], "srl-tasks__unitly-1");
}
