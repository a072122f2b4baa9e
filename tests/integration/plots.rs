//! Figures: every kind is drawn from a small report or sweep fixture, with the expected
//! series and labels in the SVG and data-coloured pixels inside the PNG's plot area; bad
//! results files are clear errors.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::str::contains;
use specsim::plot::{
    plot_fit, plot_path, plot_report, plot_sweep, read_results, AxisValue, FitSubject, Format,
    Metric, Results, SweepOptions,
};
use specsim::scenario::problems::Problems;
use specsim::sim::dist::DistSpec;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/plots")
        .join(name)
}

fn sweep_rows() -> Vec<specsim::plot::SweepRow> {
    match read_results(&fixture("sweep")).expect("sweep fixture reads") {
        Results::Sweep(rows) => rows,
        Results::Report(_) => panic!("the sweep fixture read as a report"),
    }
}

fn svg(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text elements of an SVG, trimmed.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = t.split_once('>')?.1;
            Some(body.split("</text>").next()?.trim().to_string())
        })
        .collect()
}

/// An 8-bit RGB PNG as written by `specsim plot`, decoded.
struct Rgb {
    w: u32,
    h: u32,
    pixels: Vec<u8>,
}

impl Rgb {
    fn read(path: &Path) -> Rgb {
        let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut reader = png::Decoder::new(std::io::BufReader::new(file))
            .read_info()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut pixels = vec![0; reader.output_buffer_size()];
        let info = reader
            .next_frame(&mut pixels)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            (info.color_type, info.bit_depth),
            (png::ColorType::Rgb, png::BitDepth::Eight),
            "{}",
            path.display()
        );
        pixels.truncate(info.buffer_size());
        Rgb {
            w: info.width,
            h: info.height,
            pixels,
        }
    }

    fn get_pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y as usize * self.w as usize + x as usize) * 3;
        [self.pixels[i], self.pixels[i + 1], self.pixels[i + 2]]
    }
}

/// Pixels within 12 of `color` (per channel) in the central 60 % of the PNG at `path`,
/// i.e. inside the plot area, away from titles and legends at the edges.
fn pixels_of(path: &Path, color: (u8, u8, u8)) -> usize {
    let img = Rgb::read(path);
    let (w, h) = (img.w, img.h);
    let near = |a: u8, b: u8| (a as i32 - b as i32).abs() <= 12;
    let mut n = 0;
    for y in h / 5..h * 4 / 5 {
        for x in w / 5..w * 3 / 5 {
            let p = img.get_pixel(x, y);
            if near(p[0], color.0) && near(p[1], color.1) && near(p[2], color.2) {
                n += 1;
            }
        }
    }
    n
}

fn stems(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

const BLUE: (u8, u8, u8) = (0, 114, 178);
const VERMILLION: (u8, u8, u8) = (213, 94, 0);

#[test]
fn report_figures_have_bars_curves_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let written = plot_path(
        &fixture("report.json"),
        dir.path(),
        &SweepOptions::default(),
        &Format::ALL,
    )
    .unwrap();
    assert_eq!(
        stems(&written),
        [
            "breakdown.svg",
            "breakdown.png",
            "cdf_iteration.svg",
            "cdf_iteration.png",
            "cdf_session.svg",
            "cdf_session.png"
        ]
    );
    let b = svg(&dir.path().join("breakdown.svg"));
    for s in [
        "Latency breakdown per iteration",
        "mean time per iteration (s)",
        "target LLM",
        "extra LLM stages",
        "exposed web wait",
        "behind LLM time",
        "speccache",
        "oracle",
        "DejaVu Sans",
    ] {
        assert!(b.contains(s), "breakdown.svg lacks {s:?}");
    }
    // Target LLM segments (blue) and exposed web (vermillion) fill real areas of the plot.
    let png = dir.path().join("breakdown.png");
    assert!(pixels_of(&png, BLUE) > 2000, "{}", pixels_of(&png, BLUE));
    assert!(
        pixels_of(&png, VERMILLION) > 500,
        "{}",
        pixels_of(&png, VERMILLION)
    );
    for (stem, label) in [
        ("cdf_iteration", "iteration latency (s)"),
        ("cdf_session", "session latency (s)"),
    ] {
        let c = svg(&dir.path().join(format!("{stem}.svg")));
        for s in [label, "none", "speccache", "oracle", "fraction of"] {
            assert!(c.contains(s), "{stem}.svg lacks {s:?}");
        }
        // The speccache curve is blue.
        let png = dir.path().join(format!("{stem}.png"));
        assert!(
            pixels_of(&png, BLUE) > 200,
            "{stem}: {}",
            pixels_of(&png, BLUE)
        );
    }
}

#[test]
fn plot_report_takes_a_report_in_memory() {
    let text = std::fs::read_to_string(fixture("report.json")).unwrap();
    let report: specsim::io::report::Report = serde_json::from_str(&text).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let written = plot_report(&report, dir.path()).unwrap();
    assert_eq!(written.len(), 6);
    assert!(written.iter().all(|p| p.metadata().unwrap().len() > 1000));
}

#[test]
fn sweep_figures_have_lines_bands_and_a_heatmap() {
    let dir = tempfile::tempdir().unwrap();
    let written = plot_sweep(
        &sweep_rows(),
        dir.path(),
        &SweepOptions::default(),
        &Format::ALL,
    )
    .unwrap();
    assert_eq!(
        stems(&written),
        [
            "speedup_vs_cache_capacity.svg",
            "speedup_vs_cache_capacity.png",
            "web_reduction_vs_cache_capacity.svg",
            "web_reduction_vs_cache_capacity.png",
            "hit_rate_vs_cache_capacity.svg",
            "hit_rate_vs_cache_capacity.png",
            "heatmap_speedup_cache_capacity_width.svg",
            "heatmap_speedup_cache_capacity_width.png",
        ]
    );
    let s = svg(&dir.path().join("speedup_vs_cache_capacity.svg"));
    for t in [
        "Speedup vs cache capacity",
        "cache capacity (pages)",
        "speedup of session latency",
        "speccache",
        "random",
        "oracle",
        "1× (no change)",
        // width varies too: the lines hold it at its middle value (the lower of two), and
        // say so.
        "held fixed: prefetch width = 1",
    ] {
        assert!(s.contains(t), "speedup svg lacks {t:?}");
    }
    let t = texts(&s);
    assert!(t.iter().any(|x| x == "speccache"), "{t:?}");
    assert!(
        !t.iter().any(|x| x == "none"),
        "the baseline is the line at 1, not a series: {t:?}"
    );
    let png = dir.path().join("speedup_vs_cache_capacity.png");
    assert!(pixels_of(&png, BLUE) > 300, "{}", pixels_of(&png, BLUE));

    let h = svg(&dir.path().join("hit_rate_vs_cache_capacity.svg"));
    for t in [
        "hit rate (fraction of page visits)",
        "speccache",
        "random (reference)",
        "oracle (reference)",
        "all hits",
        "full hits only",
    ] {
        assert!(h.contains(t), "hit-rate svg lacks {t:?}");
    }
    // Cell (capacity 10, width 3) of speccache: speedup 1.2279 in the fixture.
    let m = svg(&dir.path().join("heatmap_speedup_cache_capacity_width.svg"));
    for t in [
        "1.23×",
        "policy speccache",
        "prefetch width (links per step)",
    ] {
        assert!(m.contains(t), "heatmap svg lacks {t:?}");
    }
    let png = dir.path().join("heatmap_speedup_cache_capacity_width.png");
    let img = Rgb::read(&png);
    let (w, hgt) = (img.w, img.h);
    let centre = img.get_pixel(w * 2 / 5, hgt / 2);
    assert_ne!(centre, [255, 255, 255], "heatmap centre is background");
}

#[test]
fn second_axis_gives_one_line_per_value() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SweepOptions {
        axis: Some("width".into()),
        second_axis: Some("cache.capacity".into()),
        metric: Some(Metric::Speedup),
        policy: None,
        at: Vec::new(),
        base: Vec::new(),
    };
    let written = plot_sweep(&sweep_rows(), dir.path(), &opts, &[Format::Svg]).unwrap();
    assert_eq!(
        stems(&written),
        [
            "speedup_vs_width.svg",
            "heatmap_speedup_width_cache_capacity.svg"
        ]
    );
    let s = svg(&written[0]);
    assert!(s.contains("policy speccache"));
    // The legend: the second axis as its heading, one entry per value, no policies.
    let t = texts(&s);
    for label in ["cache capacity (pages)", "5", "10", "20"] {
        assert!(t.iter().any(|x| x == label), "no {label:?} in {t:?}");
    }
    assert!(!t.iter().any(|x| x == "oracle"), "{t:?}");
}

#[test]
fn fit_figure_has_ecdf_and_qq_panels() {
    let mut p = Problems::new();
    let spec = |v: serde_json::Value| -> DistSpec { serde_json::from_value(v).unwrap() };
    let logn = spec(serde_json::json!({"dist": "lognormal", "median": 2.0, "sigma": 0.5}))
        .build("f", &mut p)
        .unwrap();
    let expo = spec(serde_json::json!({"dist": "exponential", "mean": 2.2}))
        .build("f", &mut p)
        .unwrap();
    let samples: Vec<f64> = (1..=300)
        .map(|i| 2.0 * (0.5 * inverse_normal(i as f64 / 301.0)).exp())
        .collect();
    let fitted = vec![
        ("lognormal".to_string(), logn),
        ("exponential".to_string(), expo),
    ];
    let dir = tempfile::tempdir().unwrap();
    let subject = FitSubject {
        source: "fetch.csv, field `fetch_s`".into(),
        quantity: specsim::scenario::fields::profile_quantity("latency").unwrap(),
    };
    let written = plot_fit(
        &samples,
        &fitted,
        "lognormal",
        &subject,
        dir.path(),
        "fetch_fit",
    )
    .unwrap();
    assert_eq!(stems(&written), ["fetch_fit.svg", "fetch_fit.png"]);
    let s = svg(&written[0]);
    for t in [
        "Fit of latency: fetch.csv, field `fetch_s`",
        "samples (n = 300)",
        "lognormal (chosen)",
        "exponential",
        "lognormal quantile (s)",
        "sample quantile (s)",
    ] {
        assert!(s.contains(t), "fit svg lacks {t:?}");
    }
    let png = &written[1];
    // The chosen family's curve and Q-Q points are vermillion.
    assert!(
        pixels_of(png, VERMILLION) > 300,
        "{}",
        pixels_of(png, VERMILLION)
    );
    let e = plot_fit(&samples, &fitted, "gamma", &subject, dir.path(), "x").unwrap_err();
    assert!(
        e.to_string()
            .contains("`gamma` is not among the fitted ones"),
        "{e}"
    );
}

/// The standard normal quantile.
fn inverse_normal(p: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::new(0.0, 1.0).unwrap().inverse_cdf(p)
}

#[test]
fn figures_are_byte_identical_across_runs() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let rows = sweep_rows();
    let opts = SweepOptions {
        metric: Some(Metric::HitRate),
        ..SweepOptions::default()
    };
    let wa = plot_sweep(&rows, a.path(), &opts, &Format::ALL).unwrap();
    let wb = plot_sweep(&rows, b.path(), &opts, &Format::ALL).unwrap();
    for (x, y) in wa.iter().zip(&wb) {
        assert_eq!(
            std::fs::read(x).unwrap(),
            std::fs::read(y).unwrap(),
            "{}",
            x.display()
        );
    }
}

#[test]
fn missing_column_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let e = plot_path(
        &fixture("missing_column.jsonl"),
        dir.path(),
        &SweepOptions::default(),
        &Format::ALL,
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(e.is_bad_input());
    assert!(msg.contains("missing_column.jsonl:1"), "{msg}");
    assert!(msg.contains("missing field `speedup`"), "{msg}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no figure written"
    );
}

#[test]
fn no_rows_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("results.jsonl"), "").unwrap();
    let e = plot_path(
        dir.path(),
        &dir.path().join("out"),
        &SweepOptions::default(),
        &Format::ALL,
    )
    .unwrap_err();
    assert!(e.to_string().contains("results.jsonl: no rows"), "{e}");
    assert!(!dir.path().join("out").exists());
}

fn specsim() -> Command {
    Command::cargo_bin("specsim").unwrap()
}

#[test]
fn cli_plots_a_sweep_and_lists_the_files() {
    let dir = tempfile::tempdir().unwrap();
    specsim()
        .arg("plot")
        .arg(fixture("sweep/results.jsonl"))
        .arg("--out")
        .arg(dir.path())
        .args([
            "--axis",
            "width",
            "--metric",
            "web_reduction",
            "--format",
            "png",
        ])
        .assert()
        .success()
        .stdout(contains("web_reduction_vs_width.png"))
        .stdout(contains("heatmap_web_reduction_width_cache_capacity.png"));
    assert!(dir.path().join("web_reduction_vs_width.png").exists());
    assert!(!dir.path().join("web_reduction_vs_width.svg").exists());
}

#[test]
fn cli_rejects_bad_inputs_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    specsim()
        .arg("plot")
        .arg(fixture("missing_column.jsonl"))
        .arg("--out")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(contains("missing_column.jsonl:1: missing field `speedup`"));
    specsim()
        .arg("plot")
        .arg(fixture("sweep"))
        .arg("--out")
        .arg(dir.path())
        .args(["--axis", "cache.size"])
        .assert()
        .code(2)
        .stderr(contains(
            "--axis cache.size: not an axis of this sweep (axes: cache.capacity, width)",
        ));
    specsim()
        .arg("plot")
        .arg(fixture("sweep"))
        .arg("--out")
        .arg(dir.path())
        .args(["--metric", "latency"])
        .assert()
        .code(2)
        .stderr(contains("unknown metric `latency`"));
    specsim()
        .arg("plot")
        .arg(fixture("report.json"))
        .arg("--out")
        .arg(dir.path())
        .args(["--axis", "width"])
        .assert()
        .code(2)
        .stderr(contains("a run report has no sweep axes"));
    specsim()
        .arg("plot")
        .arg(dir.path().join("nothing.json"))
        .arg("--out")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(contains("nothing.json: cannot read"));
    let csv = dir.path().join("results.csv");
    std::fs::write(&csv, "cell,width\n").unwrap();
    specsim()
        .arg("plot")
        .arg(&csv)
        .arg("--out")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(contains("plots read results.jsonl, not the CSV"));
}

#[test]
fn undefined_intervals_are_null_and_still_draw() {
    // One replication has no confidence interval: the report writes null there.
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("report.json")).unwrap()).unwrap();
    for row in v["policies"].as_array_mut().unwrap() {
        for f in [
            "iter_latency_s_ci_lo",
            "iter_latency_s_ci_hi",
            "hit_rate_ci_lo",
        ] {
            row[f] = serde_json::Value::Null;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one.json");
    std::fs::write(&file, v.to_string()).unwrap();
    let written = plot_path(&file, dir.path(), &SweepOptions::default(), &[Format::Svg]).unwrap();
    let t = texts(&svg(&written[0]));
    let total = v["policies"][0]["iter_latency_s"].as_f64().unwrap();
    assert!(
        t.iter().any(|x| *x == format!("{total:.1} s")),
        "no total {total:.1} s in {t:?}"
    );
}

#[test]
fn text_axes_are_categories_in_file_order() {
    let text = std::fs::read_to_string(fixture("sweep/results.jsonl"))
        .unwrap()
        .replace("\"width\":1", "\"width\":\"narrow\"")
        .replace("\"width\":3", "\"width\":\"wide\"");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("results.jsonl"), text).unwrap();
    let opts = SweepOptions {
        axis: Some("width".into()),
        metric: Some(Metric::Speedup),
        ..SweepOptions::default()
    };
    let written = plot_path(dir.path(), &dir.path().join("f"), &opts, &[Format::Svg]).unwrap();
    let t = texts(&svg(&written[0]));
    let narrow = t
        .iter()
        .position(|x| x == "narrow")
        .expect("narrow labelled");
    let wide = t.iter().position(|x| x == "wide").expect("wide labelled");
    assert!(narrow < wide, "{t:?}");
    assert!(
        t.iter().any(|x| x == "prefetch width (links per step)"),
        "{t:?}"
    );
}

#[test]
fn web_reduction_gaps_are_explained_only_where_they_occur() {
    // In the fixture, oracle hides every web wait at width 3 (web_reduction null).
    let dir = tempfile::tempdir().unwrap();
    let rows = sweep_rows();
    let by_width = SweepOptions {
        axis: Some("width".into()),
        metric: Some(Metric::WebReduction),
        ..SweepOptions::default()
    };
    let w = plot_sweep(&rows, dir.path(), &by_width, &[Format::Svg]).unwrap();
    assert!(svg(&w[0]).contains("gaps: all web time hidden"));
    let by_capacity = SweepOptions {
        metric: Some(Metric::WebReduction),
        ..SweepOptions::default()
    };
    let c = plot_sweep(&rows, dir.path(), &by_capacity, &[Format::Svg]).unwrap();
    assert!(!svg(&c[0]).contains("gaps"), "width 1 has no gap");
}

#[test]
fn a_real_sweep_directory_plots_end_to_end() {
    // A tiny sweep through the real binary: the plot reads exactly what `specsim sweep` writes.
    let mut scenario: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("scenario.json")).unwrap()).unwrap();
    scenario["replications"] = 2.into();
    scenario["sessions"] = 3.into();
    scenario["site"]["pages"] = 300.into();
    scenario["sweep"] = serde_json::json!({"grid": [
        {"path": "cache.capacity", "values": [2, 10]},
        {"path": "width", "values": [1, 3]}
    ]});
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sweep.json");
    std::fs::write(&file, scenario.to_string()).unwrap();
    let out = dir.path().join("out");
    specsim()
        .arg("sweep")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .assert()
        .success();
    let figs = dir.path().join("figs");
    specsim()
        .arg("plot")
        .arg(&out)
        .arg("--out")
        .arg(&figs)
        .assert()
        .success()
        .stdout(contains("heatmap_speedup_cache_capacity_width.png"));
    let s = svg(&figs.join("speedup_vs_cache_capacity.svg"));
    assert!(
        s.contains("held fixed: prefetch width = 1"),
        "width is the second axis, held at the middle of 1 and 3 (the lower)"
    );
    assert!(pixels_of(&figs.join("speedup_vs_cache_capacity.png"), BLUE) > 100);
}

#[test]
fn fit_report_figure_marks_the_aic_choice() {
    // Gamma(shape 2, scale 1.5) quantiles at 400 plotting positions: a smooth sample.
    use statrs::distribution::{ContinuousCDF, Gamma};
    let g = Gamma::new(2.0, 1.0 / 1.5).unwrap();
    let samples: Vec<f64> = (1..=400).map(|i| g.inverse_cdf(i as f64 / 401.0)).collect();
    let report = specsim::data::fit::fit(&samples).unwrap();
    let best = report.best.unwrap().name();
    let dir = tempfile::tempdir().unwrap();
    let subject = FitSubject {
        source: "gamma sample".into(),
        quantity: specsim::scenario::fields::profile_quantity("output_tokens").unwrap(),
    };
    let written =
        specsim::plot::plot_fit_report(&samples, &report, None, &subject, dir.path(), "g").unwrap();
    let s = svg(&written[0]);
    assert!(s.contains(&format!("{best} (chosen)")), "{best}");
    assert!(s.contains(&format!("Q-Q plot: {best} against the data")));
    assert!(s.contains("output tokens (tokens)"));
    assert!(!s.contains("(s)"), "token counts are not seconds");
    for f in &report.fits {
        assert!(s.contains(f.family.name()), "{} missing", f.family.name());
    }
    // A profile that uses no fitted family: the best AIC is highlighted as such.
    let written = specsim::plot::plot_fit_report(
        &samples,
        &report,
        Some("empirical"),
        &subject,
        dir.path(),
        "e",
    )
    .unwrap();
    let s = svg(&written[0]);
    assert!(s.contains(&format!("{best} (best AIC)")), "{best}");
    assert!(s.contains("the profile uses empirical"));
}

#[test]
fn at_holds_other_axes_where_asked() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SweepOptions {
        metric: Some(Metric::Speedup),
        at: vec![("width".into(), "3".into())],
        ..SweepOptions::default()
    };
    let written = plot_sweep(&sweep_rows(), dir.path(), &opts, &[Format::Svg]).unwrap();
    assert!(svg(&written[0]).contains("held fixed: prefetch width = 3"));
    let bad = SweepOptions {
        at: vec![("width".into(), "4".into())],
        ..SweepOptions::default()
    };
    let e = plot_sweep(&sweep_rows(), dir.path(), &bad, &[Format::Svg]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "--at width=4: the sweep has no such value (values: 1, 3)"
    );
    specsim()
        .arg("plot")
        .arg(fixture("sweep"))
        .arg("--out")
        .arg(dir.path())
        .args(["--at", "width"])
        .assert()
        .code(2)
        .stderr(contains("`width` is not PATH=VALUE"));
}

/// Rows of the fixture sweep with a third axis `cache.eviction` that takes `lru` with
/// capacity 5 and `fifo` otherwise, as a sweep's `cases` would.
fn rows_with_cases() -> Vec<specsim::plot::SweepRow> {
    let mut rows = sweep_rows();
    for r in &mut rows {
        let cap = r.axes.get("cache.capacity").and_then(|v| v.as_num());
        let ev = if cap == Some(5.0) { "lru" } else { "fifo" };
        r.axes
            .0
            .push(("cache.eviction".into(), AxisValue::Text(ev.into())));
    }
    rows
}

#[test]
fn default_slice_is_the_scenarios_own_values() {
    // Regression: the held axes took the first cell's values (the least informative).
    let dir = tempfile::tempdir().unwrap();
    let held = |base: Vec<(String, AxisValue)>| {
        let opts = SweepOptions {
            metric: Some(Metric::Speedup),
            base,
            ..SweepOptions::default()
        };
        let w = plot_sweep(&sweep_rows(), dir.path(), &opts, &[Format::Svg]).unwrap();
        let s = svg(&w[0]);
        let at = s.find("held fixed: ").expect("a held axis");
        s[at..].split('<').next().unwrap().trim().to_string()
    };
    let own = |v: f64| vec![("width".to_string(), AxisValue::Num(v))];
    // The scenario's own width is on the axis.
    assert_eq!(held(own(3.0)), "held fixed: prefetch width = 3");
    // Not on the axis: the nearest value.
    assert_eq!(held(own(5.0)), "held fixed: prefetch width = 3");
    assert_eq!(held(own(1.2)), "held fixed: prefetch width = 1");
    // Unknown: the middle value (the lower of two).
    assert_eq!(held(Vec::new()), "held fixed: prefetch width = 1");

    // Through the binary: --scenario names the file the sweep ran (its width is 3).
    specsim()
        .arg("plot")
        .arg(fixture("sweep"))
        .arg("--out")
        .arg(dir.path().join("cli"))
        .args(["--metric", "speedup", "--format", "svg", "--scenario"])
        .arg(fixture("scenario.json"))
        .assert()
        .success();
    let s = svg(&dir.path().join("cli/speedup_vs_cache_capacity.svg"));
    assert!(s.contains("held fixed: prefetch width = 3"), "{s}");
    specsim()
        .arg("plot")
        .arg(fixture("report.json"))
        .arg("--out")
        .arg(dir.path().join("r"))
        .arg("--scenario")
        .arg(fixture("scenario.json"))
        .assert()
        .code(2)
        .stderr(contains("--scenario applies to sweep results"));
}

#[test]
fn held_values_come_from_one_cell_of_a_cases_sweep() {
    // Capacity 10 and eviction lru never occur together: holding both at their preferred
    // values independently would leave nothing to draw.
    let dir = tempfile::tempdir().unwrap();
    let opts = SweepOptions {
        axis: Some("width".into()),
        metric: Some(Metric::Speedup),
        base: vec![
            ("cache.capacity".into(), AxisValue::Num(10.0)),
            ("cache.eviction".into(), AxisValue::Text("lru".into())),
        ],
        ..SweepOptions::default()
    };
    let w = plot_sweep(&rows_with_cases(), dir.path(), &opts, &[Format::Svg]).unwrap();
    let s = svg(&w[0]);
    // The first cell matching the most preferred values (one each): capacity 5 with lru.
    assert!(
        s.contains("held fixed: cache capacity = 5, cache eviction = lru"),
        "{s}"
    );
    let t = texts(&s);
    assert!(t.iter().any(|x| x == "speccache"), "lines drawn: {t:?}");
    let bad = SweepOptions {
        axis: Some("width".into()),
        at: vec![
            ("cache.capacity".into(), "10".into()),
            ("cache.eviction".into(), "lru".into()),
        ],
        ..SweepOptions::default()
    };
    let e = plot_sweep(&rows_with_cases(), dir.path(), &bad, &[Format::Svg]).unwrap_err();
    assert!(
        e.to_string()
            .contains("no cell of the sweep has these values together"),
        "{e}"
    );
}

/// A sweep over `path` at `values`: every cell holds the policy rows of the fixture's first
/// cell, with `oracle`'s web reduction set to `oracle_web`.
fn one_axis_sweep(path: &str, values: &[f64], oracle_web: f64) -> Vec<specsim::plot::SweepRow> {
    let first: Vec<specsim::plot::SweepRow> = sweep_rows().into_iter().take(5).collect();
    let mut rows = Vec::new();
    for (i, v) in values.iter().enumerate() {
        for r in &first {
            let mut r = r.clone();
            r.cell = format!("c{i}");
            r.axes.0 = vec![(path.to_string(), AxisValue::Num(*v))];
            if r.row.policy == "oracle" {
                r.row.web_reduction = Some(oracle_web);
                r.row.web_reduction_ci_lo = Some(oracle_web * 0.95);
                r.row.web_reduction_ci_hi = Some(oracle_web * 1.05);
            }
            rows.push(r);
        }
    }
    rows
}

/// Texts of an SVG that are numbers (tick labels and the like).
fn numbers(svg: &str) -> Vec<String> {
    texts(svg)
        .into_iter()
        .filter(|t| !t.is_empty() && t.parse::<f64>().is_ok())
        .collect()
}

#[test]
fn ratios_spanning_an_order_of_magnitude_get_a_log_axis() {
    // Regression: a linear axis up to the oracle's ~9x flattened every other policy.
    let dir = tempfile::tempdir().unwrap();
    let opts = SweepOptions {
        metric: Some(Metric::WebReduction),
        ..SweepOptions::default()
    };
    let rows = one_axis_sweep("cache.capacity", &[5.0, 10.0, 20.0], 9.0);
    let w = plot_sweep(&rows, dir.path(), &opts, &[Format::Svg]).unwrap();
    let s = svg(&w[0]);
    assert!(s.contains("log y axis"), "{s}");
    let n = numbers(&s);
    for tick in ["1", "2", "5", "10"] {
        assert!(n.iter().any(|x| x == tick), "no tick {tick} in {n:?}");
    }
    // The fixture's own ratios (oracle 3.6x) stay linear.
    let rows = one_axis_sweep("cache.capacity", &[5.0, 10.0, 20.0], 3.6);
    let w = plot_sweep(&rows, dir.path(), &opts, &[Format::Svg]).unwrap();
    assert!(!svg(&w[0]).contains("log y axis"));
}

#[test]
fn value_ticks_share_one_precision() {
    // Regression: ticks read 1, 1.05, 1.1, 1.15.
    let dir = tempfile::tempdir().unwrap();
    let opts = SweepOptions {
        metric: Some(Metric::Speedup),
        ..SweepOptions::default()
    };
    let w = plot_sweep(&sweep_rows(), dir.path(), &opts, &[Format::Svg]).unwrap();
    let ticks: Vec<String> = numbers(&svg(&w[0]))
        .into_iter()
        .filter(|t| t.contains('.'))
        .collect();
    assert!(ticks.len() >= 4, "{ticks:?}");
    let decimals = |t: &String| t.split('.').nth(1).map_or(0, str::len);
    assert!(
        ticks.iter().all(|t| decimals(t) == decimals(&ticks[0])),
        "{ticks:?}"
    );
    assert!(ticks.iter().any(|t| t.starts_with("1.0")), "{ticks:?}");
}

#[test]
fn close_x_values_keep_every_label() {
    // Regression: the draft-latency figure lost its `1` next to `0.5`.
    let dir = tempfile::tempdir().unwrap();
    let values = [0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0, 12.0, 16.0];
    let rows = one_axis_sweep("drafts[0].latency.latency.median", &values, 3.6);
    let opts = SweepOptions {
        metric: Some(Metric::Speedup),
        ..SweepOptions::default()
    };
    let w = plot_sweep(&rows, dir.path(), &opts, &[Format::Svg]).unwrap();
    let s = svg(&w[0]);
    let n = numbers(&s);
    for v in values {
        let label = specsim::plot::AxisValue::Num(v).to_string();
        assert!(n.contains(&label), "no x label {label} in {n:?}");
    }
    assert!(s.contains("Speedup vs draft latency, median"));
    assert!(s.contains("draft latency, median (s)"));
}
