//! `bench`: sweep thread counts for both phases, print tables, export and plot them.

use std::io::{self, Write};
use std::time::Duration;

use super::{write_file, CliError, Env};
use crate::bench::BenchOptions;
use crate::cli::BenchArgs;
use crate::progress::{Console, Phase, Progress};
use crate::report::Outcome;
use crate::safety::{self, SideFile};

pub fn bench(args: &BenchArgs, env: &Env) -> Result<Outcome, CliError> {
    let named = [
        ("--export-json", &args.export_json),
        ("--export-csv", &args.export_csv),
        ("--export-markdown", &args.export_markdown),
        ("--plot", &args.plot),
    ];
    let side_files: Vec<SideFile> = named
        .iter()
        .filter_map(|(option, path)| path.as_deref().map(|path| SideFile { option, path }))
        .collect();
    // Checked before the sweep, which takes minutes, rather than after it.
    safety::check_side_files(&side_files).map_err(CliError::Usage)?;
    let plot_png = match &args.plot {
        None => false,
        Some(plot) => match plot.extension().and_then(|e| e.to_str()) {
            Some("svg") => false,
            Some("png") if cfg!(feature = "plot-png") => true,
            Some("png") => {
                return Err(CliError::Usage(format!(
                    "--plot {}: PNG charts need the `plot-png` feature (cargo install --locked --path . --features plot-png); an .svg chart needs nothing",
                    plot.display()
                )))
            }
            _ => {
                return Err(CliError::Usage(format!(
                    "--plot {}: name the chart .svg or .png",
                    plot.display()
                )))
            }
        },
    };
    let spec = crate::thumbnail::ThumbnailSpec {
        sizes: args.sizes.0.clone(),
        ..crate::thumbnail::ThumbnailSpec::default()
    };
    let options = BenchOptions {
        inputs: args.inputs.clone(),
        latency: Duration::from_millis(args.latency),
        copies: usize::from(args.copies),
        download_threads: args.download_threads.0.clone(),
        resize_threads: args.resize_threads.as_ref().map_or_else(
            || crate::bench::default_resize_threads(env.cores),
            |c| c.0.clone(),
        ),
        runs: usize::from(args.runs),
        compare: args.compare,
        cores: env.cores,
        spec,
        net: crate::download::NetOptions::default(),
    };
    let display = if env.stderr_is_terminal && !args.quiet {
        crate::progress::Display::Bars
    } else {
        crate::progress::Display::Off
    };
    let console = Console::new(display, args.quiet, false, None);
    let planned = crate::bench::planned_runs(&options, crate::bench::has_urls(&options));
    console.phase_started(Phase::Bench, planned);
    let result = crate::bench::run(&options, &|| console.item_finished(Phase::Bench, 0));
    console.phase_finished(Phase::Bench);
    let result = result.map_err(anyhow::Error::from)?;
    let mut text = String::new();
    for table in &result.tables {
        text.push_str(&table.to_text());
        text.push('\n');
    }
    if !result.compare.is_empty() {
        text.push_str(&crate::bench::compare_text(&result.compare));
    }
    let _ = write!(io::stdout().lock(), "{text}");
    if let Some(path) = &args.export_json {
        let json = serde_json::to_string_pretty(&result).expect("bench results serialise");
        write_file(path, json.as_bytes())?;
    }
    if let Some(path) = &args.export_csv {
        write_file(path, crate::bench::table::to_csv(&result.tables).as_bytes())?;
    }
    if let Some(path) = &args.export_markdown {
        let md: Vec<String> = result.tables.iter().map(|t| t.to_markdown()).collect();
        write_file(path, md.join("\n").as_bytes())?;
    }
    if let Some(path) = &args.plot {
        let title = format!("thumbnail-maker: speedup by threads ({} cores)", env.cores);
        let svg = crate::bench::plot::speedup_svg(&result.tables, &title);
        if plot_png {
            write_file(path, &png_chart(&svg, path)?)?;
        } else {
            write_file(path, svg.as_bytes())?;
        }
    }
    Ok(Outcome::AllDone)
}

#[cfg(feature = "plot-png")]
fn png_chart(svg: &str, path: &std::path::Path) -> Result<Vec<u8>, CliError> {
    crate::bench::plot::svg_to_png(svg)
        .map_err(|e| CliError::Fatal(anyhow::anyhow!("cannot render {}: {e}", path.display())))
}

/// Never called: without the feature, a .png chart is refused before the sweep.
#[cfg(not(feature = "plot-png"))]
fn png_chart(_: &str, path: &std::path::Path) -> Result<Vec<u8>, CliError> {
    Err(CliError::Usage(format!(
        "--plot {}: PNG charts need the `plot-png` feature",
        path.display()
    )))
}
