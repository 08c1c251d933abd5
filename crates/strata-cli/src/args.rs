//! The command line: `strata <command> <config.toml> [flags]`, parsed with std only.

use std::path::PathBuf;

use strata_core::{Error, Result};

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Train and write the run's files.
    Train,
    /// Evaluate saved weights on the test (or validation) split.
    Evaluate,
    /// Predict a file's rows with saved weights.
    Predict,
    /// Hyperparameter search.
    Tune,
    /// Print the model's layers, shapes and parameter counts.
    Summary,
}

/// Parsed arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct CliArgs {
    /// The command.
    pub command: Command,
    /// The TOML file.
    pub config: PathBuf,
    /// `--set key=value` overrides, applied to the file before it is read.
    pub overrides: Vec<(String, toml::Value)>,
    /// `--weights PATH` (evaluate, predict): default `<output_dir>/model.safetensors`.
    pub weights: Option<PathBuf>,
    /// `--input PATH` (predict).
    pub input: Option<PathBuf>,
    /// `--output PATH` (predict): default stdout.
    pub output: Option<PathBuf>,
    /// `--quiet`: no progress bar or per-trial lines.
    pub quiet: bool,
    /// `--resume` (train): continue from `<output_dir>/checkpoints/last.safetensors`.
    pub resume: bool,
}

/// The usage text.
pub const USAGE: &str = "usage: strata <command> <config.toml> [flags]

commands:
  train     train the model the config describes; writes weights, pipeline, history and curves
            [--resume: continue from the last checkpoint of [callbacks.checkpoint]]
  evaluate  evaluate saved weights on the test split          [--weights PATH]
  predict   predict the rows of a file with saved weights     --input FILE [--output FILE] [--weights PATH]
  tune      hyperparameter search from the [tune] table; prints the trials table
  summary   print the model's layers, output shapes and parameter counts

flags:
  --set KEY=VALUE   override a config value (TOML syntax), e.g. --set optimizer.lr=0.01
  --quiet           no progress bars
  -h, --help        this text";

impl CliArgs {
    /// Parses `args` (without the program name). `Ok(None)` means help was asked for.
    pub fn parse(args: &[String]) -> Result<Option<CliArgs>> {
        let bad = |m: String| Error::invalid("arguments", m);
        let mut it = args.iter();
        let Some(command) = it.next() else {
            return Err(bad(format!("missing command\n{USAGE}")));
        };
        let command = match command.as_str() {
            "train" => Command::Train,
            "evaluate" => Command::Evaluate,
            "predict" => Command::Predict,
            "tune" => Command::Tune,
            "summary" => Command::Summary,
            "-h" | "--help" | "help" => return Ok(None),
            other => {
                return Err(bad(format!(
                    "unknown command `{other}`; expected train, evaluate, predict, tune or summary"
                )));
            }
        };
        let mut parsed = CliArgs {
            command,
            config: PathBuf::new(),
            overrides: Vec::new(),
            weights: None,
            input: None,
            output: None,
            quiet: false,
            resume: false,
        };
        let mut config = None;
        while let Some(arg) = it.next() {
            let mut value = || {
                it.next()
                    .cloned()
                    .ok_or_else(|| bad(format!("{arg} needs a value")))
            };
            match arg.as_str() {
                "--weights" => parsed.weights = Some(value()?.into()),
                "--input" => parsed.input = Some(value()?.into()),
                "--output" => parsed.output = Some(value()?.into()),
                "--set" => parsed.overrides.push(parse_override(&value()?)?),
                "--quiet" => parsed.quiet = true,
                "--resume" => parsed.resume = true,
                "-h" | "--help" => return Ok(None),
                flag if flag.starts_with('-') => {
                    return Err(bad(format!("unknown flag `{flag}` (try --help)")));
                }
                path if config.is_none() => config = Some(PathBuf::from(path)),
                extra => return Err(bad(format!("unexpected argument `{extra}`"))),
            }
        }
        parsed.config = config.ok_or_else(|| bad("missing the config file".to_string()))?;
        if command == Command::Predict && parsed.input.is_none() {
            return Err(bad("predict needs --input FILE".to_string()));
        }
        Ok(Some(parsed))
    }
}

/// `key=value`, the value in TOML syntax; a bare word is a string.
pub fn parse_override(text: &str) -> Result<(String, toml::Value)> {
    let (key, value) = text.split_once('=').ok_or_else(|| {
        Error::invalid(
            "arguments",
            format!("--set expects KEY=VALUE, found `{text}`"),
        )
    })?;
    let key = key.trim().to_string();
    let value = value.trim();
    let parsed = format!("v = {value}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_string()));
    Ok((key, parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn parses_a_command_a_file_and_flags() {
        let a = CliArgs::parse(&args(
            "predict c.toml --input x.csv --set optimizer.lr=0.1 --quiet",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(a.command, Command::Predict);
        assert_eq!(a.config, PathBuf::from("c.toml"));
        assert_eq!(a.input, Some(PathBuf::from("x.csv")));
        assert_eq!(
            a.overrides,
            vec![("optimizer.lr".into(), toml::Value::Float(0.1))]
        );
        assert!(a.quiet);
    }

    #[test]
    fn mistakes_are_errors_that_say_what_is_wrong() {
        let e = |s: &str| CliArgs::parse(&args(s)).unwrap_err().to_string();
        assert!(e("fit c.toml").contains("unknown command `fit`"));
        assert!(e("train").contains("missing the config file"));
        assert!(e("train c.toml --nope").contains("unknown flag `--nope`"));
        assert!(e("predict c.toml").contains("predict needs --input"));
        assert!(CliArgs::parse(&args("--help")).unwrap().is_none());
    }

    #[test]
    fn override_values_use_toml_syntax() {
        assert_eq!(parse_override("a.b=3").unwrap().1, toml::Value::Integer(3));
        assert_eq!(
            parse_override("a=\"x\"").unwrap().1,
            toml::Value::String("x".into())
        );
        assert_eq!(
            parse_override("a=adam").unwrap().1,
            toml::Value::String("adam".into())
        );
        assert!(parse_override("novalue").is_err());
    }
}
