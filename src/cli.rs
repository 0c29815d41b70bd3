//! The command line, as clap sees it. Only this file knows about clap; `commands` turns these
//! values into library calls.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "evidex",
    version,
    about = "Evidence library indexer for adult social care: crawl shared drives, tag documents to the CQC framework, search, and report gaps",
    after_help = "Examples:\n  evidex index '\\\\server\\share\\Adult Social Care'\n  evidex search '\"carers assessment\" AND waiting' --statement QS1\n  evidex evidence QS7 --category partners\n  evidex gaps --html gaps.html\n\nThe index lives in --index DIR, else $EVIDEX_INDEX, else your user data folder."
)]
pub struct Cli {
    /// Index folder (default: $EVIDEX_INDEX, else the user data folder).
    #[arg(long, global = true, value_name = "DIR")]
    pub index: Option<PathBuf>,

    /// Framework file to tag with (default: the built-in CQC local authority framework, or the
    /// file last given to `index`).
    #[arg(long, global = true, value_name = "FILE")]
    pub framework: Option<PathBuf>,

    /// When to use colour: auto (on a terminal), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Crawl folders, extract and tag their documents, and update the index. Folders given are
    /// remembered; with none, every remembered folder is re-indexed.
    Index(IndexArgs),
    /// Full-text search with filters on tags.
    Search(SearchArgs),
    /// Documents ranked as evidence for one quality statement.
    Evidence(EvidenceArgs),
    /// The gap report: statements with no, thin or stale evidence, per evidence category.
    Gaps(GapsArgs),
    /// Everything known about one document.
    Show(ShowArgs),
    /// What the index holds: documents by format and status, failures, roots.
    Status(JsonArg),
    /// One JSON line per document (per path), for scripts.
    Export(ExportArgs),
    /// Librarian overrides: add or remove statements, set the evidence category.
    Tag(TagArgs),
    /// Identical files found at several paths.
    Duplicates(JsonArg),
    /// Re-index on change: watch the remembered folders (or those given) and re-index,
    /// debounced; polls network shares.
    Watch(WatchArgs),
    /// Show what evidex reads from files (text, title, dates, pages), without indexing them.
    Extract(ExtractArgs),
    /// Measure tagging on a labelled set: precision, recall and F1 per statement, category
    /// accuracy.
    Eval(EvalArgs),
    /// Re-tag every document with the current framework (no re-extraction).
    Retag,
    /// Internal: serve extraction requests on stdin/stdout.
    #[command(name = "__extract-worker", hide = true)]
    ExtractWorker { limits: Option<String> },
}

#[derive(Args, Debug)]
pub struct JsonArg {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct IndexArgs {
    /// Folders to index (local paths, mapped drives or UNC paths such as \\server\share).
    pub roots: Vec<PathBuf>,
    /// Print the run summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Extraction processes to run at once (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Apply removals even when a large share of a folder's documents has gone.
    #[arg(long)]
    pub allow_removals: bool,
    /// Try again files that failed before, even if they have not changed.
    #[arg(long)]
    pub retry_failed: bool,
    /// Skip files and folders matching a glob (repeatable; also `exclude` in INDEX/config.toml).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Seconds allowed per file before extraction is stopped (plus 10 s per MB).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
    /// Memory limit for each extraction process, in MB.
    #[arg(long, value_name = "MB", default_value_t = 2048)]
    pub max_memory_mb: u64,
    /// Files larger than this are not read (text files are read up to the text limit).
    #[arg(long, value_name = "MB", default_value_t = 512)]
    pub max_file_mb: u64,
    /// Refuse to remove more than this percentage of a folder's documents in one run.
    #[arg(long, value_name = "PERCENT", default_value_t = 20.0)]
    pub removal_limit: f64,
    /// Commit after this many documents (a crash loses at most one batch).
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pub batch: usize,
}

#[derive(Args, Debug)]
pub struct Filters {
    /// Only documents tagged to this statement (QS1..QS9).
    #[arg(long, value_name = "CODE")]
    pub statement: Option<String>,
    /// Only documents in this theme (working-with-people, providing-support, ensuring-safety, leadership).
    #[arg(long, value_name = "THEME")]
    pub theme: Option<String>,
    /// Only this evidence category (people_experience, staff_leaders, partners, processes).
    #[arg(long, value_name = "CATEGORY")]
    pub category: Option<String>,
    /// Only this document type (policy, procedure, strategy, minutes, survey_report, ...).
    #[arg(long = "type", value_name = "TYPE")]
    pub doc_type: Option<String>,
    /// Only this file format (pdf, docx, ...).
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Only documents dated on or after this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only documents dated on or before this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
}

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// Words, "phrases", AND/OR/NOT, field:value (title:, path:, author:), prefix* wildcards.
    pub query: String,
    #[arg(long, short = 'n', default_value_t = 10)]
    pub limit: usize,
    #[arg(long)]
    pub json: bool,
    /// Include files that could not be read (matched by name only).
    #[arg(long)]
    pub failed: bool,
    #[command(flatten)]
    pub filters: Filters,
}

#[derive(Args, Debug)]
pub struct EvidenceArgs {
    /// Statement code (QS1..QS9).
    pub statement: String,
    #[arg(long, value_name = "CATEGORY")]
    pub category: Option<String>,
    #[arg(long, short = 'n', default_value_t = 20)]
    pub limit: usize,
    /// Judge currency as of this date (default: today).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct GapsArgs {
    /// Report as of this date (default: today).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Evidence older than this many months is stale (default: the framework's, 12).
    #[arg(long, value_name = "N")]
    pub window_months: Option<u32>,
    /// Current documents a category needs not to be thin.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub min_per_category: usize,
    #[arg(long, group = "fmt")]
    pub json: bool,
    #[arg(long, group = "fmt")]
    pub csv: bool,
    #[arg(long, group = "fmt")]
    pub markdown: bool,
    /// Write a self-contained HTML report (heat map with evidence lists) to FILE.
    #[arg(long, group = "fmt", value_name = "FILE")]
    pub html: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    pub path: PathBuf,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// JSON Lines (the only export format; the flag is required so scripts say what they expect).
    #[arg(long, required = true)]
    pub json: bool,
    /// Include each document's extracted text.
    #[arg(long)]
    pub with_text: bool,
}

#[derive(Args, Debug)]
pub struct TagArgs {
    /// The document to override (any of its paths).
    #[arg(required_unless_present = "list")]
    pub path: Option<PathBuf>,
    /// Add a statement (repeatable).
    #[arg(long, value_name = "CODE")]
    pub add: Vec<String>,
    /// Remove a statement (repeatable).
    #[arg(long, value_name = "CODE")]
    pub remove: Vec<String>,
    /// Set the primary evidence category.
    #[arg(long, value_name = "CATEGORY")]
    pub category: Option<String>,
    /// Why (shown as the reason).
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// List every override.
    #[arg(long, conflicts_with_all = ["add", "remove", "category", "note"])]
    pub list: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct WatchArgs {
    /// Folders to watch (default: the remembered ones).
    pub roots: Vec<PathBuf>,
    /// Seconds of quiet before re-indexing after a change.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub debounce: u64,
    /// Also re-index every this many seconds (network shares do not send change events).
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub interval: u64,
    /// Only poll; do not use file system notifications.
    #[arg(long)]
    pub poll: bool,
    /// Stop after this many re-index runs (for scripts and tests).
    #[arg(long, value_name = "N", hide = true)]
    pub max_runs: Option<usize>,
    #[arg(long)]
    pub json: bool,
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    #[arg(long)]
    pub allow_removals: bool,
}

#[derive(Args, Debug)]
pub struct ExtractArgs {
    pub files: Vec<PathBuf>,
    #[arg(long)]
    pub json: bool,
    /// Print the whole text, not just a summary.
    #[arg(long)]
    pub text: bool,
    /// Also show the tags the framework gives it.
    #[arg(long)]
    pub tags: bool,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Folder of the labelled set (holding labels.csv and docs/).
    pub dir: PathBuf,
    /// Labels file (default: DIR/labels.csv).
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
    /// Show every document's labels and tags.
    #[arg(long)]
    pub verbose: bool,
}
