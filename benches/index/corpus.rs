//! A deterministic, realistic corpus: an adult social care shared drive.
//!
//! Document `i` of seed `s` is a pure function of `(s, i, variant)`, so the 1k corpus is the first
//! thousand files of the 10k corpus, PDFs can be cached across runs, and "1% changed" rewrites a
//! file with variant 1. Every file carries a word found in no other file (`Doc::token`), and its
//! sentences are drawn at random from a social-care vocabulary, with names, places and figures
//! that vary, so no two files share their text.
//!
//! Sizes: 1 to 20 pages, skewed to short documents as on a real drive (mean about 5.8 pages at
//! about 380 words a page). PDFs are exported from a word processor (LibreOffice, from a DOCX
//! made here) when `soffice` is installed, else written directly with lopdf (see `pdf_mode`).

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// SplitMix64: small, fast, and the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut r = Rng(seed ^ 0x9E37_79B9_7F4A_7C15);
        r.next();
        r
    }
    pub fn for_doc(seed: u64, i: usize, variant: u32) -> Rng {
        Rng::new(
            seed.wrapping_mul(0x1000_0000_01B3)
                ^ (i as u64).wrapping_mul(0x9E37_79B9)
                ^ ((variant as u64) << 48),
        )
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    pub fn f(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn pick<'a>(&mut self, xs: &'a [&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fmt {
    Pdf,
    Docx,
    Pptx,
    Xlsx,
    Odt,
    Html,
    Txt,
}

impl Fmt {
    pub const ALL: [Fmt; 7] = [
        Fmt::Pdf,
        Fmt::Docx,
        Fmt::Pptx,
        Fmt::Xlsx,
        Fmt::Odt,
        Fmt::Html,
        Fmt::Txt,
    ];
    pub fn ext(self) -> &'static str {
        match self {
            Fmt::Pdf => "pdf",
            Fmt::Docx => "docx",
            Fmt::Pptx => "pptx",
            Fmt::Xlsx => "xlsx",
            Fmt::Odt => "odt",
            Fmt::Html => "html",
            Fmt::Txt => "txt",
        }
    }
}

/// The mix: 30% PDF, 30% DOCX, 10% each PPTX, XLSX, ODT, 5% HTML, 5% TXT.
pub fn format_of(seed: u64, i: usize) -> Fmt {
    let mut r = Rng::for_doc(seed, i, 0xFFFF);
    match r.below(100) {
        0..30 => Fmt::Pdf,
        30..60 => Fmt::Docx,
        60..70 => Fmt::Pptx,
        70..80 => Fmt::Xlsx,
        80..90 => Fmt::Odt,
        90..95 => Fmt::Html,
        _ => Fmt::Txt,
    }
}

pub struct Section {
    pub heading: String,
    pub paras: Vec<String>,
}

pub struct Doc {
    pub fmt: Fmt,
    pub title: String,
    pub author: String,
    pub date: String,
    pub date_iso: String,
    pub token: String,
    pub pages: usize,
    pub sections: Vec<Section>,
    pub table: Vec<Vec<String>>,
    /// Relative path of the file in the corpus (stable across variants).
    pub rel: PathBuf,
}

const COUNCIL: &str = "Northbrook County Council";
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const AREAS: [&str; 8] = [
    "Safeguarding",
    "Carers",
    "Commissioning",
    "Front Door",
    "Learning Disability",
    "Mental Health",
    "Hospital Discharge",
    "Quality Assurance",
];
const DOC_KINDS: [(&str, &str); 14] = [
    ("Policy", "Policies"),
    ("Procedure", "Procedures"),
    ("Strategy", "Strategies"),
    ("Board minutes", "Minutes"),
    ("Survey report", "Surveys"),
    ("Action plan", "Action plans"),
    ("Performance report", "Performance"),
    ("Case file audit", "Audits"),
    ("Training record", "Training"),
    ("Partnership agreement", "Partnerships"),
    ("Annual report", "Reports"),
    ("Newsletter", "Communications"),
    ("Self-assessment", "CQC"),
    ("Practice guidance", "Guidance"),
];
const TOPICS: [&str; 24] = [
    "Carers assessment",
    "Direct payments",
    "Safeguarding adults",
    "Hospital discharge",
    "Reablement",
    "Transitions to adulthood",
    "Market sufficiency",
    "Home care quality",
    "Deprivation of Liberty Safeguards",
    "Mental capacity",
    "Waiting list management",
    "Workforce development",
    "Advocacy",
    "Information and advice",
    "Prevention and wellbeing",
    "Technology enabled care",
    "Extra care housing",
    "Occupational therapy",
    "Annual reviews",
    "Complaints and compliments",
    "Co-production",
    "Equality and diversity",
    "Unpaid carers",
    "Care home fees",
];
const SUBJECTS: [&str; 26] = [
    "The council",
    "The adult social care team",
    "Our reablement service",
    "The Safeguarding Adults Board",
    "Unpaid carers",
    "People who draw on care and support",
    "The integrated discharge team",
    "Commissioners",
    "Care providers",
    "The occupational therapy service",
    "Front door staff",
    "The community mental health team",
    "The Learning Disability Partnership Board",
    "Health partners",
    "The principal social worker",
    "Locality teams",
    "The brokerage team",
    "Housing colleagues",
    "The quality assurance team",
    "Advocacy providers",
    "The carers centre",
    "Senior leaders",
    "Elected members",
    "The transitions team",
    "The Making It Real group",
    "Team managers",
];
const VERBS: [&str; 24] = [
    "reviewed",
    "improved",
    "monitored",
    "agreed",
    "reported on",
    "co-produced",
    "delivered",
    "strengthened",
    "audited",
    "commissioned",
    "evaluated",
    "prioritised",
    "reduced delays in",
    "supported",
    "published",
    "consulted on",
    "escalated concerns about",
    "redesigned",
    "tracked",
    "challenged",
    "benchmarked",
    "scrutinised",
    "invested in",
    "learned from",
];
const OBJECTS: [&str; 34] = [
    "the waiting list for Care Act assessments",
    "carers assessments and support plans",
    "take-up of direct payments",
    "hospital discharge arrangements",
    "the market position statement",
    "safeguarding enquiries under section 42",
    "Making Safeguarding Personal outcomes",
    "transitions from children's services",
    "overdue annual reviews",
    "deprivation of liberty safeguards applications",
    "the quality of home care",
    "information and advice on the council website",
    "the local offer for unpaid carers",
    "equipment and minor adaptations",
    "the workforce strategy",
    "supervision and reflective practice for social workers",
    "complaints and compliments",
    "the results of the carers survey",
    "extra care housing schemes",
    "sufficiency of residential and nursing placements",
    "fee rates for care homes",
    "the prevention strategy",
    "technology enabled care",
    "mental capacity assessments",
    "the use of independent advocacy",
    "the Adult Social Care Outcomes Framework measures",
    "respite and short breaks",
    "the front door triage model",
    "personal budgets and support planning",
    "the self-neglect and hoarding protocol",
    "joint working with the integrated care board",
    "learning from safeguarding adults reviews",
    "the cost of care exercise",
    "the experience of people from ethnic minority communities",
];
const ADVERBIALS: [&str; 22] = [
    "during the quarter",
    "across all localities",
    "in partnership with the NHS",
    "following feedback from people with lived experience",
    "in line with the Care Act 2014",
    "since the last assurance review",
    "as set out in the improvement plan",
    "with the voluntary and community sector",
    "at the monthly performance meeting",
    "through the carers partnership",
    "within the agreed timescales",
    "for the third consecutive month",
    "in response to the peer challenge",
    "using the strengths-based practice framework",
    "alongside the housing department",
    "as part of the winter plan",
    "with support from the principal occupational therapist",
    "ahead of the CQC assessment",
    "across the county",
    "with the Healthwatch team",
    "in the east and west localities",
    "following the budget setting process",
];
const FILLER: [&str; 40] = [
    "Staff told us that the new process is clearer and that managers are more visible.",
    "People said they wanted to be contacted by someone who already knows their situation.",
    "The board noted the risks and asked for an update at the next meeting.",
    "Further work is needed to make sure that information is accessible to everyone.",
    "This remains a priority for the directorate and is reflected in the business plan.",
    "Carers described feeling listened to but said that respite was hard to arrange.",
    "The audit found good evidence of person-centred recording in most case files.",
    "Partners welcomed the joint approach and agreed to share data monthly.",
    "Actions are owned by named leads and progress is reported to the senior leadership team.",
    "The service continues to face pressure from rising demand and recruitment difficulties.",
    "Quality assurance visits identified good practice and some areas for improvement.",
    "Feedback was gathered through surveys, focus groups and conversations with frontline staff.",
    "The policy will be reviewed annually or sooner if legislation changes.",
    "Where concerns are raised, the safeguarding lead will respond within two working days.",
    "All staff must complete mandatory training before carrying out assessments.",
    "The pilot showed that earlier conversations prevented a number of crisis admissions.",
    "A summary of the findings has been shared with people who took part.",
    "Managers will check that outcomes are recorded in the language the person uses.",
    "The data shows variation between localities that needs to be understood.",
    "Commissioners met providers to discuss workforce pressures and fee uplifts.",
    "The approach is consistent with the principles of wellbeing and prevention.",
    "This section sets out how decisions are made and who is responsible for them.",
    "Risks are recorded on the directorate risk register and reviewed each quarter.",
    "We heard that people value continuity of care and a consistent point of contact.",
    "The team has started to use a new triage tool to prioritise urgent cases.",
    "Case studies illustrate how the service has supported people to stay at home.",
    "The group agreed the terms of reference and the frequency of meetings.",
    "Responses were broadly positive, with some concerns about waiting times.",
    "An easy read version of this document is available on request.",
    "Learning has been embedded through practice forums and team briefings.",
    "The integrated care board has confirmed funding for the next financial year.",
    "Advocates reported that referrals are now made earlier in the process.",
    "Providers are asked to notify the council of any significant changes to their service.",
    "The findings will inform the refresh of the joint strategic needs assessment.",
    "No further action was required in most cases reviewed.",
    "The council will publish its progress against these commitments each year.",
    "Workers should record the person's views, wishes, feelings and beliefs.",
    "The review identified opportunities to reduce duplication between teams.",
    "Where a person lacks capacity, a best interests decision must be recorded.",
    "Those present agreed that the minutes of the last meeting were accurate.",
];
const FIRST: [&str; 30] = [
    "Amira", "Ben", "Chloe", "Dev", "Eleanor", "Farah", "George", "Hannah", "Imran", "Jess",
    "Kwame", "Laura", "Mohammed", "Niamh", "Oliver", "Priya", "Rhys", "Sophie", "Tom", "Uma",
    "Victoria", "Wei", "Yusuf", "Zara", "Callum", "Bethany", "Joanne", "Marek", "Siobhan", "Tariq",
];
const SURNAME_A: [&str; 16] = [
    "Ash", "Black", "Brad", "Cald", "Dun", "Fair", "Green", "Hal", "Kings", "Marsh", "North",
    "Red", "Stan", "Thorn", "West", "Whit",
];
const SURNAME_B: [&str; 14] = [
    "well", "wood", "ford", "ley", "ton", "field", "more", "stone", "bridge", "worth", "by", "ham",
    "cott", "dale",
];
const PLACE_A: [&str; 20] = [
    "Ab", "Bel", "Carr", "Dray", "Elm", "Fen", "Gras", "Hol", "Ivy", "Kel", "Lang", "Mill", "Nor",
    "Oak", "Pen", "Quen", "Ros", "Sal", "Tun", "Wyn",
];
const PLACE_B: [&str; 16] = [
    "bury", "ham", "thorpe", "wick", "stead", "ford", "mere", "combe", "field", "hurst", "leigh",
    "minster", "port", "ton", "well", "by",
];
const PLACE_C: [&str; 10] = [
    "", "", "", " Green", " Park", " Vale", " End", " Heath", " Cross", " Hill",
];
const MEASURES: [&str; 16] = [
    "New assessments completed",
    "People waiting for assessment",
    "Average days to assessment",
    "Carers assessments completed",
    "Direct payment recipients",
    "Section 42 enquiries opened",
    "Enquiries where outcomes were met",
    "Reviews overdue",
    "Discharges within 48 hours",
    "Reablement: at home after 91 days",
    "DoLS applications awaiting authorisation",
    "Complaints received",
    "Compliments received",
    "Home care hours delivered",
    "Care home admissions (65+)",
    "Staff vacancies (FTE)",
];

fn b26(mut n: usize, width: usize) -> String {
    let mut v = vec![b'a'; width];
    for k in (0..width).rev() {
        v[k] = b'a' + (n % 26) as u8;
        n /= 26;
    }
    String::from_utf8(v).unwrap()
}

/// The word that occurs in document `i` (variant `v`) and nowhere else.
pub fn token(i: usize, variant: u32) -> String {
    // Ends in 'a' or 'b' so no stemmer trims it; five letters cover 11.8M documents.
    format!("qx{}{}", b26(i, 5), (b'a' + variant as u8) as char)
}

fn person(r: &mut Rng) -> String {
    format!(
        "{} {}{}",
        r.pick(&FIRST),
        r.pick(&SURNAME_A),
        r.pick(&SURNAME_B)
    )
}

fn place(r: &mut Rng) -> String {
    format!(
        "{}{}{}",
        r.pick(&PLACE_A),
        r.pick(&PLACE_B),
        r.pick(&PLACE_C)
    )
}

fn sentence(r: &mut Rng) -> String {
    match r.below(10) {
        0..=3 => format!(
            "{} {} {} {}.",
            r.pick(&SUBJECTS),
            r.pick(&VERBS),
            r.pick(&OBJECTS),
            r.pick(&ADVERBIALS)
        ),
        4 => {
            let n = r.range(12, 900);
            let m = r.range(12, 900);
            let mo = r.pick(&MONTHS);
            let mo2 = r.pick(&MONTHS);
            format!(
                "{n} people were waiting for {} at the end of {mo}, compared with {m} in {mo2}.",
                r.pick(&[
                    "an assessment",
                    "a review",
                    "a carers assessment",
                    "an OT assessment",
                    "a care package"
                ])
            )
        }
        5 => format!(
            "{}% of respondents in {} said that {} had improved.",
            r.range(35, 96),
            place(r),
            r.pick(&OBJECTS)
        ),
        6 => format!(
            "{} ({}) presented the update on {} and {} agreed to follow up with {}.",
            person(r),
            r.pick(&[
                "Head of Service",
                "Team Manager",
                "Principal Social Worker",
                "Commissioning Lead",
                "Safeguarding Lead",
                "Service Manager",
                "Director of Adult Social Care"
            ]),
            r.pick(&OBJECTS),
            person(r),
            r.pick(&SUBJECTS).to_lowercase()
        ),
        7 => format!(
            "The average wait in {} was {} days, against a target of {} days; the fee rate is £{}.{:02} an hour.",
            place(r),
            r.range(3, 120),
            r.range(7, 28),
            r.range(19, 32),
            r.range(0, 99)
        ),
        _ => r.pick(&FILLER).to_string(),
    }
}

fn paragraph(r: &mut Rng, words: &mut usize) -> String {
    let n = r.range(3, 6);
    let mut p = String::new();
    for k in 0..n {
        if k > 0 {
            p.push(' ');
        }
        p.push_str(&sentence(r));
    }
    *words += p.split_whitespace().count();
    p
}

pub fn make(seed: u64, i: usize, variant: u32) -> Doc {
    let fmt = format_of(seed, i);
    // Layout and title depend on (seed, i) only, so a changed file keeps its path.
    let mut rl = Rng::for_doc(seed, i, 0xFFFE);
    let area = rl.pick(&AREAS);
    let year = rl.range(2021, 2025);
    let (kind, folder) = DOC_KINDS[rl.below(DOC_KINDS.len())];
    let topic = rl.pick(&TOPICS);
    let month = rl.below(12);
    let day = rl.range(1, 28);
    let title = match kind {
        "Board minutes" => format!("{area} board minutes {day} {} {year}", MONTHS[month]),
        "Strategy" => format!("{topic} strategy {year}-{}", year + 3),
        "Newsletter" => format!("{area} newsletter {} {year}", MONTHS[month]),
        _ => format!("{topic} {}", kind.to_lowercase()),
    };
    let title = {
        let mut t = title;
        if let Some(f) = t.get_mut(0..1) {
            f.make_ascii_uppercase();
        }
        t
    };
    let rel = PathBuf::from(area)
        .join(year.to_string())
        .join(folder)
        .join(format!("{} ({}).{}", title, i, fmt.ext()));

    let mut r = Rng::for_doc(seed, i, variant);
    // 1..20 pages, skewed short: 1 + floor(19 u^3), mean about 5.75.
    let u = r.f();
    let pages = 1 + (19.0 * u * u * u) as usize;
    let target_words = pages * 380;
    let tok = token(i, variant);
    let author = person(&mut r);
    let mut words = 0usize;
    let mut sections = Vec::new();
    let mut intro = vec![format!(
        "Document reference {tok}. Owner: {author}, {area}. Date: {day} {} {year}. Review date: {} {}.",
        MONTHS[month],
        MONTHS[(month + 6) % 12],
        year + 1
    )];
    intro.push(paragraph(&mut r, &mut words));
    sections.push(Section {
        heading: "Purpose".into(),
        paras: intro,
    });
    let headings = [
        "Background",
        "What people told us",
        "What staff and leaders told us",
        "Feedback from partners",
        "Performance and data",
        "Roles and responsibilities",
        "Risks and mitigations",
        "Actions agreed",
        "Next steps",
        "Equality impact",
        "Governance",
        "Learning",
    ];
    while words < target_words {
        let h = format!("{} {}", headings[r.below(headings.len())], sections.len());
        let n = r.range(2, 5);
        let mut paras = Vec::new();
        for _ in 0..n {
            paras.push(paragraph(&mut r, &mut words));
        }
        sections.push(Section { heading: h, paras });
    }
    let rows = if fmt == Fmt::Xlsx {
        pages * 25
    } else if r.below(10) < 4 {
        r.range(4, 12)
    } else {
        0
    };
    let mut table = Vec::new();
    if rows > 0 {
        table.push(
            [
                "Measure", "Locality", "Q1", "Q2", "Q3", "Q4", "Target", "Comment",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        );
        for _ in 0..rows {
            let mut row = vec![r.pick(&MEASURES).to_string(), place(&mut r)];
            for _ in 0..5 {
                row.push(r.range(0, 950).to_string());
            }
            row.push(sentence(&mut r));
            table.push(row);
        }
    }
    Doc {
        fmt,
        title,
        author,
        date: format!("{day} {} {year}", MONTHS[month]),
        date_iso: format!("{year}-{:02}-{day:02}", month + 1),
        token: tok,
        pages,
        sections,
        table,
        rel,
    }
}

pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            _ => o.push(c),
        }
    }
    o
}

type Zip = zip::ZipWriter<BufWriter<File>>;

fn zopts() -> zip::write::SimpleFileOptions {
    zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
}

fn zput(z: &mut Zip, name: &str, body: &str) -> std::io::Result<()> {
    z.start_file(name, zopts()).map_err(std::io::Error::other)?;
    z.write_all(body.as_bytes())
}

fn core_xml(d: &Doc) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>{}</dc:title><dc:creator>{}</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">{}T09:30:00Z</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">{}T16:05:00Z</dcterms:modified></cp:coreProperties>"#,
        esc(&d.title),
        esc(&d.author),
        d.date_iso,
        d.date_iso
    )
}

pub fn write_docx(d: &Doc, path: &Path) -> std::io::Result<()> {
    use docx_rs::*;
    let text = |s: &str| Paragraph::new().add_run(Run::new().add_text(s));
    let mut docx = Docx::new()
        .add_style(
            Style::new("Title", StyleType::Paragraph)
                .name("Title")
                .size(44)
                .bold(),
        )
        .add_style(
            Style::new("Heading1", StyleType::Paragraph)
                .name("Heading 1")
                .size(32)
                .bold(),
        )
        .header(Header::new().add_paragraph(text("OFFICIAL")))
        .footer(Footer::new().add_paragraph(text(&format!("{COUNCIL} | {}", d.title))))
        .created_at(&format!("{}T09:30:00Z", d.date_iso))
        .add_paragraph(text(&d.title).style("Title"))
        .add_paragraph(text(&format!(
            "{COUNCIL} Adult Social Care. Author: {}. {}",
            d.author, d.date
        )));
    for (k, s) in d.sections.iter().enumerate() {
        docx = docx.add_paragraph(text(&s.heading).style("Heading1"));
        for p in &s.paras {
            docx = docx.add_paragraph(text(p));
        }
        if k == 1 && !d.table.is_empty() {
            let rows = d
                .table
                .iter()
                .map(|row| {
                    TableRow::new(
                        row.iter()
                            .map(|c| TableCell::new().add_paragraph(text(c)))
                            .collect(),
                    )
                })
                .collect();
            docx = docx.add_table(Table::new(rows));
        }
    }
    // docx-rs (built without its deflate feature here) stores its parts uncompressed; Word
    // deflates them, and some readers (Recoll's) fail on the stored form. Re-pack, deflated.
    let mut raw = std::io::Cursor::new(Vec::new());
    docx.build().pack(&mut raw).map_err(std::io::Error::other)?;
    let mut src = zip::ZipArchive::new(std::io::Cursor::new(raw.into_inner()))
        .map_err(std::io::Error::other)?;
    let mut z = zip::ZipWriter::new(BufWriter::new(File::create(path)?));
    for k in 0..src.len() {
        let mut e = src.by_index(k).map_err(std::io::Error::other)?;
        if e.is_dir() {
            continue;
        }
        let name = e.name().map_err(std::io::Error::other)?.to_string();
        let mut body = Vec::with_capacity(e.size() as usize);
        std::io::Read::read_to_end(&mut e, &mut body)?;
        z.start_file(name, zopts()).map_err(std::io::Error::other)?;
        z.write_all(&body)?;
    }
    z.finish().map_err(std::io::Error::other)?;
    Ok(())
}

pub fn write_odt(d: &Doc, path: &Path) -> std::io::Result<()> {
    let mut z = zip::ZipWriter::new(BufWriter::new(File::create(path)?));
    // The mimetype comes first and is stored, as ODF requires.
    z.start_file(
        "mimetype",
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .last_modified_time(zip::DateTime::default()),
    )
    .map_err(std::io::Error::other)?;
    z.write_all(b"application/vnd.oasis.opendocument.text")?;
    zput(
        &mut z,
        "META-INF/manifest.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/><manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/><manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/></manifest:manifest>"#,
    )?;
    zput(
        &mut z,
        "meta.xml",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" office:version="1.3"><office:meta><meta:generator>LibreOffice/7.4</meta:generator><dc:title>{}</dc:title><dc:creator>{}</dc:creator><meta:creation-date>{}T09:30:00</meta:creation-date><dc:date>{}T16:05:00</dc:date></office:meta></office:document-meta>"#,
            esc(&d.title),
            esc(&d.author),
            d.date_iso,
            d.date_iso
        ),
    )?;
    zput(
        &mut z,
        "styles.xml",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-styles xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3"><office:master-styles><style:master-page style:name="Standard"><style:header><text:p>OFFICIAL</text:p></style:header><style:footer><text:p>{} | {}</text:p></style:footer></style:master-page></office:master-styles></office:document-styles>"#,
            COUNCIL,
            esc(&d.title)
        ),
    )?;
    let mut c = String::with_capacity(d.pages * 3000);
    c.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" office:version="1.3"><office:body><office:text>"#);
    let _ = write!(
        c,
        r#"<text:h text:outline-level="1">{}</text:h><text:p>{} Adult Social Care. Author: {}. {}</text:p>"#,
        esc(&d.title),
        COUNCIL,
        esc(&d.author),
        d.date
    );
    for (k, s) in d.sections.iter().enumerate() {
        let _ = write!(
            c,
            r#"<text:h text:outline-level="2">{}</text:h>"#,
            esc(&s.heading)
        );
        for p in &s.paras {
            let _ = write!(c, "<text:p>{}</text:p>", esc(p));
        }
        if k == 1 && !d.table.is_empty() {
            let _ = write!(
                c,
                r#"<table:table table:name="Table1"><table:table-column table:number-columns-repeated="{}"/>"#,
                d.table[0].len()
            );
            for row in &d.table {
                c.push_str("<table:table-row>");
                for cell in row {
                    let _ = write!(
                        c,
                        r#"<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>"#,
                        esc(cell)
                    );
                }
                c.push_str("</table:table-row>");
            }
            c.push_str("</table:table>");
        }
    }
    c.push_str("</office:text></office:body></office:document-content>");
    zput(&mut z, "content.xml", &c)?;
    z.finish().map_err(std::io::Error::other)?;
    Ok(())
}

const P_NS: &str = r#"xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main""#;

fn sp_text(id: usize, ph: &str, paras: &[String]) -> String {
    let mut s = format!(
        r#"<p:sp><p:nvSpPr><p:cNvPr id="{id}" name="Shape {id}"/><p:cNvSpPr/><p:nvPr><p:ph {ph}/></p:nvPr></p:nvSpPr><p:spPr/><p:txBody><a:bodyPr/><a:lstStyle/>"#
    );
    for p in paras {
        let _ = write!(
            s,
            r#"<a:p><a:r><a:rPr lang="en-GB"/><a:t>{}</a:t></a:r></a:p>"#,
            esc(p)
        );
    }
    s.push_str("</p:txBody></p:sp>");
    s
}

pub fn write_pptx(d: &Doc, path: &Path) -> std::io::Result<()> {
    // Slides: a title slide, then one per section paragraph group (bullets = sentences), with
    // the remaining text as speaker notes. About two slides a "page".
    let mut slides: Vec<(String, Vec<String>, String)> = vec![(
        d.title.clone(),
        vec![
            format!("{COUNCIL} Adult Social Care"),
            format!("{} | {} | ref {}", d.author, d.date, d.token),
        ],
        d.sections[0].paras.join(" "),
    )];
    for s in &d.sections[1..] {
        for (k, p) in s.paras.iter().enumerate() {
            let bullets: Vec<String> = p
                .split_inclusive(". ")
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect();
            let (shown, notes) = bullets.split_at(bullets.len().div_ceil(2));
            slides.push((
                if k == 0 {
                    s.heading.clone()
                } else {
                    format!("{} (continued)", s.heading)
                },
                shown.to_vec(),
                notes.join(" "),
            ));
        }
    }
    if !d.table.is_empty() {
        slides.push((
            "Performance summary".into(),
            d.table.iter().map(|r| r.join("  ")).collect(),
            String::new(),
        ));
    }
    let n = slides.len();
    let mut z = zip::ZipWriter::new(BufWriter::new(File::create(path)?));
    let mut ct = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>"#,
    );
    for k in 1..=n {
        let _ = write!(
            ct,
            r#"<Override PartName="/ppt/slides/slide{k}.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slide+xml"/><Override PartName="/ppt/notesSlides/notesSlide{k}.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.notesSlide+xml"/>"#
        );
    }
    ct.push_str("</Types>");
    zput(&mut z, "[Content_Types].xml", &ct)?;
    zput(
        &mut z,
        "_rels/.rels",
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="ppt/presentation.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>"#,
    )?;
    zput(&mut z, "docProps/core.xml", &core_xml(d))?;
    let mut pres = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<p:presentation {P_NS}><p:sldIdLst>"#
    );
    let mut prels = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    );
    for k in 1..=n {
        let _ = write!(pres, r#"<p:sldId id="{}" r:id="rId{}"/>"#, 255 + k, k + 1);
        let _ = write!(
            prels,
            r#"<Relationship Id="rId{}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" Target="slides/slide{k}.xml"/>"#,
            k + 1
        );
    }
    pres.push_str(r#"</p:sldIdLst><p:sldSz cx="12192000" cy="6858000"/><p:notesSz cx="6858000" cy="9144000"/></p:presentation>"#);
    prels.push_str("</Relationships>");
    zput(&mut z, "ppt/presentation.xml", &pres)?;
    zput(&mut z, "ppt/_rels/presentation.xml.rels", &prels)?;
    for (k, (title, bullets, notes)) in slides.iter().enumerate() {
        let k = k + 1;
        let slide = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<p:sld {P_NS}><p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/>{}{}</p:spTree></p:cSld></p:sld>"#,
            sp_text(2, r#"type="title""#, std::slice::from_ref(title)),
            sp_text(3, r#"idx="1""#, bullets)
        );
        zput(&mut z, &format!("ppt/slides/slide{k}.xml"), &slide)?;
        zput(
            &mut z,
            &format!("ppt/slides/_rels/slide{k}.xml.rels"),
            &format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/notesSlide" Target="../notesSlides/notesSlide{k}.xml"/></Relationships>"#
            ),
        )?;
        let notes_xml = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<p:notes {P_NS}><p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/>{}</p:spTree></p:cSld></p:notes>"#,
            sp_text(3, r#"type="body" idx="1""#, std::slice::from_ref(notes))
        );
        zput(
            &mut z,
            &format!("ppt/notesSlides/notesSlide{k}.xml"),
            &notes_xml,
        )?;
    }
    z.finish().map_err(std::io::Error::other)?;
    Ok(())
}

fn col_name(mut c: usize) -> String {
    let mut s = Vec::new();
    c += 1;
    while c > 0 {
        let m = (c - 1) % 26;
        s.push(b'A' + m as u8);
        c = (c - 1) / 26;
    }
    s.reverse();
    String::from_utf8(s).unwrap()
}

pub fn write_xlsx(d: &Doc, path: &Path) -> std::io::Result<()> {
    // Sheet 1: the measures table (numbers as numbers, text as shared strings, as Excel
    // writes them). Sheet 2: the narrative, one paragraph per row.
    let mut strings: Vec<String> = Vec::new();
    let mut index = std::collections::HashMap::new();
    let mut sid = |s: &str, strings: &mut Vec<String>| -> usize {
        *index.entry(s.to_string()).or_insert_with(|| {
            strings.push(s.to_string());
            strings.len() - 1
        })
    };
    let mut sheets: Vec<String> = Vec::new();
    let mut rows: Vec<Vec<String>> = vec![
        vec![d.title.clone()],
        vec![format!(
            "{COUNCIL} | {} | {} | ref {}",
            d.author, d.date, d.token
        )],
    ];
    rows.extend(d.table.iter().cloned());
    let mut narrative: Vec<Vec<String>> = vec![vec!["Section".into(), "Notes".into()]];
    for s in &d.sections {
        for p in &s.paras {
            narrative.push(vec![s.heading.clone(), p.clone()]);
        }
    }
    for sheet_rows in [&rows, &narrative] {
        let mut x = String::from(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
        );
        for (ri, row) in sheet_rows.iter().enumerate() {
            let _ = write!(x, r#"<row r="{}">"#, ri + 1);
            for (ci, cell) in row.iter().enumerate() {
                let rc = format!("{}{}", col_name(ci), ri + 1);
                if !cell.is_empty() && cell.bytes().all(|b| b.is_ascii_digit()) {
                    let _ = write!(x, r#"<c r="{rc}"><v>{cell}</v></c>"#);
                } else {
                    let k = sid(cell, &mut strings);
                    let _ = write!(x, r#"<c r="{rc}" t="s"><v>{k}</v></c>"#);
                }
            }
            x.push_str("</row>");
        }
        x.push_str("</sheetData></worksheet>");
        sheets.push(x);
    }
    let mut z = zip::ZipWriter::new(BufWriter::new(File::create(path)?));
    zput(
        &mut z,
        "[Content_Types].xml",
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>"#,
    )?;
    zput(
        &mut z,
        "_rels/.rels",
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>"#,
    )?;
    zput(&mut z, "docProps/core.xml", &core_xml(d))?;
    zput(
        &mut z,
        "xl/workbook.xml",
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Measures" sheetId="1" r:id="rId1"/><sheet name="Narrative" sheetId="2" r:id="rId2"/></sheets></workbook>"#,
    )?;
    zput(
        &mut z,
        "xl/_rels/workbook.xml.rels",
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
    )?;
    for (k, s) in sheets.iter().enumerate() {
        zput(&mut z, &format!("xl/worksheets/sheet{}.xml", k + 1), s)?;
    }
    let mut ss = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{0}" uniqueCount="{0}">"#,
        strings.len()
    );
    for s in &strings {
        let _ = write!(ss, "<si><t>{}</t></si>", esc(s));
    }
    ss.push_str("</sst>");
    zput(&mut z, "xl/sharedStrings.xml", &ss)?;
    z.finish().map_err(std::io::Error::other)?;
    Ok(())
}

pub fn write_html(d: &Doc, path: &Path) -> std::io::Result<()> {
    let mut h = String::with_capacity(d.pages * 3000);
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><title>{t}</title><meta name="author" content="{a}"><meta name="viewport" content="width=device-width"><link rel="stylesheet" href="/assets/site.css"></head>
<body><header><a href="/">{COUNCIL}</a><nav><ul><li><a href="/adult-social-care">Adult social care</a></li><li><a href="/carers">Carers</a></li><li><a href="/contact">Contact us</a></li></ul></nav></header>
<main><h1>{t}</h1><p class="meta">Published {date} by {a}</p>
"#,
        t = esc(&d.title),
        a = esc(&d.author),
        date = d.date
    );
    for (k, s) in d.sections.iter().enumerate() {
        let _ = writeln!(h, "<h2>{}</h2>", esc(&s.heading));
        for p in &s.paras {
            let _ = writeln!(h, "<p>{}</p>", esc(p));
        }
        if k == 1 && !d.table.is_empty() {
            h.push_str("<table>");
            for (ri, row) in d.table.iter().enumerate() {
                h.push_str("<tr>");
                for c in row {
                    let tag = if ri == 0 { "th" } else { "td" };
                    let _ = write!(h, "<{tag}>{}</{tag}>", esc(c));
                }
                h.push_str("</tr>\n");
            }
            h.push_str("</table>\n");
        }
    }
    let _ = writeln!(
        h,
        "</main><footer><p>&copy; {COUNCIL}. <a href=\"/accessibility\">Accessibility</a> | <a href=\"/privacy\">Privacy</a></p></footer></body></html>"
    );
    std::fs::write(path, h)
}

pub fn write_txt(d: &Doc, path: &Path) -> std::io::Result<()> {
    let mut t = String::with_capacity(d.pages * 2600);
    let _ = write!(
        t,
        "{}\n{}\n\n{} | {} | {}\n\n",
        d.title,
        "=".repeat(d.title.chars().count()),
        COUNCIL,
        d.author,
        d.date
    );
    for (k, s) in d.sections.iter().enumerate() {
        let _ = write!(t, "{}\n\n", s.heading);
        for p in &s.paras {
            // Wrapped at 78 columns, as a saved email or notes file would be.
            let mut col = 0;
            for w in p.split(' ') {
                if col + w.len() > 78 && col > 0 {
                    t.push('\n');
                    col = 0;
                } else if col > 0 {
                    t.push(' ');
                    col += 1;
                }
                t.push_str(w);
                col += w.len();
            }
            t.push_str("\n\n");
        }
        if k == 1 && !d.table.is_empty() {
            for row in &d.table {
                t.push_str(&row.join("\t"));
                t.push('\n');
            }
            t.push('\n');
        }
    }
    std::fs::write(path, t)
}

/// A PDF written directly (the fallback when LibreOffice is not installed): standard Helvetica,
/// WinAnsi encoding, no embedded font. Simpler than a word processor's export.
pub fn write_pdf_lopdf(d: &Doc, path: &Path) -> std::io::Result<()> {
    use lopdf::{Document, Object, Stream, dictionary};
    let mut lines: Vec<(f32, String)> = vec![
        (18.0, d.title.clone()),
        (10.0, format!("{COUNCIL} | {} | {}", d.author, d.date)),
    ];
    let wrap = |s: &str, width: usize, out: &mut Vec<(f32, String)>| {
        let mut cur = String::new();
        for w in s.split(' ') {
            if cur.len() + w.len() + 1 > width && !cur.is_empty() {
                out.push((11.0, std::mem::take(&mut cur)));
            }
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(w);
        }
        if !cur.is_empty() {
            out.push((11.0, cur));
        }
    };
    for s in &d.sections {
        lines.push((14.0, s.heading.clone()));
        for p in &s.paras {
            wrap(p, 92, &mut lines);
            lines.push((11.0, String::new()));
        }
    }
    for row in &d.table {
        wrap(&row.join("   "), 92, &mut lines);
    }
    let enc = |s: &str| -> Vec<u8> {
        let mut o = Vec::new();
        for c in s.chars() {
            match c {
                '(' | ')' | '\\' => {
                    o.push(b'\\');
                    o.push(c as u8);
                }
                '£' => o.push(0xA3),
                '\u{2013}' => o.push(0x96),
                '\u{2019}' => o.push(0x92),
                c if c.is_ascii() => o.push(c as u8),
                _ => o.push(b'?'),
            }
        }
        o
    };
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut kids: Vec<Object> = Vec::new();
    for chunk in lines.chunks(52) {
        let mut content = Vec::new();
        content.extend_from_slice(b"BT\n72 770 Td\n");
        for (size, text) in chunk {
            content.extend_from_slice(format!("/F1 {size} Tf\n0 -14 Td\n(").as_bytes());
            content.extend(enc(text));
            content.extend_from_slice(b") Tj\n");
        }
        content.extend_from_slice(b"ET\n");
        let content_id = doc.add_object(Stream::new(dictionary! {}, content));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
        });
        kids.push(page_id.into());
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => count,
            "Resources" => resources_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let info_id = doc.add_object(dictionary! {
        "Title" => Object::string_literal(d.title.as_str()),
        "Author" => Object::string_literal(d.author.as_str()),
    });
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    doc.trailer.set("Info", info_id);
    doc.compress();
    doc.save(path).map(|_| ())
}

pub fn write(d: &Doc, path: &Path) -> std::io::Result<()> {
    match d.fmt {
        Fmt::Docx => write_docx(d, path),
        Fmt::Pptx => write_pptx(d, path),
        Fmt::Xlsx => write_xlsx(d, path),
        Fmt::Odt => write_odt(d, path),
        Fmt::Html => write_html(d, path),
        Fmt::Txt => write_txt(d, path),
        Fmt::Pdf => write_pdf_lopdf(d, path),
    }
}
