//! `srl report RUN_DIR`: PNG curves of a training run's `metrics.jsonl` and a markdown summary
//! (`report.md`) with the evaluations of `eval.jsonl` and each curve's first, last, min and max.
//!
//! The plots carry no text (plotters is built without a font backend, which would need system
//! fonts): each PNG is one figure whose series, colours and ranges `report.md` spells out.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{anyhow, Context, Result};
use plotters::prelude::*;
use serde_json::Value;

use super::evaluate::EvalResult;

/// One curve: a name, a colour and `(step, value)` points.
struct Series {
    name: &'static str,
    colour: RGBColor,
    colour_name: &'static str,
    points: Vec<(f64, f64)>,
}

/// One PNG: a file name, what it shows, its curves.
struct Figure {
    file: &'static str,
    title: &'static str,
    series: Vec<Series>,
}

const BLUE: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(255, 127, 14);
const GREEN: RGBColor = RGBColor(44, 160, 44);
const RED_: RGBColor = RGBColor(214, 39, 40);

fn series(metrics: &[Value], key: &str, name: &'static str, colour: (RGBColor, &'static str)) -> Series {
    let points = metrics
        .iter()
        .filter_map(|m| Some((m["step"].as_f64()? + 1.0, m[key].as_f64()?)))
        .filter(|(_, v)| v.is_finite())
        .collect();
    Series { name, colour: colour.0, colour_name: colour.1, points }
}

fn figures(metrics: &[Value]) -> Vec<Figure> {
    let s = |key, name, colour| series(metrics, key, name, colour);
    vec![
        Figure {
            file: "reward.png",
            title: "SRL rollout reward per step",
            series: vec![
                s("reward_mean", "reward mean", (BLUE, "blue")),
                s("reward_max", "reward max", (GREEN, "green")),
                s("similarity_mean", "similarity mean (format-valid rollouts)", (ORANGE, "orange")),
                s("execution_reward_mean", "execution reward mean", (RED_, "red")),
            ],
        },
        Figure {
            file: "format.png",
            title: "Format errors and dynamic sampling",
            series: vec![
                s("format_error_rate", "format-error rate", (RED_, "red")),
                s("kept_ratio", "kept-group ratio", (BLUE, "blue")),
            ],
        },
        Figure {
            file: "loss.png",
            title: "Loss and gradient norm (before clipping)",
            series: vec![s("loss", "loss", (BLUE, "blue")), s("grad_norm", "gradient norm", (ORANGE, "orange"))],
        },
        Figure {
            file: "kl.png",
            title: "KL to the initial policy (k3 estimate)",
            series: vec![s("kl_to_initial", "KL", (BLUE, "blue"))],
        },
        Figure {
            file: "time.png",
            title: "Seconds per step",
            series: vec![
                s("seconds_generation", "generation", (BLUE, "blue")),
                s("seconds_reward", "rewards", (GREEN, "green")),
                s("seconds_update", "update", (ORANGE, "orange")),
            ],
        },
    ]
}

fn draw(path: &Path, figure: &Figure) -> Result<()> {
    let all: Vec<(f64, f64)> = figure.series.iter().flat_map(|s| s.points.iter().copied()).collect();
    let (x0, x1) = bounds(all.iter().map(|p| p.0));
    let (y0, y1) = bounds(all.iter().map(|p| p.1));
    let root = BitMapBackend::new(path, (720, 400)).into_drawing_area();
    let fail = |e: &dyn std::fmt::Display| anyhow!("cannot draw {}: {e}", path.display());
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let mut chart = ChartBuilder::on(&root).margin(16).build_cartesian_2d(x0..x1, y0..y1).map_err(|e| fail(&e))?;
    // A light grid of quarters and a frame stand in for labelled axes.
    let grey = RGBColor(225, 225, 225);
    for k in 0..=4 {
        let y = y0 + (y1 - y0) * k as f64 / 4.0;
        let x = x0 + (x1 - x0) * k as f64 / 4.0;
        chart.draw_series(LineSeries::new([(x0, y), (x1, y)], grey)).map_err(|e| fail(&e))?;
        chart.draw_series(LineSeries::new([(x, y0), (x, y1)], grey)).map_err(|e| fail(&e))?;
    }
    for s in &figure.series {
        chart.draw_series(LineSeries::new(s.points.iter().copied(), s.colour.stroke_width(2))).map_err(|e| fail(&e))?;
        chart.draw_series(s.points.iter().map(|p| Circle::new(*p, 3, s.colour.filled()))).map_err(|e| fail(&e))?;
    }
    root.present().map_err(|e| fail(&e))?;
    Ok(())
}

/// The range of the values, widened when they are all equal so the chart has height.
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if hi > lo { (hi - lo) * 0.05 } else { lo.abs().max(1.0) * 0.1 };
    (lo - pad, hi + pad)
}

fn read_jsonl(path: &Path) -> Result<Vec<Value>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| serde_json::from_str(l).with_context(|| format!("{}: line {}: not JSON", path.display(), n + 1)))
        .collect()
}

/// Writes the PNGs and `report.md` into `run`; returns the markdown.
pub fn write_report(run: &Path) -> Result<String> {
    let metrics = read_jsonl(&run.join("metrics.jsonl"))?;
    if metrics.is_empty() {
        anyhow::bail!("{}: no metrics.jsonl lines: is this a `srl train` run directory?", run.display());
    }
    let evals: Vec<EvalResult> = read_jsonl(&run.join("eval.jsonl"))?
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()
        .with_context(|| format!("{}: eval.jsonl has a line that is not an evaluation", run.display()))?;
    let mut md = format!("# Training report: {}\n\n", run.display());
    let stages: Vec<&str> = metrics.iter().filter_map(|m| m["stage"].as_str()).collect();
    let count = |name: &str| stages.iter().filter(|s| **s == name).count();
    writeln!(md, "{} optimisation steps: {} SFT, {} SRL.\n", metrics.len(), count("sft"), count("srl"))?;
    if !evals.is_empty() {
        md.push_str("## Held-out evaluation (greedy)\n\n");
        md.push_str("| when | instances | mean reward | format errors | exact matches | mean similarity |\n");
        md.push_str("|---|---|---|---|---|---|\n");
        for e in &evals {
            let similarity = e.mean_similarity.map_or("-".to_string(), |s| format!("{s:.3}"));
            writeln!(
                md,
                "| {} | {} | {:.3} | {:.0}% | {:.0}% | {similarity} |",
                e.label,
                e.instances,
                e.mean_reward,
                100.0 * e.format_error_rate,
                100.0 * e.exact_match_rate
            )?;
        }
        md.push('\n');
    }
    md.push_str("## Curves\n\nx = optimisation step (1-based); each figure's y range is that of its own series.\n\n");
    for figure in figures(&metrics) {
        if figure.series.iter().all(|s| s.points.is_empty()) {
            continue;
        }
        draw(&run.join(figure.file), &figure)?;
        writeln!(md, "### {}\n\n![{}]({})\n", figure.title, figure.title, figure.file)?;
        md.push_str("| series | colour | first | last | min | max |\n|---|---|---|---|---|---|\n");
        for s in figure.series.iter().filter(|s| !s.points.is_empty()) {
            let values: Vec<f64> = s.points.iter().map(|p| p.1).collect();
            let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
            writeln!(
                md,
                "| {} | {} | {:.4} | {:.4} | {lo:.4} | {hi:.4} |",
                s.name,
                s.colour_name,
                values[0],
                values[values.len() - 1]
            )?;
        }
        md.push('\n');
    }
    crate::atomic::write_file(&run.join("report.md"), md.as_bytes())?;
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_always_have_height() {
        assert_eq!(bounds([].into_iter()), (0.0, 1.0));
        let (lo, hi) = bounds([2.0, 2.0].into_iter());
        assert!(lo < 2.0 && hi > 2.0);
        let (lo, hi) = bounds([0.0, 10.0].into_iter());
        assert!((lo + 0.5).abs() < 1e-12 && (hi - 10.5).abs() < 1e-12);
    }
}
