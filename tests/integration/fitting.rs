//! `specsim fit` on plain samples through the real binary: tables, profiles, bad input.

use assert_cmd::Command;
use predicates::prelude::*;
use specsim::data::fit::profile::{Profile, ProfileDoc};

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/fit/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn specsim() -> Command {
    Command::cargo_bin("specsim").unwrap()
}

#[test]
fn csv_column_fits_every_family_and_writes_a_profile() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fetch.json");
    specsim()
        .args([
            "fit",
            &fixture("samples.csv"),
            "--field",
            "fetch_s",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("n=6 min=0.7000 median=1.000"))
        .stdout(predicate::str::contains("lognormal"))
        .stdout(predicate::str::contains("weibull"))
        .stdout(predicate::str::contains("best by AIC"));
    let doc: ProfileDoc = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc.n, 6);
    assert_eq!(doc.source.files, vec!["samples.csv"]);
    assert!(matches!(doc.profile, Profile::Latency(_)));
    assert_eq!(doc.fits[0].median, 1.0);
}

#[test]
fn nested_jsonl_field_and_json_array() {
    let out = specsim()
        .args([
            "fit",
            &fixture("nested.jsonl"),
            "--field",
            "timing.fetch",
            "--json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["fit"]["n"], 4);
    assert_eq!(v["fit"]["max"], 2.5);
    specsim()
        .args(["fit", &fixture("array.json")])
        .assert()
        .success()
        .stdout(predicate::str::contains("n=6"));
}

#[test]
fn milliseconds_are_scaled() {
    let out = specsim()
        .args(["fit", &fixture("array.json"), "--scale", "0.001", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!((v["fit"]["max"].as_f64().unwrap() - 0.0025).abs() < 1e-15);
}

#[test]
fn missing_column_is_bad_input() {
    specsim()
        .args(["fit", &fixture("samples.csv"), "--field", "latency"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "samples.csv:1: no column `latency`; the header has: request, fetch_s, tokens",
        ));
}

#[test]
fn missing_json_field_is_bad_input() {
    specsim()
        .args(["fit", &fixture("nested.jsonl"), "--field", "timing.ttft"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "nested.jsonl:1: field `timing.ttft`: no key `ttft` here; keys are: fetch",
        ));
}

#[test]
fn non_numeric_value_names_the_line() {
    specsim()
        .args(["fit", &fixture("bad_value.csv"), "--field", "fetch_s"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "bad_value.csv:4: column `fetch_s`: `slow` is not a number",
        ));
}

#[test]
fn negative_value_names_the_line() {
    specsim()
        .args(["fit", &fixture("negative.csv"), "--field", "fetch_s"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "negative.csv:3: `fetch_s` is -1.2; latencies must be >= 0",
        ));
}

#[test]
fn too_few_samples_is_bad_input() {
    specsim()
        .args(["fit", &fixture("one.csv")])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "one.csv: value: need at least 2 samples to fit, got 1",
        ));
}

#[test]
fn missing_file_is_bad_input() {
    specsim()
        .args(["fit", &fixture("nope.csv")])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nope.csv: cannot read:"));
}

#[test]
fn bad_scale_is_bad_input() {
    specsim()
        .args(["fit", &fixture("array.json"), "--scale", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--scale: must be a finite number > 0, got 0",
        ));
}

#[test]
fn llm_profile_from_three_columns() {
    let out = specsim()
        .args([
            "fit",
            &fixture("llm.csv"),
            "--ttft",
            "ttft_s",
            "--e2e",
            "e2e_s",
        ])
        .args(["--tokens", "output_tokens", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let docs: Vec<ProfileDoc> = serde_json::from_slice(&out).unwrap();
    assert_eq!(docs[0].n, 6);
    assert_eq!(docs[0].fits[0].quantity, "ttft");
    // tpot of the first record: (2.40 - 0.40) / 100 = 0.02; the median of all six is 0.02.
    assert!(
        (docs[0].fits[1].median - 0.02).abs() < 1e-3,
        "{}",
        docs[0].fits[1].median
    );
    let Profile::Llm(spec) = &docs[0].profile else {
        panic!("not an LLM profile")
    };
    let mut p = specsim::scenario::problems::Problems::new();
    assert!(spec.build("target", &mut p).is_some());
    specsim()
        .args(["fit", &fixture("llm.csv"), "--ttft", "ttft_s"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--e2e"));
}

#[test]
fn trace_latencies_with_skip_missing() {
    // Header, session and answer lines have no fetch: skipped and counted.
    let out = specsim()
        .args([
            "fit",
            &fixture("trace.jsonl"),
            "--field",
            "fetch_s",
            "--skip-missing",
            "--json",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "skipped 3 records without a value",
        ))
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["fit"]["n"], 2);
    assert_eq!(v["fit"]["median"], 6.15);
    specsim()
        .args(["fit", &fixture("trace.jsonl"), "--field", "fetch_s"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "trace.jsonl:1: field `fetch_s`: no key `fetch_s` here; keys are: format, source, type, version",
        ));
}

/// The file names in `dir`, sorted.
fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn read(path: std::path::PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn data(p: &str) -> String {
    format!("{}/tests/fixtures/{p}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `specsim fit ARGS --plots DIR` and checks that exactly `expected` files were drawn;
/// returns DIR and stderr.
fn draws(
    dir: &std::path::Path,
    args: &[String],
    expected: &[&str],
) -> (std::path::PathBuf, String) {
    let figs = dir.join("figs");
    let out = specsim()
        .arg("fit")
        .args(args)
        .arg("--plots")
        .arg(&figs)
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "wrote {} figure files to",
            expected.len()
        )));
    assert_eq!(files_in(&figs), expected, "{args:?}");
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    (figs, err)
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

// Regression: --plots was silently ignored with --from, --quantiles and --ttft. Each mode
// now draws one figure per fitted quantity (both formats).

#[test]
fn fit_plots_of_samples_name_file_field_and_unit() {
    let dir = tempfile::tempdir().unwrap();
    let (figs, _) = draws(
        dir.path(),
        &strings(&["--field", "fetch_s", &fixture("samples.csv")]),
        &["samples.png", "samples.svg"],
    );
    let plain = read(figs.join("samples.svg"));
    assert!(
        plain.contains("Fit of latency: samples.csv, field `fetch_s`"),
        "{plain}"
    );
    assert!(plain.contains("latency (s)"));
    let har = tempfile::tempdir().unwrap();
    draws(
        har.path(),
        &strings(&["--from", "har", &data("har/page.har")]),
        &["har_requests.png", "har_requests.svg"],
    );
}

#[test]
fn fit_plots_of_llm_profiles_count_tokens_in_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let (figs, _) = draws(
        dir.path(),
        &strings(&[
            "--ttft",
            "ttft_s",
            "--e2e",
            "e2e_s",
            "--tokens",
            "output_tokens",
            &fixture("llm.csv"),
        ]),
        &[
            "llm_output_tokens.png",
            "llm_output_tokens.svg",
            "llm_tpot.png",
            "llm_tpot.svg",
            "llm_ttft.png",
            "llm_ttft.svg",
        ],
    );
    let tokens = read(figs.join("llm_output_tokens.svg"));
    assert!(tokens.contains("Fit of output tokens: llm (llm.csv)"));
    assert!(tokens.contains("output tokens (tokens)"));
    assert!(
        !tokens.contains("(s)"),
        "token counts are not seconds: {tokens}"
    );
    let ttft = read(figs.join("llm_ttft.svg"));
    assert!(ttft.contains("time to first token (s)"));

    // acme_7b's output tokens are all 151: no token figure, and stderr says why.
    let dir = tempfile::tempdir().unwrap();
    let (_, err) = draws(
        dir.path(),
        &strings(&["--from", "llmperf", &data("llmperf/ok/acme_7b.json")]),
        &[
            "llmperf_acme_7b_tpot.png",
            "llmperf_acme_7b_tpot.svg",
            "llmperf_acme_7b_ttft.png",
            "llmperf_acme_7b_ttft.svg",
        ],
    );
    assert!(
        err.contains("plots: no figure for llmperf_acme_7b_output_tokens: all 3 samples equal 151"),
        "{err}"
    );
    // Every acme request of thefastest returned 20 tokens: no token figure either.
    let dir = tempfile::tempdir().unwrap();
    draws(
        dir.path(),
        &strings(&[
            "--from",
            "thefastest",
            &data("thefastest/measurements.jsonl"),
            "--model",
            "acme",
        ]),
        &[
            "thefastest_acme_fast-1_tpot.png",
            "thefastest_acme_fast-1_tpot.svg",
            "thefastest_acme_fast-1_ttft.png",
            "thefastest_acme_fast-1_ttft.svg",
        ],
    );
}

#[test]
fn fit_plots_of_quantile_tables_show_the_published_quantiles() {
    let dir = tempfile::tempdir().unwrap();
    let (figs, _) = draws(
        dir.path(),
        &strings(&[
            "--from",
            "httparchive",
            &data("httparchive/speed.csv"),
            "--client",
            "mobile",
        ]),
        &["speed_mobile_2030_02_01.png", "speed_mobile_2030_02_01.svg"],
    );
    let q = read(figs.join("speed_mobile_2030_02_01.svg"));
    assert!(
        q.contains("speed.csv line 3 (measure=speedIndex client=mobile"),
        "{q}"
    );
    assert!(q.contains("5 published quantiles"));
    // Without a row to write, every row is drawn.
    let dir = tempfile::tempdir().unwrap();
    draws(
        dir.path(),
        &strings(&["--quantiles", &data("httparchive/speed.csv")]),
        &[
            "speed_line2.png",
            "speed_line2.svg",
            "speed_line3.png",
            "speed_line3.svg",
            "speed_line4.png",
            "speed_line4.svg",
        ],
    );
}

#[test]
fn llm_table_names_quantities_with_their_units() {
    // The table's headers come from the same registry as the figures' axes.
    specsim()
        .args(["fit", "--from", "llmperf"])
        .arg(data("llmperf/ok/acme_7b.json"))
        .assert()
        .success()
        .stdout(predicate::str::contains("time to first token (s)"))
        .stdout(predicate::str::contains("time per output token (s)"))
        .stdout(predicate::str::contains("output tokens (tokens)"))
        .stdout(predicate::str::contains("end-to-end latency, median (s)"));
}
