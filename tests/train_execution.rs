//! The execution reward against a real (local) sandbox: an action that does what the expert's
//! did scores 1 whatever its wording; one that does something else scores less.

use std::time::Duration;

use srl::action::{parse_completion_action, Action};
use srl::sandbox::local::LocalSandbox;
use srl::sandbox::{ExecLimits, WorkTree};
use srl::train::execution::ExpertEffects;

fn bash(command: &str) -> Action {
    Action::bash(command)
}

#[tokio::test]
async fn same_effect_scores_one_and_different_effects_less() {
    let source = tempfile::tempdir().unwrap();
    std::fs::write(source.path().join("calc.py"), "def add(a, b):\n    return a - b\n").unwrap();
    std::fs::write(source.path().join("notes.txt"), "add is broken\n").unwrap();
    let mut sb = LocalSandbox::start(WorkTree::from_files(source.path(), "/testbed").unwrap()).unwrap();
    let limits = ExecLimits::new(Duration::from_secs(20), 10_000);
    let expert = vec![
        bash("cd /testbed && grep -rn 'a - b' ."),
        parse_completion_action("<function=str_replace_editor><parameter=command>str_replace</parameter><parameter=path>/testbed/calc.py</parameter><parameter=old_str>a - b</parameter><parameter=new_str>a + b</parameter></function>").unwrap(),
        bash("cd /testbed && python3 -c 'from calc import add; print(add(2, 3))'"),
    ];
    let effects = ExpertEffects::capture(&mut sb, &expert, false, &limits).await.unwrap();

    let same_search = effects.reward(&mut sb, 0, &bash("cd /testbed && grep -nr 'a - b' ."), &limits).await.unwrap();
    assert_eq!(same_search, 1.0, "flags in another order do the same thing");
    let other_search = effects.reward(&mut sb, 0, &bash("cd /testbed && ls"), &limits).await.unwrap();
    assert!(other_search < 0.9, "{other_search}");

    let same_edit = effects
        .reward(&mut sb, 1, &bash("cd /testbed && sed -i 's/a - b/a + b/' calc.py && echo done"), &limits)
        .await
        .unwrap();
    let no_edit = effects.reward(&mut sb, 1, &bash("cd /testbed && cat calc.py"), &limits).await.unwrap();
    assert!(same_edit > no_edit, "the same change by other means beats no change: {same_edit} vs {no_edit}");

    // Step 2 starts from the expert's fixed code: the student's run sees the fix too.
    let run = effects
        .reward(&mut sb, 2, &bash("cd /testbed && python3 -c 'import calc; print(calc.add(2, 3))'"), &limits)
        .await
        .unwrap();
    assert_eq!(run, 1.0);
    assert!(effects.reward(&mut sb, 3, &bash("true"), &limits).await.is_err(), "past the last step");
}

/// The training-time environment on a shipped task: one sandbox per trajectory, the expert's
/// own action scores 1 at every step it is asked about, an unrelated one less.
#[test]
fn training_environments_score_shipped_task_steps() {
    use srl::steps::{build_instances, StepOptions, StepStats};
    use srl::train::execution::ExecutionRewards;
    use srl::trajectory::read::{import_paths, ImportOptions};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks");
    let mut trajectories = Vec::new();
    let paths = [root.join("flagstore/trajectory.jsonl")];
    import_paths(&paths, &ImportOptions { format: None, strict: true }, &mut |t| {
        trajectories.push(t);
        Ok(())
    })
    .unwrap();
    let options = StepOptions { context_rounds: Some(1), max_observation_chars: 500 };
    let instances = build_instances(&trajectories[0], &options, &mut StepStats::default());
    let mut env =
        ExecutionRewards::open(&instances, &root, srl::sandbox::Backend::Local, "unused", Duration::from_secs(30))
            .unwrap();
    assert_eq!(env.trajectories(), 1);
    for instance in instances.iter().take(3) {
        let expert = env.score(instance, &instance.target_action).unwrap();
        assert_eq!(expert, Some(1.0), "{}", instance.id);
        let unrelated = env.score(instance, &bash("echo something else entirely")).unwrap().unwrap();
        assert!(unrelated < 1.0, "{}: {unrelated}", instance.id);
    }
    // Many at once: the same scores as one by one, in request order.
    let expert_ls = bash("echo something else entirely");
    let requests: Vec<(&srl::steps::StepInstance, &Action)> =
        vec![(&instances[1], &instances[1].target_action), (&instances[0], &expert_ls)];
    let many = env.score_many(&requests).unwrap();
    assert_eq!(many[0], Some(1.0));
    assert!(many[1].unwrap() < 1.0);
    // A step instance of a trajectory without a task gets no execution reward.
    let mut stranger = instances[0].clone();
    stranger.trajectory_id = "elsewhere".into();
    assert_eq!(env.score(&stranger, &bash("ls")).unwrap(), None);
    env.close().unwrap();
}
