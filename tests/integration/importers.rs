//! Each importer on a small fixture in its dataset's format, and on a corrupted one.

use assert_cmd::Command;
use predicates::prelude::*;
use specsim::data::fit::profile::{Profile, ProfileDoc};
use specsim::data::sources::{har, httparchive, llmperf, thefastest};
use specsim::sim::dist::DistSpec;
use std::path::PathBuf;

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(format!(
        "{}/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
}

fn specsim() -> Command {
    Command::cargo_bin("specsim").unwrap()
}

#[test]
fn llmperf_counts_failures_and_fits_successes() {
    let providers = llmperf::read(&[fixture("llmperf/ok")]).unwrap();
    assert_eq!(providers.len(), 2);
    let acme = &providers[0];
    assert_eq!(acme.name, "acme_7b");
    assert_eq!(acme.ok.len(), 3);
    assert_eq!(acme.failed, vec![(429, 1)]);
    assert_eq!(acme.ok[2].line, 35);
    assert_eq!(providers[1].failed, vec![(-100, 1)]);

    let dir = tempfile::tempdir().unwrap();
    specsim()
        .args(["fit", "--from", "llmperf"])
        .arg(fixture("llmperf/ok"))
        .arg("--out-dir")
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("llmperf_acme_7b"))
        .stdout(predicate::str::contains("25.0%"));
    let doc: ProfileDoc = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("llmperf_acme_7b.json")).unwrap(),
    )
    .unwrap();
    assert_eq!((doc.n, doc.failed), (3, Some(1)));
    assert_eq!(doc.error_rate, Some(0.25));
    assert_eq!(doc.source.licence, "Apache-2.0");
    match doc.profile {
        Profile::Llm(l) => {
            assert_eq!(l.output_tokens, Some(DistSpec::Constant { value: 151.0 }));
            assert!(l.ttft.is_some() && l.tpot.is_some());
        }
        p => panic!("{p:?}"),
    }
}

#[test]
fn llmperf_corrupt_names_line_and_field() {
    let e = llmperf::read(&[fixture("llmperf/corrupt")]).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.ends_with("bad_7b.json:17: request [1]: field `ttft_s`: invalid type: string \"fast\", expected f64"),
        "{msg}"
    );
    specsim()
        .args(["fit", "--from", "llmperf"])
        .arg(fixture("llmperf/corrupt/bad_7b.json"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "bad_7b.json:17: request [1]: field `ttft_s`",
        ));
}

#[test]
fn thefastest_reads_regions_days_and_failures() {
    let ms = thefastest::read(&fixture("thefastest/measurements.jsonl")).unwrap();
    assert_eq!(ms.len(), 8);
    assert_eq!(ms.iter().filter(|m| m.failed()).count(), 1);
    assert_eq!(ms[3].day, "2024-04-16");
    assert_eq!(ms[3].region, "sea");
    let out = specsim()
        .args(["fit", "--from", "thefastest", "--model", "acme", "--json"])
        .arg(fixture("thefastest/measurements.jsonl"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let docs: Vec<ProfileDoc> = serde_json::from_slice(&out).unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].name, "thefastest_acme_fast-1");
    assert_eq!(docs[0].n, 4);
}

#[test]
fn thefastest_study_by_model() {
    let out = specsim()
        .args(["latency-study", "--json", "--min-n", "2"])
        .arg(fixture("thefastest/measurements.jsonl"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let acme = &v["rows"][0];
    assert_eq!(acme["model"], "acme/fast-1");
    assert_eq!(acme["n"], 4);
    // totals 0.4875, 0.5, 0.6, 3.0: max/min = 3.0 / 0.4875
    assert!((acme["max_min"].as_f64().unwrap() - 3.0 / 0.4875).abs() < 1e-12);
    // region medians: iad 0.49375, sea 1.8
    assert!((acme["region_spread"].as_f64().unwrap() - 1.8 / 0.49375).abs() < 1e-12);
    let zeta = &v["rows"][1];
    assert_eq!(
        (zeta["n"].as_u64(), zeta["failed"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(v["largest_max_min"]["model"], "acme/fast-1");
    // Same-size requests only: the 100-token request of zeta drops out.
    let out = specsim()
        .args(["latency-study", "--json", "--cmd=--max-tokens=20"])
        .arg(fixture("thefastest/measurements.jsonl"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["rows"][1]["n"], 2);
}

#[test]
fn thefastest_corrupt_names_the_line() {
    let e = thefastest::read(&fixture("thefastest/corrupt.jsonl")).unwrap_err();
    assert!(
        e.to_string()
            .ends_with("corrupt.jsonl:3: measurement: missing field `total_time`"),
        "{e}"
    );
    specsim()
        .arg("latency-study")
        .arg(fixture("thefastest/corrupt.jsonl"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "corrupt.jsonl:3: measurement: missing field `total_time`",
        ));
}

#[test]
fn har_request_times_and_onload() {
    let h = har::read_file(&fixture("har/page.har")).unwrap();
    let secs: Vec<f64> = h.requests.iter().map(|x| x.value).collect();
    // 400 ms given; 150 ms summed from timings (-1 skipped); 0 ms left out; 50 ms.
    assert_eq!(secs, vec![0.4, 0.15, 0.05]);
    assert_eq!(h.zero_requests, 1);
    assert_eq!(h.documents.len(), 1);
    assert_eq!(h.documents[0].line, 12);
    assert_eq!(
        h.onload.iter().map(|x| x.value).collect::<Vec<_>>(),
        vec![1.5]
    );
    assert_eq!(h.pages_without_onload, 1);
    specsim()
        .args(["fit", "--from", "har"])
        .arg(fixture("har/page.har"))
        .assert()
        .success()
        .stdout(predicate::str::contains("HAR request time (1 files): n=3"));
}

#[test]
fn har_corrupt_names_line_and_field() {
    let e = har::read_file(&fixture("har/corrupt.har")).unwrap_err();
    assert!(
        e.to_string().ends_with(
            "corrupt.har:6: field `log.entries[1].timings.wait` is -5; HAR timings are milliseconds >= 0, or -1 for not applicable"
        ),
        "{e}"
    );
    specsim()
        .args(["fit", "--from", "har"])
        .arg(fixture("har/corrupt.har"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("corrupt.har:6:"));
}

#[test]
fn httparchive_quantiles_to_lognormal() {
    let rows = httparchive::read(&fixture("httparchive/speed.csv")).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1].points[2], (0.5, 5.9));
    assert_eq!(httparchive::latest(&rows, "mobile").unwrap().line, 3);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("si.json");
    specsim()
        .args([
            "fit",
            "--from",
            "httparchive",
            "--client",
            "mobile",
            "--out",
        ])
        .arg(&out)
        .arg(fixture("httparchive/speed.csv"))
        .assert()
        .success()
        .stdout(predicate::str::contains("client=mobile date=2030_02_01"));
    let doc: ProfileDoc = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc.name, "speed_mobile_2030_02_01");
    match doc.profile {
        Profile::Latency(DistSpec::Lognormal { median, sigma }) => {
            assert!((median / 5.9 - 1.0).abs() < 0.05, "{median}");
            assert!(sigma > 0.4 && sigma < 0.8, "{sigma}");
        }
        p => panic!("{p:?}"),
    }
    // Several rows and no selection: --out refuses to guess.
    specsim()
        .args(["fit", "--quantiles", "--out"])
        .arg(dir.path().join("x.json"))
        .arg(fixture("httparchive/speed.csv"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "choose one with --row N or --client NAME",
        ));
}

#[test]
fn httparchive_corrupt_names_the_line() {
    specsim()
        .args(["fit", "--from", "httparchive"])
        .arg(fixture("httparchive/corrupt.csv"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "corrupt.csv:3: column `p50`: `n/a` is not a quantile value (allowed: a number > 0)",
        ));
}

#[test]
fn committed_profiles_are_valid_scenario_inputs() {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/traces/profiles"));
    let mut seen = 0;
    for sub in ["llmperf", "thefastest", "fetch"] {
        for entry in std::fs::read_dir(root.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let doc: ProfileDoc =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(!doc.source.upstream.is_empty() && !doc.source.licence.is_empty());
            let mut p = specsim::scenario::problems::Problems::new();
            let ok = match &doc.profile {
                Profile::Latency(d) => d.build("fetch", &mut p).is_some(),
                Profile::Llm(l) => l.build("target", &mut p).is_some(),
            };
            assert!(ok, "{}: {:?}", path.display(), p.items());
            seen += 1;
        }
    }
    assert!(seen >= 20, "{seen} profiles");
}

#[test]
fn thefastest_per_region_profiles_and_llmperf_study() {
    let out = specsim()
        .args(["fit", "--from", "thefastest", "--per-region", "--json"])
        .arg(fixture("thefastest/measurements.jsonl"))
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "skipped: zeta/slow-2 iad: need at least 2 samples to fit, got 1",
        ))
        .get_output()
        .stdout
        .clone();
    let docs: Vec<ProfileDoc> = serde_json::from_slice(&out).unwrap();
    let names: Vec<&str> = docs.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "thefastest_acme_fast-1_iad",
            "thefastest_acme_fast-1_sea",
            "thefastest_zeta_slow-2_sea"
        ]
    );
    // llmperf has no regions or days: the study gives one row per file, no spreads.
    let out = specsim()
        .args(["latency-study", "--json", "--metric", "ttft"])
        .arg(fixture("llmperf/ok"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["rows"][0]["model"], "acme_7b");
    assert_eq!(v["rows"][0]["failed"], 1);
    assert_eq!(v["rows"][0]["median"], 0.6);
    assert!(v["rows"][0].get("region_spread").is_none());
}
