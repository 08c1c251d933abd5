//! A pipeline fitted on training rows, saved, and loaded back in a fresh process (this test
//! binary run again, on the ignored child test) transforms new rows bit for bit as the
//! original does.

use std::path::PathBuf;
use std::process::Command;

use strata_data::pipeline::{Encoding, NumericStep};
use strata_data::preprocess::{
    CategoricalImputer, CategoricalStrategy, ClipMethod, ImputeStrategy, OneHotEncoder,
    OutlierClipper, RobustScaler, SimpleImputer, StandardScaler, Unknown,
};
use strata_data::{CsvReader, Pipeline, Table};

const TRAIN: &str = "species,island,bill,mass,sex\n\
    A,Tor,39.1,3750,male\nA,Bis,NA,3800,female\nG,Bis,46.1,NA,NA\nG,Dre,50.0,5700,male\n\
    C,Dre,49.3,3650,female\nA,Tor,36.7,3450,female\n";
const NEW: &str = "species,island,bill,mass,sex\nA,Tor,40.2,NA,male\nG,Moon,NA,6000,NA\n";

fn new_rows() -> Table {
    CsvReader::new()
        .read_bytes(NEW.as_bytes(), "new.csv")
        .unwrap()
}

fn out_bits(x: &[f32]) -> String {
    x.iter()
        .map(|v| format!("{:08x}", v.to_bits()))
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn pipeline_loaded_in_a_fresh_process_transforms_identically() {
    let train = CsvReader::new()
        .read_bytes(TRAIN.as_bytes(), "train.csv")
        .unwrap();
    let mut p = Pipeline::new()
        .numeric(
            &["bill"],
            vec![
                NumericStep::Impute(SimpleImputer::new(ImputeStrategy::Mean)),
                NumericStep::Clip(OutlierClipper::new(ClipMethod::ZScore(2.0))),
                NumericStep::Standard(StandardScaler::new()),
            ],
        )
        .numeric(
            &["mass"],
            vec![
                NumericStep::Impute(SimpleImputer::new(ImputeStrategy::Median)),
                NumericStep::Robust(RobustScaler::new()),
            ],
        )
        .categorical(
            &["island", "sex"],
            Some(CategoricalImputer::new(CategoricalStrategy::MostFrequent)),
            Encoding::OneHot(OneHotEncoder::new().unknown(Unknown::Ignore)),
        );
    p.fit(&train).unwrap();
    let (expected, cols) = p.transform(&new_rows()).unwrap();
    assert_eq!(cols, 2 + 3 + 2);

    let dir = std::env::temp_dir().join(format!("strata-pipeline-process-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = Pipeline::path_beside(dir.join("model.safetensors"));
    p.save(&file).unwrap();
    let out = dir.join("child-output.txt");
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_transforms_with_the_saved_pipeline",
            "--test-threads=1",
        ])
        .env("STRATA_PIPELINE_FILE", &file)
        .env("STRATA_PIPELINE_OUT", &out)
        .status()
        .unwrap();
    assert!(status.success(), "child process failed: {status}");
    let got = std::fs::read_to_string(&out).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(got, out_bits(&expected));
}

/// Run only by the test above, in its own process.
#[test]
#[ignore = "child process of pipeline_loaded_in_a_fresh_process_transforms_identically"]
fn child_transforms_with_the_saved_pipeline() {
    let file =
        PathBuf::from(std::env::var_os("STRATA_PIPELINE_FILE").expect("STRATA_PIPELINE_FILE"));
    let out = PathBuf::from(std::env::var_os("STRATA_PIPELINE_OUT").expect("STRATA_PIPELINE_OUT"));
    let p = Pipeline::load(&file).unwrap();
    let (x, _) = p.transform(&new_rows()).unwrap();
    std::fs::write(out, out_bits(&x)).unwrap();
}
