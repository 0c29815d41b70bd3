//! evidex: an evidence library indexer for English councils' adult social care teams.
//!
//! It crawls shared drives, extracts text from the office formats a council keeps, tags every
//! document to the CQC local authority assessment framework (quality statements, themes and
//! evidence categories, with scores and reasons), keeps a tantivy index on local disk, and
//! reports where evidence is missing, thin or stale.

pub mod crawl;
pub mod dates;
pub mod error;
pub mod eval;
pub mod extract;
pub mod framework;
pub mod index;
pub mod model;
pub mod paths;
pub mod progress;
pub mod query;
pub mod report;
pub mod tag;
pub mod textnorm;
pub mod watch;
