//! The command line: clap types and the checks of their values. Nothing here runs anything;
//! `commands` does what they ask, with a validated `Config`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};

use crate::decode::{DEFAULT_MAX_PIXELS, DEFAULT_SHRINK_MARGIN};
use crate::output::{NameTemplate, OutputFormat};
use crate::resize::{Crop, Size};
use crate::shard::Shard;
use crate::{config, download, thumbnail};

/// The most download threads: thousands of slow servers at once, as the original service ran
/// (2,000 threads each waiting 3 s). Their stacks are small (see `download`), so this costs
/// little memory; resize threads have the same bound, far above any core count.
pub const MAX_DOWNLOAD_THREADS: i64 = 4096;

/// The longest any timeout may be set to, a day: larger values overflowed the HTTP client's
/// clock arithmetic (a panic at 2^63 s), and 0 would fail every download.
pub const MAX_TIMEOUT_SECS: u64 = 86_400;

#[derive(Debug, Parser)]
#[command(
    name = "thumbnail-maker",
    version,
    about = "Make thumbnails of images from URLs, files and folders, as fast as the machine allows",
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  thumbnail-maker demo\n  thumbnail-maker photos/ -s 100,400 -o thumbs\n  thumbnail-maker photos/ -s 200x200 --crop -f webp\n  thumbnail-maker -i urls.txt -d 32 --json"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// URLs (http, https), image files, or folders of images
    #[arg(help_heading = "Input", value_name = "INPUT", value_hint = ValueHint::AnyPath)]
    pub inputs: Vec<String>,
    /// Read inputs from FILE, one per line ('-' for stdin; blank lines and # comments skipped)
    #[arg(help_heading = "Input", short = 'i', long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub input_list: Option<PathBuf>,
    #[command(flatten)]
    pub run: RunArgs,
    /// Print shell completions (complete-bash, complete-zsh, complete-fish) or the man page
    /// (man) and exit
    #[arg(
        help_heading = "Reporting",
        long,
        value_name = "KIND",
        exclusive = true
    )]
    pub generate: Option<Generate>,
}

/// `--progress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressArg {
    Auto,
    Bar,
    Plain,
    None,
}

/// What `--generate` prints. A flag, not a subcommand, so no input can be mistaken for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Generate {
    CompleteBash,
    CompleteZsh,
    CompleteFish,
    Man,
}

impl Cli {
    /// Whether the command asked for JSON on stdout, so errors come as JSON too.
    pub fn wants_json(&self) -> bool {
        match &self.command {
            None => self.run.json,
            Some(Command::Demo(demo)) => demo.run.json,
            Some(Command::Report(ReportArgs {
                action: ReportAction::Merge { json, .. },
            })) => *json,
            Some(Command::Report(ReportArgs {
                action: ReportAction::Manifests { .. },
            })) => false,
            Some(Command::Bench(_) | Command::Serve(_)) => false,
        }
    }

    /// The names of the subcommand that was run (`["report", "merge"]`), for its usage line.
    pub fn subcommand_path(&self) -> Vec<&'static str> {
        match &self.command {
            None => vec![],
            Some(Command::Demo(_)) => vec!["demo"],
            Some(Command::Serve(_)) => vec!["serve"],
            Some(Command::Report(ReportArgs {
                action: ReportAction::Merge { .. },
            })) => vec!["report", "merge"],
            Some(Command::Report(ReportArgs {
                action: ReportAction::Manifests { .. },
            })) => vec!["report", "manifests"],
            Some(Command::Bench(_)) => vec!["bench"],
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the bundled sample photos on 127.0.0.1 and run both phases against them
    Demo(DemoArgs),
    /// Serve the bundled samples (or the images of DIR) on 127.0.0.1 until stopped, to compare
    /// download tools against the same latency
    Serve(ServeArgs),
    /// Work with run reports (--report FILE)
    Report(ReportArgs),
    /// Sweep thread counts for both phases and print tables; export and plot them
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// URLs, files or folders [default: the bundled samples, served on 127.0.0.1]
    #[arg(help_heading = "Input", value_name = "INPUT", value_hint = ValueHint::AnyPath)]
    pub inputs: Vec<String>,
    /// Delay per request of the embedded server, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 100)]
    pub latency: u64,
    /// URLs per bundled sample (8 samples x 8 copies = 64 URLs)
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub copies: u16,
    /// Download thread counts to sweep
    #[arg(short = 'd', long, value_name = "LIST", default_value = "1,2,4,8,16,32", value_parser = parse_counts)]
    pub download_threads: Counts,
    /// Resize thread counts to sweep [default: 1 up to the cores, then twice the cores]
    #[arg(short = 't', long, value_name = "LIST", value_parser = parse_counts)]
    pub resize_threads: Option<Counts>,
    /// Timed runs per thread count (after a warm-up)
    #[arg(long, value_name = "R", default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub runs: u16,
    /// Also time sequential against parallel for each phase
    #[arg(long)]
    pub compare: bool,
    /// Thumbnail sizes: 200 (width), x150 (height), 200x150 (fit inside)
    #[arg(short = 's', long, value_name = "LIST", default_value = "32,64,200", value_parser = parse_sizes)]
    pub sizes: Sizes,
    /// Write the results as JSON
    #[arg(long, value_name = "FILE")]
    pub export_json: Option<PathBuf>,
    /// Write the results as CSV
    #[arg(long, value_name = "FILE")]
    pub export_csv: Option<PathBuf>,
    /// Write the tables as Markdown
    #[arg(long, value_name = "FILE")]
    pub export_markdown: Option<PathBuf>,
    /// Draw speedup against threads for both phases, with the ideal, as SVG or PNG
    #[arg(long, value_name = "FILE.svg|png")]
    pub plot: Option<PathBuf>,
    /// No progress bar
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub action: ReportAction,
}

#[derive(Debug, Subcommand)]
pub enum ReportAction {
    /// Combine the reports of a sharded job: totals, busy time, failures, missing shards
    Merge {
        /// Reports written by --report
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
        /// Print the merged report as JSON
        #[arg(long)]
        json: bool,
    },
    /// Combine the manifests (--manifest) of a sharded job into one, sorted by input; a corrupt
    /// line or a file claimed by two inputs is an error naming it
    Manifests {
        /// Manifests written by --manifest
        #[arg(value_name = "FILE", required = true, value_hint = ValueHint::FilePath)]
        files: Vec<PathBuf>,
        /// Where the merged manifest goes (written atomically)
        #[arg(short, long, value_name = "FILE", value_hint = ValueHint::FilePath)]
        output: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Serve the files of DIR under /<name> instead of the samples under /samples/<name>
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Delay every response by MS milliseconds
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency: u64,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Delay every response by MS milliseconds, like a distant server
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency: u64,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Folder for thumbnails, or s3://bucket/prefix/ to put them in a bucket
    #[arg(help_heading = "Output", short = 'o', long, value_name = "DIR", value_hint = ValueHint::DirPath, default_value = config::DEFAULT_OUT_DIR)]
    pub out_dir: PathBuf,
    /// Folder for downloaded originals
    #[arg(help_heading = "Output", long, value_name = "DIR", value_hint = ValueHint::DirPath, default_value = config::DEFAULT_INCOMING_DIR)]
    pub incoming: PathBuf,
    /// Thumbnail sizes, comma-separated: 200 (width), x150 (height), 200x150 (fit inside the
    /// box; with --crop, fill it). The aspect ratio is always kept
    #[arg(help_heading = "Image", short = 's', long, value_name = "LIST", default_value = thumbnail::DEFAULT_SIZES_TEXT, value_parser = parse_sizes)]
    pub sizes: Sizes,
    /// Fill WxH boxes and cut off the overflow: keep the centre (--crop), or where the detail is
    /// (--crop=entropy)
    #[arg(help_heading = "Image", long, value_name = "HOW", value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "centre")]
    pub crop: Option<CropArg>,
    /// File names; fields {stem} {size} {width} {height} {ext}, and folders: "{size}/{stem}.{ext}"
    #[arg(help_heading = "Output", long, value_name = "TEMPLATE", default_value = crate::output::DEFAULT_TEMPLATE)]
    pub name_template: NameTemplate,
    /// Download threads: never more than N requests in flight
    ///
    /// Each worker takes the next URL as it comes free; workers start only as they are needed.
    /// Thousands are fine for slow servers (up to 4096): each worker's stack is 512 KiB.
    #[arg(help_heading = "Speed", short = 'd', long, value_name = "N", default_value_t = config::DEFAULT_DOWNLOAD_THREADS, value_parser = clap::value_parser!(u16).range(1..=MAX_DOWNLOAD_THREADS))]
    pub download_threads: u16,
    /// Resize threads [default: all cores]
    #[arg(help_heading = "Speed", short = 't', visible_short_alias = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=MAX_DOWNLOAD_THREADS))]
    pub resize_threads: Option<u16>,
    /// One download at a time, resizing on one thread: the baseline to compare with
    #[arg(help_heading = "Speed", long)]
    pub sequential: bool,
    /// Colour that transparent pixels become in JPEG output, as RRGGBB hex
    #[arg(help_heading = "Image", long, value_name = "RRGGBB", default_value = thumbnail::DEFAULT_BACKGROUND_TEXT, value_parser = parse_colour)]
    pub background: Colour,
    /// Keep images narrower than a width at their own size instead of enlarging them
    #[arg(help_heading = "Image", long)]
    pub no_enlarge: bool,
    /// Output format: jpeg, png, webp, avif, or same (as the input's content)
    #[arg(help_heading = "Output", short = 'f', long, value_name = "FORMAT", value_enum, default_value_t = FormatArg::Same)]
    pub format: FormatArg,
    /// JPEG and AVIF quality
    #[arg(help_heading = "Output", long, value_name = "1-100", default_value_t = thumbnail::DEFAULT_QUALITY, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: u8,
    /// Write progressive JPEGs (mozjpeg's encoder: smaller files, slower to write)
    #[arg(help_heading = "Output", long)]
    pub progressive: bool,
    /// Resize in linear light: truer for fine detail, slower
    #[arg(help_heading = "Image", long)]
    pub linear: bool,
    /// Keep the ICC profile on thumbnails instead of converting their colours to sRGB
    #[arg(help_heading = "Output", long)]
    pub keep_icc: bool,
    /// Keep EXIF and the ICC profile (orientation is reset: the pixels are already upright)
    #[arg(help_heading = "Output", long)]
    pub keep_metadata: bool,
    /// Decode JPEGs scaled down while they stay this many times wider than the widest thumbnail
    /// (lower is faster, higher is sharper; below 1 thumbnails are upscaled from less detail)
    ///
    /// JPEGs are decoded at the smallest n/8 scale that keeps this margin, so Lanczos3 still has
    /// real pixels to work from. 1 is Pillow draft()'s choice; the README measures each margin's
    /// quality and speed.
    #[arg(help_heading = "Image", long, value_name = "X", default_value_t = DEFAULT_SHRINK_MARGIN, value_parser = parse_margin)]
    pub shrink_margin: f32,
    /// Accept JPEGs cut short (their missing part comes out grey) instead of failing them
    #[arg(help_heading = "Image", long)]
    pub allow_partial: bool,
    /// Decode every scan of progressive JPEGs, even those a 1/8 decode never uses (the
    /// thumbnails are the same bytes; for timing what skipping them saves)
    #[arg(help_heading = "Image", long)]
    pub all_scans: bool,
    /// Refuse images with more pixels than this, checked from the header before decoding
    #[arg(help_heading = "Image", long, value_name = "PIXELS", default_value_t = DEFAULT_MAX_PIXELS, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_pixels: u64,
    /// Refuse downloads larger than this: bytes, or with a unit (500K, 100MiB, 2G; K/M/G are
    /// 1000s, KiB/MiB/GiB 1024s)
    #[arg(help_heading = "Network", long, value_name = "SIZE", default_value_t = download::DEFAULT_MAX_BYTES, value_parser = parse_bytes)]
    pub max_bytes: u64,
    /// Resize each image as soon as its download lands, while the other downloads go on
    ///
    /// Without it, phase two starts when phase one is over, so each phase is timed alone.
    #[arg(help_heading = "Speed", long, conflicts_with = "sequential")]
    pub overlap: bool,
    /// Redo every thumbnail and download, current or not
    ///
    /// Without it a re-run redoes a thumbnail exactly when its recipe changed: its source (a
    /// file's size and time, a URL's ETag or Last-Modified) or an option that changes its
    /// bytes. A download in the incoming folder is revalidated with its server (a 304 reuses
    /// it).
    #[arg(help_heading = "Resume and shards", long)]
    pub force: bool,
    /// Delete each download once its image is done with; with --overlap the incoming folder
    /// then holds at most -d originals, whatever the length of the list
    ///
    /// A re-run needs no copy: a thumbnail made from a URL is revalidated with the validator
    /// it was made from (a 304 costs nothing).
    #[arg(help_heading = "Speed", long)]
    pub discard_downloads: bool,
    /// Tell a local file's change by its bytes (a hash), not its size and modification time
    #[arg(help_heading = "Resume and shards", long)]
    pub checksum: bool,
    /// Trust downloads already in the incoming folder without asking their servers
    #[arg(help_heading = "Resume and shards", long, conflicts_with = "force")]
    pub offline: bool,
    /// Remove the thumbnails this tool wrote that no input of the list produces any more
    ///
    /// Those of inputs no longer listed, and those an option change replaced (another format
    /// or name). Only files recorded in the output folder's (or prefix's) .thumbnail-maker
    /// records are touched; each removal is logged.
    #[arg(help_heading = "Resume and shards", long)]
    pub prune: bool,
    /// Write a manifest of every thumbnail of the run to FILE: JSON Lines, one per thumbnail
    /// (input, file, size, width, height, bytes, format, recipe key, ThumbHash, mean colour)
    #[arg(help_heading = "Reporting", long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub manifest: Option<PathBuf>,
    /// Add a BlurHash (4x3) to each thumbnail's placeholders in the manifest
    #[arg(help_heading = "Reporting", long)]
    pub blurhash: bool,
    /// Further attempts after a transient network failure (timeouts, 408, 429, 5xx)
    #[arg(help_heading = "Network", long, value_name = "N", default_value_t = download::DEFAULT_RETRIES, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub retries: u32,
    /// Do only shard K of N (K from 0): inputs are assigned by a stable hash of their text
    ///
    /// Every shard reads the same list; the assignment does not depend on line order, and the
    /// shards together do every input once, naming files as a single run would. Merge their
    /// reports with `thumbnail-maker report merge`.
    #[arg(help_heading = "Resume and shards", long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// Print the plan (status, shard, input, incoming file, thumbnails, why) and touch nothing; with
    /// --json as one JSON document
    #[arg(help_heading = "Resume and shards", long)]
    pub dry_run: bool,
    /// Also write the JSON report to FILE (atomically), or upload it to s3://bucket/key, for
    /// `report merge`
    ///
    /// Failures come in the order of the input list. The file is written when the run ends,
    /// through a temporary file and a rename, so it is never half written; an S3 object is
    /// put whole, with one signed PUT.
    #[arg(help_heading = "Reporting", long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub report: Option<PathBuf>,
    /// Send this header with every request (repeatable), as curl's -H; Authorization and
    /// Cookie go only to each input's own host, not to hosts it redirects to
    #[arg(help_heading = "Network", short = 'H', long = "header", value_name = "'NAME: VALUE'", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
    /// Trust the certificate authorities in this PEM bundle for HTTPS, instead of the
    /// platform's store (SSL_CERT_FILE does the same)
    ///
    /// Without it HTTPS trusts the platform's store (on Linux the distribution's bundle, where
    /// a company's own CA is added), and the Mozilla roots built in only on a machine that has
    /// no store, such as a scratch container.
    #[arg(help_heading = "Network", long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub cacert: Option<PathBuf>,
    /// The User-Agent header [default: thumbnail-maker/VERSION]
    #[arg(help_heading = "Network", long, value_name = "TEXT", value_parser = parse_user_agent)]
    pub user_agent: Option<String>,
    /// How long to wait for a connection (seconds, or 30s, 2m, 1h)
    #[arg(help_heading = "Network", long, value_name = "TIME", default_value_t = download::DEFAULT_CONNECT_TIMEOUT_SECS, value_parser = parse_secs)]
    pub connect_timeout: u64,
    /// How long a single read may wait for data (seconds, or 30s, 2m, 1h)
    #[arg(help_heading = "Network", long, value_name = "TIME", default_value_t = download::DEFAULT_READ_TIMEOUT_SECS, value_parser = parse_secs)]
    pub read_timeout: u64,
    /// How long one whole request may take, body included (seconds, or 90s, 2m, 1h)
    #[arg(help_heading = "Network", long, value_name = "TIME", default_value_t = download::DEFAULT_TIMEOUT_SECS, value_parser = parse_secs)]
    pub timeout: u64,
    /// Print the run report as JSON on stdout
    ///
    /// The summary goes to stderr. Every exit prints a JSON document, errors included:
    /// {"error": {"kind", "message"}, "status"}.
    #[arg(help_heading = "Reporting", long)]
    pub json: bool,
    /// No progress bars, logs or summary; failures are still reported
    #[arg(help_heading = "Reporting", short, long)]
    pub quiet: bool,
    /// Log each item, naming the thread that handled it; -vv adds the HTTP and TLS libraries'
    /// debug records, -vvv their trace (RUST_LOG, in env_logger's syntax, chooses instead)
    #[arg(help_heading = "Reporting", short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Progress display: auto (bars on a terminal, plain lines off one, none with -q), bar,
    /// plain, none
    ///
    /// plain prints a line per phase every 3 seconds (done/total, rate, ETA) and one when the
    /// phase ends, for logs under Kubernetes, Slurm, cron or CI, where bars cannot draw.
    #[arg(
        help_heading = "Reporting",
        long,
        value_name = "HOW",
        default_value = "auto"
    )]
    pub progress: ProgressArg,
    /// Also write log lines to FILE, appended: re-running after a crash keeps the crashed
    /// run's log
    #[arg(help_heading = "Reporting", long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub log_file: Option<PathBuf>,
}

/// Distinct sizes, in the order given.
#[derive(Debug, Clone)]
pub struct Sizes(pub Vec<Size>);

/// Distinct thread counts, in the order given.
#[derive(Debug, Clone)]
pub struct Counts(pub Vec<usize>);

/// A comma-separated list of distinct whole numbers from 1 to `max`.
fn parse_list(text: &str, max: u32, what: &str, example: &str) -> Result<Vec<u32>, String> {
    let mut list = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        let n: u32 = part
            .parse()
            .map_err(|_| format!("'{part}' is not a {what} (example: {example})"))?;
        if n == 0 || n > max {
            return Err(format!("{what} {n} is out of range (1 to {max})"));
        }
        if !list.contains(&n) {
            list.push(n);
        }
    }
    Ok(list)
}

fn parse_sizes(text: &str) -> Result<Sizes, String> {
    let mut sizes = Vec::new();
    for part in text.split(',') {
        let size: Size = part.parse()?;
        if !sizes.contains(&size) {
            sizes.push(size);
        }
    }
    Ok(Sizes(sizes))
}

fn parse_counts(text: &str) -> Result<Counts, String> {
    let list = parse_list(text, MAX_DOWNLOAD_THREADS as u32, "thread count", "1,2,4,8")?;
    Ok(Counts(list.into_iter().map(|n| n as usize).collect()))
}

/// An RGB colour.
#[derive(Debug, Clone, Copy)]
pub struct Colour(pub [u8; 3]);

fn parse_colour(text: &str) -> Result<Colour, String> {
    let hex = text.trim_start_matches('#');
    let err = || format!("'{text}' is not a colour as RRGGBB hex (example: ffffff)");
    if hex.len() != 6 || !hex.is_ascii() {
        return Err(err());
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| err());
    Ok(Colour([byte(0)?, byte(2)?, byte(4)?]))
}

/// `Name: value`, as curl takes it; both parts checked as HTTP allows them, so a bad header
/// is a usage error before any request.
fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("'{text}' is not a header: write it as 'Name: value'"))?;
    let (name, value) = (name.trim(), value.trim());
    ureq::http::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("'{name}' is not a valid header name"))?;
    ureq::http::HeaderValue::from_str(value)
        .map_err(|_| format!("the value of header '{name}' has characters HTTP does not allow"))?;
    Ok((name.to_string(), value.to_string()))
}

fn parse_user_agent(text: &str) -> Result<String, String> {
    parse_header(&format!("User-Agent: {text}")).map(|(_, value)| value)
}

/// A duration in whole seconds: a plain number is seconds, as before; `s`, `m`, `h` and `d`
/// name the unit. Bounded to 1 s .. 1 day, as the HTTP client needs.
fn parse_secs(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit.trim() {
        "" | "s" | "sec" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => {
            return Err(format!(
                "'{text}': unknown unit '{other}' (use a number of seconds, or s, m, h, d: 30s, 2m)"
            ))
        }
    };
    let secs = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("'{text}' is not a duration (examples: 30, 30s, 2m, 1h)"))?;
    if !(1..=MAX_TIMEOUT_SECS).contains(&secs) {
        return Err(format!("{secs} s is outside 1 s to 1 day (1d)"));
    }
    Ok(secs)
}

/// A size in bytes: a plain number, or with a unit (`K`/`KB` 1000, `KiB` 1024, and so on up to
/// `T`/`TiB`), as curl's and du's users write them.
fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "m" | "mb" => 1000u64.pow(2),
        "g" | "gb" => 1000u64.pow(3),
        "t" | "tb" => 1000u64.pow(4),
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        other => {
            return Err(format!(
                "'{text}': unknown unit '{other}' (use bytes, or K, M, G, KiB, MiB, GiB: 100MiB)"
            ))
        }
    };
    let number: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a size (examples: 500000, 500K, 100MiB)"))?;
    let bytes = number * scale as f64;
    if !(1.0..=u64::MAX as f64 / 2.0).contains(&bytes) || bytes.fract() != 0.0 {
        return Err(format!(
            "'{text}' is not a whole number of bytes of at least 1"
        ));
    }
    Ok(bytes as u64)
}

fn parse_margin(text: &str) -> Result<f32, String> {
    match text.parse::<f32>() {
        Ok(x) if (0.5..=16.0).contains(&x) => Ok(x),
        _ => Err(format!("'{text}' is not a margin from 0.5 to 16")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CropArg {
    #[value(alias = "center")]
    Centre,
    Entropy,
}

impl CropArg {
    pub(crate) fn crop(self) -> Crop {
        match self {
            CropArg::Centre => Crop::Centre,
            CropArg::Entropy => Crop::Entropy,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Same,
    #[value(alias = "jpg")]
    Jpeg,
    Png,
    Webp,
    Avif,
}

impl FormatArg {
    pub(crate) fn output(self) -> Option<OutputFormat> {
        match self {
            FormatArg::Same => None,
            FormatArg::Jpeg => Some(OutputFormat::Jpeg),
            FormatArg::Png => Some(OutputFormat::Png),
            FormatArg::Webp => Some(OutputFormat::WebP),
            FormatArg::Avif => Some(OutputFormat::Avif),
        }
    }
}

#[cfg(test)]
mod unit_tests {
    use super::{parse_bytes, parse_secs};

    #[test]
    fn durations_and_sizes_take_units_and_plain_numbers() {
        assert_eq!(parse_secs("30"), Ok(30));
        assert_eq!(parse_secs("2m"), Ok(120));
        assert_eq!(parse_secs("1h"), Ok(3600));
        assert_eq!(parse_secs("1d"), Ok(86_400));
        assert!(parse_secs("0").is_err());
        assert!(parse_secs("2d").unwrap_err().contains("1 day"));
        assert!(parse_secs("500ms")
            .unwrap_err()
            .contains("unknown unit 'ms'"));
        assert!(parse_secs("18446744073709551615m").is_err());
        assert_eq!(parse_bytes("100"), Ok(100));
        assert_eq!(parse_bytes("500K"), Ok(500_000));
        assert_eq!(parse_bytes("100MiB"), Ok(100 << 20));
        assert_eq!(parse_bytes("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_bytes("2gb"), Ok(2_000_000_000));
        assert!(parse_bytes("0").is_err());
        assert!(parse_bytes("1.5").is_err());
        assert!(parse_bytes("10 parsecs")
            .unwrap_err()
            .contains("unknown unit"));
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_sizes, Cli};
    use clap::{CommandFactory, Parser};

    #[test]
    fn argument_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn timeouts_are_bounded_at_parse_time() {
        let parse =
            |args: &[&str]| Cli::try_parse_from([&["thumbnail-maker", "x.jpg"], args].concat());
        for bad in [
            ["--timeout", "0"],
            ["--read-timeout", "0"],
            ["--connect-timeout", "0"],
            ["--timeout", "9223372036854775808"],
            ["--read-timeout", "86401"],
        ] {
            assert!(parse(&bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse(&["--timeout", "86400"]).unwrap().run.timeout, 86_400);
    }

    #[test]
    fn colours_are_six_hex_digits() {
        assert_eq!(super::parse_colour("#ff8000").unwrap().0, [255, 128, 0]);
        assert!(super::parse_colour("fff").is_err());
        assert!(super::parse_colour("gggggg").is_err());
    }

    #[test]
    fn sizes_parse_dedupe_and_reject_nonsense() {
        let sizes =
            |t: &str| parse_sizes(t).map(|s| s.0.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(sizes("32, 64,200,64").unwrap(), ["32", "64", "200"]);
        assert_eq!(
            sizes("200,x150,200x150").unwrap(),
            ["200", "x150", "200x150"]
        );
        assert!(parse_sizes("0").unwrap_err().contains("out of range"));
        assert!(parse_sizes("abc")
            .unwrap_err()
            .contains("'abc' is not a size"));
        assert!(parse_sizes("32,,64").is_err());
        assert!(parse_sizes("99999").is_err());
    }
}
