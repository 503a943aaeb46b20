//! `srl report RUN_DIR`: PNG curves of a training run's `metrics.jsonl` and a markdown summary
//! (`report.md`) with the evaluations of `eval.jsonl` and each curve's first, last, min and max.
//!
//! Each PNG is one figure with a title, labelled axes (units on y) and a legend, drawn with
//! plotters' pure-Rust `ab_glyph` text and a font read at run time: `SRL_FONT`, else DejaVu Sans
//! or Liberation Sans from the system (Debian's `fonts-dejavu-core`). Without any of them the
//! curves are drawn without text and `report.md`, which spells out every figure's series,
//! colours and ranges anyway, says so.

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
    /// What the y axis measures, with its unit.
    y_label: &'static str,
    series: Vec<Series>,
}

/// Where a sans-serif TrueType font is looked for when `SRL_FONT` names none.
const FONT_PATHS: [&str; 3] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
];

/// Registers a font for plotters' `sans-serif` once; the path used, or `None` without one.
fn font() -> Option<&'static str> {
    static FONT: std::sync::OnceLock<Option<&'static str>> = std::sync::OnceLock::new();
    *FONT.get_or_init(|| {
        let from_env = std::env::var("SRL_FONT").ok().map(|p| &*Box::leak(p.into_boxed_str()));
        for path in from_env.into_iter().chain(FONT_PATHS) {
            let Ok(bytes) = std::fs::read(path) else { continue };
            // plotters keeps fonts for the life of the process; one file, leaked once.
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                return Some(path);
            }
            tracing::warn!("{path} is not a TrueType font plotters can read");
        }
        tracing::warn!("no font found (set SRL_FONT to a .ttf file): the PNG curves are drawn without text");
        None
    })
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
            y_label: "reward (-1 for a broken format, else 0 to 1)",
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
            y_label: "fraction (of rollouts, of groups)",
            series: vec![
                s("format_error_rate", "format-error rate", (RED_, "red")),
                s("kept_ratio", "kept-group ratio", (BLUE, "blue")),
            ],
        },
        Figure {
            file: "loss.png",
            title: "Loss and gradient norm (before clipping)",
            y_label: "loss (nats per token), gradient L2 norm",
            series: vec![s("loss", "loss", (BLUE, "blue")), s("grad_norm", "gradient norm", (ORANGE, "orange"))],
        },
        Figure {
            file: "kl.png",
            title: "KL to the initial policy (k3 estimate)",
            y_label: "KL (nats per token)",
            series: vec![s("kl_to_initial", "KL", (BLUE, "blue"))],
        },
        Figure {
            file: "time.png",
            title: "Seconds per step",
            y_label: "seconds",
            series: vec![
                s("seconds_generation", "generation", (BLUE, "blue")),
                s("seconds_reward", "rewards", (GREEN, "green")),
                s("seconds_update", "update", (ORANGE, "orange")),
            ],
        },
    ]
}

fn draw(path: &Path, figure: &Figure) -> Result<()> {
    let root = BitMapBackend::new(path, (720, 400)).into_drawing_area();
    draw_on(&root, figure).map_err(|e| anyhow!("cannot draw {}: {e}", path.display()))
}

fn draw_on<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    figure: &Figure,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let all: Vec<(f64, f64)> = figure.series.iter().flat_map(|s| s.points.iter().copied()).collect();
    let (x0, x1) = bounds(all.iter().map(|p| p.0));
    let (y0, y1) = bounds(all.iter().map(|p| p.1));
    root.fill(&WHITE)?;
    if font().is_none() {
        return draw_without_text(root, figure, (x0, x1), (y0, y1));
    }
    // Head room above the curves for the legend, one line per series.
    let drawn = figure.series.iter().filter(|s| !s.points.is_empty()).count();
    let y1 = y1 + (y1 - y0) * 0.09 * drawn as f64;
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .caption(figure.title, ("sans-serif", 20))
        .x_label_area_size(42)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc("optimisation step (1-based)")
        .y_desc(figure.y_label)
        .x_label_formatter(&|x| tick(*x))
        .y_label_formatter(&|y| tick(*y))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .light_line_style(RGBColor(238, 238, 238))
        .draw()?;
    for s in figure.series.iter().filter(|s| !s.points.is_empty()) {
        let colour = s.colour;
        chart
            .draw_series(LineSeries::new(s.points.iter().copied(), colour.stroke_width(2)))?
            .label(s.name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(3)));
        chart.draw_series(s.points.iter().map(|p| Circle::new(*p, 3, colour.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(("sans-serif", 13))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .draw()?;
    root.present()
}

/// An axis value without float noise: `0.30000000000000004` → `0.3`, `-0.0` → `0`.
fn tick(value: f64) -> String {
    let value = if value.abs() < 1e-9 { 0.0 } else { value };
    let text = format!("{value:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The curves on a grid of quarters, for a machine without a font.
fn draw_without_text<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    figure: &Figure,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let mut chart = ChartBuilder::on(root).margin(16).build_cartesian_2d(x0..x1, y0..y1)?;
    let grey = RGBColor(225, 225, 225);
    for k in 0..=4 {
        let y = y0 + (y1 - y0) * k as f64 / 4.0;
        let x = x0 + (x1 - x0) * k as f64 / 4.0;
        chart.draw_series(LineSeries::new([(x0, y), (x1, y)], grey))?;
        chart.draw_series(LineSeries::new([(x, y0), (x, y1)], grey))?;
    }
    for s in &figure.series {
        chart.draw_series(LineSeries::new(s.points.iter().copied(), s.colour.stroke_width(2)))?;
        chart.draw_series(s.points.iter().map(|p| Circle::new(*p, 3, s.colour.filled())))?;
    }
    root.present()
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
    md.push_str("## Curves\n\nx = optimisation step (1-based); each figure's y range is that of its own series.\n");
    if font().is_none() {
        md.push_str("No font was found (set SRL_FONT to a .ttf file), so the PNGs carry no text: the tables say what each curve is.\n");
    }
    md.push('\n');
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

    /// Whether any pixel of the RGB buffer's rows `rows` (all columns `cols`) is not white.
    fn inked(buffer: &[u8], width: usize, rows: std::ops::Range<usize>, cols: std::ops::Range<usize>) -> bool {
        rows.flat_map(|y| cols.clone().map(move |x| (y * width + x) * 3)).any(|i| buffer[i..i + 3] != [255, 255, 255])
    }

    #[test]
    fn figures_carry_a_title_and_axis_labels_when_a_font_is_found() {
        let (width, height) = (720usize, 400usize);
        let mut buffer = vec![0u8; width * height * 3];
        let points = vec![(1.0, 0.5), (2.0, 0.7), (3.0, 0.6)];
        let series = vec![Series { name: "reward mean", colour: BLUE, colour_name: "blue", points }];
        let figure = Figure { file: "x.png", title: "A title", y_label: "reward", series };
        {
            let root = BitMapBackend::with_buffer(&mut buffer, (width as u32, height as u32)).into_drawing_area();
            draw_on(&root, &figure).unwrap();
        }
        // The caption sits centred in the top 30 pixels, the y label in the leftmost 30 columns;
        // the text-free drawing leaves both white.
        let caption = inked(&buffer, width, 8..34, 300..420);
        let y_label = inked(&buffer, width, 100..300, 0..30);
        let with_font = font().is_some();
        assert_eq!((caption, y_label), (with_font, with_font), "font: {:?}", font());
    }

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(-0.0), "0");
        assert_eq!(tick(0.1 + 0.2), "0.3");
        assert_eq!(tick(25.0), "25");
        assert_eq!(tick(-1.25), "-1.25");
    }

    #[test]
    fn bounds_always_have_height() {
        assert_eq!(bounds([].into_iter()), (0.0, 1.0));
        let (lo, hi) = bounds([2.0, 2.0].into_iter());
        assert!(lo < 2.0 && hi > 2.0);
        let (lo, hi) = bounds([0.0, 10.0].into_iter());
        assert!((lo + 0.5).abs() < 1e-12 && (hi - 10.5).abs() < 1e-12);
    }
}
