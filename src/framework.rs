//! The assessment framework as data: themes, quality statements, evidence categories, document
//! types and the cues that tag them, loaded from TOML (`schema/cqc-la.toml` is built in).
//!
//! A council's own edit, a revised CQC framework or the provider framework's 34 statements load
//! with `--framework FILE`. Mistakes are reported with the file, line and field, because the
//! person editing the file is a librarian, not a developer.

use crate::model::TextModel;
use crate::textnorm::normalize_phrase;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use toml::Spanned;

/// The framework evidex ships with.
pub const BUILTIN_SOURCE: &str = include_str!("../schema/cqc-la.toml");
pub const BUILTIN_NAME: &str = "schema/cqc-la.toml (built in)";
/// The text model the built-in framework names; a copy of the framework that names it finds
/// it here when the file is not beside the copy.
pub const BUILTIN_MODEL_NAME: &str = "cqc-la.model.json";
pub const BUILTIN_MODEL: &str = include_str!("../schema/cqc-la.model.json");

/// A phrase with a weight, in normal form (see [`crate::textnorm`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Cue {
    pub phrase: String,
    /// The last word matches any word it begins (`safeguard*`).
    pub prefix: bool,
    pub weight: f32,
}

#[derive(Clone, Debug)]
pub struct Theme {
    pub id: String,
    pub number: u32,
    pub title: String,
    pub scope: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Statement {
    pub code: String,
    /// Index into [`Framework::themes`].
    pub theme: usize,
    pub title: String,
    pub we: Vec<String>,
    pub i: Vec<String>,
    pub topics: Vec<String>,
    pub care_act: Vec<String>,
    pub cues: Vec<Cue>,
    pub title_cues: Vec<Cue>,
    /// Its cues fit any council service as well (partnerships, governance, improvement), so
    /// they count fully only in a document that is about adult social care.
    pub needs_context: bool,
}

#[derive(Clone, Debug)]
pub struct Category {
    pub code: String,
    pub title: String,
    pub enabled: bool,
    /// The voice assumed when nothing says otherwise.
    pub default: bool,
    pub description: String,
    pub cues: Vec<Cue>,
    pub title_cues: Vec<Cue>,
}

#[derive(Clone, Debug)]
pub struct DocType {
    pub code: String,
    pub title: String,
    /// Index into [`Framework::categories`]: the voice documents of this type usually carry,
    /// if the type says anything about it.
    pub category: Option<usize>,
    /// Stays current while within its stated review date (policies, strategies).
    pub reviewable: bool,
    pub cues: Vec<Cue>,
    pub title_cues: Vec<Cue>,
    /// File formats that suggest this type (a slide deck is a presentation).
    pub formats: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Scoring {
    pub threshold: f32,
    pub relative_floor: f32,
    /// Every statement after a document's leading one must reach this as well...
    pub further_threshold: f32,
    /// ...unless it is discussed in at least this many passages (a report's section on it).
    pub further_passages: u32,
    pub passage_words: usize,
    pub passage_threshold: f32,
    pub category_secondary: f32,
    /// How the parts of a statement's score are weighed (`[scoring.weights]`).
    pub weights: BTreeMap<String, f32>,
}

/// The revision of the tagger's arithmetic. It counts in every framework's fingerprint, so a
/// new evidex that scores differently re-tags an existing index (from its stored text) instead
/// of leaving tags of the old reckoning beside new ones. Raise it with any change to how
/// src/tag.rs scores or to the defaults below.
pub const SCORING_REVISION: u32 = 8;

/// The weights the tagger uses, with their defaults; `[scoring.weights]` may override any.
pub const DEFAULT_WEIGHTS: &[(&str, f32)] = &[
    // Statement score = weighted parts, each 0..1.
    ("density", 0.30),
    ("section", 0.20),
    ("coverage", 0.25),
    ("title", 0.15),
    ("heading", 0.15),
    ("folder", 0.05),
    // Scales at which each part reaches about 63%.
    ("density_scale", 2.0),
    ("section_scale", 9.0),
    ("title_scale", 1.5),
    ("heading_scale", 3.0),
    ("folder_scale", 3.0),
    // Density and coverage are judged over a statement's best this-many passages (about 160
    // words each): a section of that length is discussion, not a passing mention.
    ("focus_passages", 4.0),
    // A statement's share of the leading statement's evidence scales its score from this up.
    ("share_floor", 0.4),
    // A `needs_context` statement's score is multiplied by this in a document with no adult
    // social care context at all (a whole-council partnership policy is not QS5 evidence).
    ("context_factor", 0.2),
    // ...rising to 1 as the adult social care context reaches this ("adult social care" once
    // is 3, "social care" 1.5).
    ("context_needed", 1.5),
    // Where this many statements are named within one stretch of about 150 words, the text is
    // a list of the framework (a press summary of a rating, a contents page): the names there
    // do not count as discussion of each statement.
    ("name_list_min", 4.0),
    // Evidence categories.
    ("voice_passages", 3.0),
    ("voice_density", 1.0),
    ("voice_title", 1.6),
    ("default_prior", 1.5),
    ("type_prior", 2.0),
];

impl Scoring {
    pub fn weight(&self, name: &str) -> f32 {
        self.weights.get(name).copied().unwrap_or_else(|| {
            DEFAULT_WEIGHTS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| *v)
                .unwrap_or(0.0)
        })
    }
}

impl Default for Scoring {
    fn default() -> Scoring {
        Scoring {
            threshold: 0.42,
            relative_floor: 0.50,
            further_threshold: 0.58,
            further_passages: 3,
            passage_words: 160,
            passage_threshold: 2.0,
            category_secondary: 0.55,
            weights: BTreeMap::new(),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct DateLabels {
    pub issued: Vec<String>,
    pub review: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Framework {
    pub id: String,
    pub title: String,
    pub version: String,
    pub statement_label: String,
    pub window_months: u32,
    pub scoring: Scoring,
    pub themes: Vec<Theme>,
    pub statements: Vec<Statement>,
    pub categories: Vec<Category>,
    pub doc_types: Vec<DocType>,
    pub neutral: Vec<String>,
    pub out_of_scope: Vec<Cue>,
    pub adult_context: Vec<Cue>,
    pub dates: DateLabels,
    /// The text model blended with the cues (`[model]`), if the framework names one.
    pub model: Option<ModelUse>,
    /// Where it was loaded from, for messages.
    pub origin: String,
    /// A hash of the file's content (and its model's): tags record it, and a change re-tags
    /// the library.
    pub fingerprint: String,
}

/// How much a `[model]` counts when its table leaves `weight` out: the value measured best
/// leave-one-set-out on the labelled sets (25, confirmed on 42), so a council's copy of the
/// framework that drops the line tags as the built-in one does, not with an older blend.
pub const DEFAULT_MODEL_WEIGHT: f32 = 1.0;
/// The same for `category_weight`.
pub const DEFAULT_MODEL_CATEGORY_WEIGHT: f32 = 0.65;

/// A text model and how much it counts.
#[derive(Clone, Debug)]
pub struct ModelUse {
    pub model: Arc<TextModel>,
    /// The file it came from, for reasons and messages.
    pub file: String,
    /// A statement's score is the larger of its cue score and `(1 - weight) * cue score +
    /// weight * model probability`.
    pub weight: f32,
    /// The category is chosen on `(1 - category_weight) * cue share + category_weight * model
    /// probability`.
    pub category_weight: f32,
}

/// A mistake in a framework file, located for the person who made it.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameworkError {
    pub file: String,
    pub line: Option<usize>,
    pub field: String,
    pub message: String,
}

impl fmt::Display for FrameworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: ", self.file, line)?,
            None => write!(f, "{}: ", self.file)?,
        }
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for FrameworkError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    framework: RawMeta,
    #[serde(default)]
    scoring: Option<RawScoring>,
    themes: Vec<RawTheme>,
    statements: Vec<RawStatement>,
    #[serde(default)]
    neutral: Option<RawNeutral>,
    #[serde(default)]
    out_of_scope: Option<RawCueTable>,
    #[serde(default)]
    adult_context: Option<RawCueTable>,
    categories: Vec<RawCategory>,
    #[serde(default)]
    doc_types: Vec<RawDocType>,
    #[serde(default)]
    dates: Option<RawDates>,
    #[serde(default)]
    model: Option<RawModelUse>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModelUse {
    file: Spanned<String>,
    weight: Option<Spanned<f32>>,
    category_weight: Option<Spanned<f32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    id: String,
    title: String,
    version: String,
    #[serde(default)]
    statement_label: Option<String>,
    #[serde(default)]
    window_months: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScoring {
    threshold: Option<Spanned<f32>>,
    relative_floor: Option<Spanned<f32>>,
    further_threshold: Option<Spanned<f32>>,
    further_passages: Option<u32>,
    passage_words: Option<usize>,
    passage_threshold: Option<Spanned<f32>>,
    category_secondary: Option<Spanned<f32>>,
    #[serde(default)]
    weights: BTreeMap<Spanned<String>, Spanned<f32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTheme {
    id: Spanned<String>,
    number: u32,
    title: String,
    #[serde(default)]
    scope: Vec<String>,
}

type RawCues = BTreeMap<Spanned<String>, Spanned<f32>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatement {
    code: Spanned<String>,
    theme: Spanned<String>,
    title: String,
    #[serde(default)]
    we: Vec<String>,
    #[serde(default)]
    i: Vec<String>,
    #[serde(default)]
    topics: Vec<String>,
    #[serde(default)]
    care_act: Vec<String>,
    #[serde(default)]
    cues: RawCues,
    #[serde(default)]
    title_cues: RawCues,
    #[serde(default)]
    needs_context: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNeutral {
    cues: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCueTable {
    cues: RawCues,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    code: Spanned<String>,
    title: String,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    default: bool,
    #[serde(default)]
    description: String,
    #[serde(default)]
    cues: RawCues,
    #[serde(default)]
    title_cues: RawCues,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocType {
    code: Spanned<String>,
    title: String,
    #[serde(default)]
    category: Option<Spanned<String>>,
    #[serde(default)]
    reviewable: bool,
    #[serde(default)]
    cues: RawCues,
    #[serde(default)]
    title_cues: RawCues,
    #[serde(default)]
    formats: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDates {
    #[serde(default)]
    issued: Vec<String>,
    #[serde(default)]
    review: Vec<String>,
}

struct Ctx<'a> {
    file: &'a str,
    src: &'a str,
}

impl Ctx<'_> {
    fn line(&self, span: std::ops::Range<usize>) -> usize {
        self.src[..span.start.min(self.src.len())]
            .matches('\n')
            .count()
            + 1
    }

    fn err<T>(
        &self,
        span: std::ops::Range<usize>,
        field: String,
        message: String,
    ) -> Result<T, FrameworkError> {
        Err(FrameworkError {
            file: self.file.to_string(),
            line: Some(self.line(span)),
            field,
            message,
        })
    }

    /// Reads the `[model]` file (beside the framework, else the built-in copy of the same name).
    fn model(
        &self,
        raw: &RawModelUse,
        dir: Option<&Path>,
        fingerprint: &mut blake3::Hasher,
    ) -> Result<ModelUse, FrameworkError> {
        let name = raw.file.get_ref();
        let path = dir.unwrap_or(Path::new("")).join(name);
        let (src, shown) = match std::fs::read_to_string(&path) {
            Ok(s) => (s, path.display().to_string()),
            Err(_) if name == BUILTIN_MODEL_NAME => {
                (BUILTIN_MODEL.to_string(), format!("{name} (built in)"))
            }
            Err(e) => {
                return self.err(
                    raw.file.span(),
                    "model.file".into(),
                    format!("cannot read the model {}: {e}", path.display()),
                );
            }
        };
        let model = TextModel::parse(&src).map_err(|m| FrameworkError {
            file: shown.clone(),
            line: None,
            field: String::new(),
            message: format!("{m} (retrain it with schema/model/train.py)"),
        })?;
        fingerprint.update(src.as_bytes());
        Ok(ModelUse {
            model: Arc::new(model),
            file: shown,
            weight: self.within(&raw.weight, "model.weight", DEFAULT_MODEL_WEIGHT, 1.0)?,
            category_weight: self.within(
                &raw.category_weight,
                "model.category_weight",
                DEFAULT_MODEL_CATEGORY_WEIGHT,
                1.0,
            )?,
        })
    }

    /// A number that must lie in 0..=`max`, or `default` when left out. A value outside would
    /// tag everything or nothing without a word, so it is an error naming its line.
    fn within(
        &self,
        v: &Option<Spanned<f32>>,
        field: &str,
        default: f32,
        max: f32,
    ) -> Result<f32, FrameworkError> {
        match v {
            None => Ok(default),
            Some(v) if (0.0..=max).contains(v.get_ref()) => Ok(*v.get_ref()),
            Some(v) => self.err(
                v.span(),
                field.to_string(),
                format!("{} is out of range (use 0 to {max})", v.get_ref()),
            ),
        }
    }

    fn cues(&self, raw: &RawCues, field: &str) -> Result<Vec<Cue>, FrameworkError> {
        let mut out: Vec<Cue> = Vec::new();
        for (phrase, weight) in raw {
            let w = *weight.get_ref();
            if !w.is_finite() || !(0.0..=10.0).contains(&w) {
                return self.err(
                    weight.span(),
                    format!("{field}.\"{}\"", phrase.get_ref()),
                    format!("weight {w} is out of range (use 0 to 10)"),
                );
            }
            let text = phrase.get_ref().trim();
            let prefix = text.ends_with('*');
            let norm = normalize_phrase(text.trim_end_matches('*'));
            if norm.is_empty() {
                return self.err(
                    phrase.span(),
                    format!("{field}.\"{}\"", phrase.get_ref()),
                    "a cue needs at least one word".into(),
                );
            }
            // Phrases that normalise alike ("carers' assessment", "carers assessment") merge.
            if let Some(existing) = out
                .iter_mut()
                .find(|c| c.phrase == norm && c.prefix == prefix)
            {
                existing.weight = existing.weight.max(w);
            } else {
                out.push(Cue {
                    phrase: norm,
                    prefix,
                    weight: w,
                });
            }
        }
        Ok(out)
    }
}

impl Framework {
    /// The framework evidex ships with.
    pub fn builtin() -> Framework {
        static BUILTIN: std::sync::OnceLock<Framework> = std::sync::OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                Framework::parse(BUILTIN_SOURCE, BUILTIN_NAME)
                    .expect("the built-in framework is valid")
            })
            .clone()
    }

    pub fn load(path: &Path) -> Result<Framework, FrameworkError> {
        let src = std::fs::read_to_string(path).map_err(|e| FrameworkError {
            file: path.display().to_string(),
            line: None,
            field: String::new(),
            message: format!("cannot read the framework file: {e}"),
        })?;
        Framework::parse_in(&src, &path.display().to_string(), path.parent())
    }

    /// Parses a framework; a `[model]` file is looked for in the current folder.
    pub fn parse(src: &str, file: &str) -> Result<Framework, FrameworkError> {
        Framework::parse_in(src, file, None)
    }

    /// Parses a framework whose `[model]` file is named relative to `dir`.
    pub fn parse_in(
        src: &str,
        file: &str,
        dir: Option<&Path>,
    ) -> Result<Framework, FrameworkError> {
        let ctx = Ctx { file, src };
        let raw: RawFile = toml::from_str(src).map_err(|e| {
            let line = e.span().map(|s| ctx.line(s));
            FrameworkError {
                file: file.to_string(),
                line,
                field: String::new(),
                message: e.message().trim().to_string(),
            }
        })?;

        let mut themes = Vec::new();
        let mut seen = HashSet::new();
        for (i, t) in raw.themes.iter().enumerate() {
            if !seen.insert(t.id.get_ref().clone()) {
                return ctx.err(
                    t.id.span(),
                    format!("themes[{i}].id"),
                    format!("duplicate theme id '{}'", t.id.get_ref()),
                );
            }
            themes.push(Theme {
                id: t.id.get_ref().clone(),
                number: t.number,
                title: t.title.clone(),
                scope: t.scope.clone(),
            });
        }
        if themes.is_empty() {
            return Err(FrameworkError {
                file: file.into(),
                line: None,
                field: "themes".into(),
                message: "at least one theme is needed".into(),
            });
        }

        let mut statements = Vec::new();
        let mut codes = HashSet::new();
        for (i, s) in raw.statements.iter().enumerate() {
            let code = s.code.get_ref().trim().to_string();
            if code.is_empty() || code.contains(char::is_whitespace) {
                return ctx.err(
                    s.code.span(),
                    format!("statements[{i}].code"),
                    "a code is one word, such as QS1".into(),
                );
            }
            if !codes.insert(code.to_ascii_uppercase()) {
                return ctx.err(
                    s.code.span(),
                    format!("statements[{i}].code"),
                    format!("duplicate statement code '{code}'"),
                );
            }
            let Some(theme) = themes.iter().position(|t| &t.id == s.theme.get_ref()) else {
                let known: Vec<&str> = themes.iter().map(|t| t.id.as_str()).collect();
                return ctx.err(
                    s.theme.span(),
                    format!("statements[{i}].theme"),
                    format!(
                        "unknown theme '{}' (known: {})",
                        s.theme.get_ref(),
                        known.join(", ")
                    ),
                );
            };
            statements.push(Statement {
                code,
                theme,
                title: s.title.clone(),
                we: s.we.clone(),
                i: s.i.clone(),
                topics: s.topics.clone(),
                care_act: s.care_act.clone(),
                cues: ctx.cues(&s.cues, &format!("statements[{i}].cues"))?,
                title_cues: ctx.cues(&s.title_cues, &format!("statements[{i}].title_cues"))?,
                needs_context: s.needs_context,
            });
        }
        if statements.is_empty() {
            return Err(FrameworkError {
                file: file.into(),
                line: None,
                field: "statements".into(),
                message: "at least one statement is needed".into(),
            });
        }

        let mut categories = Vec::new();
        for (i, c) in raw.categories.iter().enumerate() {
            if categories
                .iter()
                .any(|x: &Category| &x.code == c.code.get_ref())
            {
                return ctx.err(
                    c.code.span(),
                    format!("categories[{i}].code"),
                    format!("duplicate category '{}'", c.code.get_ref()),
                );
            }
            categories.push(Category {
                code: c.code.get_ref().clone(),
                title: c.title.clone(),
                enabled: c.enabled,
                default: c.default,
                description: c.description.clone(),
                cues: ctx.cues(&c.cues, &format!("categories[{i}].cues"))?,
                title_cues: ctx.cues(&c.title_cues, &format!("categories[{i}].title_cues"))?,
            });
        }
        if !categories.iter().any(|c| c.enabled) {
            return Err(FrameworkError {
                file: file.into(),
                line: None,
                field: "categories".into(),
                message: "at least one enabled category is needed".into(),
            });
        }
        if !categories.iter().any(|c| c.default && c.enabled)
            && let Some(first) = categories.iter_mut().find(|c| c.enabled)
        {
            first.default = true;
        }

        let mut doc_types = Vec::new();
        for (i, d) in raw.doc_types.iter().enumerate() {
            // A type that says nothing about whose voice it carries (a press article quotes
            // anyone) names no category.
            let category = match &d.category {
                None => None,
                Some(code) => match categories.iter().position(|c| &c.code == code.get_ref()) {
                    Some(c) => Some(c),
                    None => {
                        let known: Vec<&str> = categories.iter().map(|c| c.code.as_str()).collect();
                        return ctx.err(
                            code.span(),
                            format!("doc_types[{i}].category"),
                            format!(
                                "unknown category '{}' (known: {})",
                                code.get_ref(),
                                known.join(", ")
                            ),
                        );
                    }
                },
            };
            doc_types.push(DocType {
                code: d.code.get_ref().clone(),
                title: d.title.clone(),
                category,
                reviewable: d.reviewable,
                cues: ctx.cues(&d.cues, &format!("doc_types[{i}].cues"))?,
                title_cues: ctx.cues(&d.title_cues, &format!("doc_types[{i}].title_cues"))?,
                formats: d.formats.clone(),
            });
        }
        if !doc_types.iter().any(|d| d.code == "other") {
            doc_types.push(DocType {
                code: "other".into(),
                title: "Other".into(),
                category: None,
                reviewable: false,
                cues: vec![],
                title_cues: vec![],
                formats: vec![],
            });
        }

        let s = raw.scoring.unwrap_or(RawScoring {
            threshold: None,
            relative_floor: None,
            further_threshold: None,
            further_passages: None,
            passage_words: None,
            passage_threshold: None,
            category_secondary: None,
            weights: BTreeMap::new(),
        });
        let mut weights = BTreeMap::new();
        for (k, v) in &s.weights {
            if !DEFAULT_WEIGHTS.iter().any(|(n, _)| n == k.get_ref()) {
                let known: Vec<&str> = DEFAULT_WEIGHTS.iter().map(|(n, _)| *n).collect();
                return ctx.err(
                    k.span(),
                    format!("scoring.weights.{}", k.get_ref()),
                    format!("unknown weight (known: {})", known.join(", ")),
                );
            }
            weights.insert(k.get_ref().clone(), *v.get_ref());
        }
        let d = Scoring::default();
        // Scores and shares are 0..1 (a passage's cue score has no upper bound of 1).
        let scoring = Scoring {
            threshold: ctx.within(&s.threshold, "scoring.threshold", d.threshold, 1.0)?,
            relative_floor: ctx.within(
                &s.relative_floor,
                "scoring.relative_floor",
                d.relative_floor,
                1.0,
            )?,
            further_threshold: ctx.within(
                &s.further_threshold,
                "scoring.further_threshold",
                d.further_threshold,
                1.0,
            )?,
            further_passages: s.further_passages.unwrap_or(d.further_passages),
            passage_words: s.passage_words.unwrap_or(d.passage_words).clamp(20, 2000),
            passage_threshold: ctx.within(
                &s.passage_threshold,
                "scoring.passage_threshold",
                d.passage_threshold,
                100.0,
            )?,
            category_secondary: ctx.within(
                &s.category_secondary,
                "scoring.category_secondary",
                d.category_secondary,
                1.0,
            )?,
            weights,
        };

        let empty = RawCueTable {
            cues: BTreeMap::new(),
        };
        let dates = raw.dates.map(|d| DateLabels {
            issued: d.issued.iter().map(|l| normalize_phrase(l)).collect(),
            review: d.review.iter().map(|l| normalize_phrase(l)).collect(),
        });
        let mut fingerprint = blake3::Hasher::new();
        fingerprint.update(&SCORING_REVISION.to_le_bytes());
        fingerprint.update(src.as_bytes());
        let model = match &raw.model {
            None => None,
            Some(m) => Some(ctx.model(m, dir, &mut fingerprint)?),
        };
        Ok(Framework {
            id: raw.framework.id,
            title: raw.framework.title,
            version: raw.framework.version,
            statement_label: raw
                .framework
                .statement_label
                .unwrap_or_else(|| "quality statement".into()),
            window_months: raw.framework.window_months.unwrap_or(12),
            scoring,
            themes,
            statements,
            categories,
            doc_types,
            neutral: raw
                .neutral
                .map(|n| {
                    n.cues
                        .iter()
                        .map(|c| normalize_phrase(c))
                        .filter(|c| !c.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            out_of_scope: ctx.cues(
                &raw.out_of_scope.as_ref().unwrap_or(&empty).cues,
                "out_of_scope.cues",
            )?,
            adult_context: ctx.cues(
                &raw.adult_context.as_ref().unwrap_or(&empty).cues,
                "adult_context.cues",
            )?,
            dates: dates.unwrap_or_default(),
            model,
            origin: file.to_string(),
            fingerprint: fingerprint.finalize().to_hex()[..16].to_string(),
        })
    }

    pub fn statement(&self, code: &str) -> Option<&Statement> {
        self.statements
            .iter()
            .find(|s| s.code.eq_ignore_ascii_case(code))
    }

    pub fn statement_index(&self, code: &str) -> Option<usize> {
        self.statements
            .iter()
            .position(|s| s.code.eq_ignore_ascii_case(code))
    }

    pub fn theme_of(&self, statement: &Statement) -> &Theme {
        &self.themes[statement.theme]
    }

    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }

    /// Categories in use (for councils: the four; outcomes and observation are off).
    pub fn enabled_categories(&self) -> impl Iterator<Item = &Category> {
        self.categories.iter().filter(|c| c.enabled)
    }

    pub fn doc_type(&self, code: &str) -> Option<&DocType> {
        self.doc_types.iter().find(|d| d.code == code)
    }

    /// Identifies the tags this framework produces: id, version and content.
    pub fn tag_version(&self) -> String {
        format!("{}@{}#{}", self.id, self.version, self.fingerprint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_has_nine_statements_in_order_and_four_enabled_categories() {
        let f = Framework::builtin();
        let codes: Vec<&str> = f.statements.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "QS1", "QS2", "QS3", "QS4", "QS5", "QS6", "QS7", "QS8", "QS9"
            ]
        );
        assert_eq!(f.statements[0].title, "Assessing needs");
        assert_eq!(
            f.statements[8].title,
            "Learning, improvement and innovation"
        );
        assert_eq!(f.themes.len(), 4);
        assert_eq!(f.theme_of(&f.statements[6]).id, "ensuring-safety");
        let cats: Vec<&str> = f.enabled_categories().map(|c| c.code.as_str()).collect();
        assert_eq!(
            cats,
            [
                "people_experience",
                "staff_leaders",
                "partners",
                "processes"
            ]
        );
        assert!(f.category("outcomes").is_some_and(|c| !c.enabled));
        assert!(
            f.statements
                .iter()
                .all(|s| !s.cues.is_empty() && !s.we.is_empty())
        );
        assert!(f.doc_type("policy").unwrap().reviewable);
    }

    #[test]
    fn cues_are_normalised_and_merged() {
        let f = Framework::builtin();
        let qs1 = f.statement("qs1").unwrap();
        let carers: Vec<&Cue> = qs1
            .cues
            .iter()
            .filter(|c| c.phrase == "carers assessment")
            .collect();
        assert_eq!(carers.len(), 1, "apostrophe variants merge");
        assert!(carers[0].prefix);
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let src = BUILTIN_SOURCE.replacen("theme = \"leadership\"", "theme = \"leadershp\"", 1);
        let err = Framework::parse(&src, "council.toml").unwrap_err();
        let line = src[..src.find("leadershp").unwrap()].matches('\n').count() + 1;
        assert_eq!(err.file, "council.toml");
        assert_eq!(err.line, Some(line));
        assert!(err.field.starts_with("statements[7].theme"), "{err}");
        assert!(
            err.to_string().contains("unknown theme 'leadershp'"),
            "{err}"
        );

        let err = Framework::parse("[framework]\nid = 1\n", "bad.toml").unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");

        let src =
            BUILTIN_SOURCE.replacen("\"needs assessment*\" = 3", "\"needs assessment*\" = 30", 1);
        let err = Framework::parse(&src, "w.toml").unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");

        let src = BUILTIN_SOURCE.replacen(
            "category = \"processes\"\nreviewable = true",
            "category = \"procesess\"\nreviewable = true",
            1,
        );
        let err = Framework::parse(&src, "t.toml").unwrap_err();
        assert!(err.field.starts_with("doc_types[0].category"), "{err}");
        assert!(err.to_string().contains("unknown category"), "{err}");
    }

    #[test]
    fn a_document_type_may_say_nothing_about_voice() {
        let f = Framework::builtin();
        let press = f.doc_types.iter().find(|d| d.code == "press_article");
        assert_eq!(press.map(|d| d.category), Some(None));
        let policy = f.doc_types.iter().find(|d| d.code == "policy").unwrap();
        assert_eq!(
            policy.category,
            f.categories.iter().position(|c| c.code == "processes")
        );
    }

    #[test]
    fn a_model_is_read_beside_the_framework_and_counts_in_its_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let src = BUILTIN_SOURCE.replace(BUILTIN_MODEL_NAME, "council.model.json");
        let model = |w: f32| {
            format!(
                r#"{{"format":"evidex-text-model/1","max_words":100,"terms":["a1"],"idf":[1.0],
                  "statements":{{"labels":["QS1"],"intercept":[0.0],"weights":[[{w}]]}}}}"#
            )
        };
        let path = dir.path().join("council.model.json");
        std::fs::write(&path, model(1.0)).unwrap();
        let a = Framework::parse_in(&src, "council.toml", Some(dir.path())).unwrap();
        assert!(
            a.model
                .as_ref()
                .unwrap()
                .file
                .ends_with("council.model.json")
        );
        std::fs::write(&path, model(2.0)).unwrap();
        let b = Framework::parse_in(&src, "council.toml", Some(dir.path())).unwrap();
        assert_ne!(a.fingerprint, b.fingerprint);

        std::fs::write(&path, "{\"format\": \"something else\"}").unwrap();
        let err = Framework::parse_in(&src, "council.toml", Some(dir.path())).unwrap_err();
        assert!(err.file.ends_with("council.model.json"), "{err}");
        std::fs::remove_file(&path).unwrap();
        let err = Framework::parse_in(&src, "council.toml", Some(dir.path())).unwrap_err();
        assert_eq!(err.field, "model.file", "{err}");
        assert!(err.line.is_some(), "{err}");
        // A copy of the built-in framework away from schema/ still finds the built-in model.
        let c = Framework::parse_in(BUILTIN_SOURCE, "copy.toml", Some(dir.path())).unwrap();
        assert!(c.model.is_some());
    }

    #[test]
    fn scoring_values_out_of_range_name_their_line() {
        for (line, field) in [
            ("threshold = 0.42", "scoring.threshold"),
            ("further_threshold = 0.58", "scoring.further_threshold"),
            ("category_secondary = 0.55", "scoring.category_secondary"),
        ] {
            let bad = line.replace(" = ", " = 4");
            let src = BUILTIN_SOURCE.replacen(line, &bad, 1);
            assert_ne!(src, BUILTIN_SOURCE, "{line}");
            let err = Framework::parse(&src, "council.toml").unwrap_err();
            let at = src[..src.find(&bad).unwrap()].matches('\n').count() + 1;
            assert_eq!((err.field.as_str(), err.line), (field, Some(at)), "{err}");
            assert!(err.message.contains("out of range"), "{err}");
        }
    }

    #[test]
    fn a_model_table_without_weights_counts_as_the_built_in_one_does() {
        let builtin = Framework::builtin();
        let m = builtin.model.as_ref().unwrap();
        let src = BUILTIN_SOURCE
            .lines()
            .filter(|l| !l.starts_with("weight =") && !l.starts_with("category_weight ="))
            .collect::<Vec<_>>()
            .join("\n");
        assert_ne!(src.len(), BUILTIN_SOURCE.trim_end().len());
        let bare = Framework::parse(&src, "bare.toml").unwrap();
        let b = bare.model.as_ref().unwrap();
        assert_eq!((b.weight, b.category_weight), (m.weight, m.category_weight));
    }

    #[test]
    fn fingerprint_follows_content() {
        let a = Framework::builtin();
        let b = Framework::parse(
            &BUILTIN_SOURCE.replace("version = \"2025.1\"", "version = \"2025.2\""),
            "x",
        )
        .unwrap();
        assert_ne!(a.fingerprint, b.fingerprint);
        assert_ne!(a.tag_version(), b.tag_version());
    }
}
