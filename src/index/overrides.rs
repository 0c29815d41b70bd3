//! Librarian overrides: "this document is also evidence for QS3", "not QS1", "it is partners'
//! feedback". Stored in `overrides.json`, apart from everything derived, so re-indexing, a new
//! framework or rebuilding the index never loses them. An override follows its document by
//! content (a moved file keeps it) and by path (an edited file keeps it).

use crate::error::Result;
use crate::framework::Framework;
use crate::tag::{Reason, TagScore, Tags};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Override {
    /// The path (key) the librarian named; moved along when the file moves.
    pub path: String,
    /// The content the override was made on.
    #[serde(default)]
    pub doc_id: Option<String>,
    #[serde(default)]
    pub add: Vec<String>,
    #[serde(default)]
    pub remove: Vec<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    pub updated: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Overrides {
    #[serde(default)]
    pub overrides: Vec<Override>,
}

impl Overrides {
    pub fn path(dir: &Path) -> std::path::PathBuf {
        dir.join("overrides.json")
    }

    pub fn load(dir: &Path) -> Result<Overrides> {
        let path = Overrides::path(dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                crate::error::Error::index(
                    dir,
                    format!("overrides.json is not valid JSON ({e}); fix it by hand or restore it from a backup"),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Overrides::default()),
            Err(e) => Err(crate::error::Error::io(&path, e)),
        }
    }

    pub fn save(&self, dir: &Path) -> Result<()> {
        super::state::write_atomic(
            &Overrides::path(dir),
            serde_json::to_string_pretty(self)
                .expect("overrides serialise")
                .as_bytes(),
        )
    }

    /// The override for a document reached at any of `paths`, or carrying its content id.
    pub fn find(&self, doc_id: &str, paths: &[String]) -> Option<&Override> {
        let ids: Vec<String> = paths.iter().map(|p| crate::paths::identity(p)).collect();
        self.overrides
            .iter()
            .find(|o| ids.contains(&crate::paths::identity(&o.path)))
            .or_else(|| {
                self.overrides
                    .iter()
                    .find(|o| o.doc_id.as_deref() == Some(doc_id))
            })
    }

    /// Moves overrides from an old path to a new one (the file was moved or renamed).
    pub fn follow_move(&mut self, from: &str, to: &str) -> bool {
        let from_id = crate::paths::identity(from);
        let mut changed = false;
        for o in &mut self.overrides {
            if crate::paths::identity(&o.path) == from_id {
                o.path = to.to_string();
                changed = true;
            }
        }
        changed
    }

    /// Adds to (or creates) the override for a path.
    pub fn upsert(
        &mut self,
        path: &str,
        doc_id: Option<&str>,
        add: &[String],
        remove: &[String],
        category: Option<&str>,
        note: Option<&str>,
    ) -> Override {
        let id = crate::paths::identity(path);
        let i = match self
            .overrides
            .iter()
            .position(|o| crate::paths::identity(&o.path) == id)
        {
            Some(i) => i,
            None => {
                self.overrides.push(Override {
                    path: path.to_string(),
                    ..Override::default()
                });
                self.overrides.len() - 1
            }
        };
        let o = &mut self.overrides[i];
        if let Some(d) = doc_id {
            o.doc_id = Some(d.to_string());
        }
        for code in add {
            o.remove.retain(|c| !c.eq_ignore_ascii_case(code));
            if !o.add.iter().any(|c| c.eq_ignore_ascii_case(code)) {
                o.add.push(code.clone());
            }
        }
        for code in remove {
            o.add.retain(|c| !c.eq_ignore_ascii_case(code));
            if !o.remove.iter().any(|c| c.eq_ignore_ascii_case(code)) {
                o.remove.push(code.clone());
            }
        }
        if let Some(c) = category {
            o.category = Some(c.to_string());
        }
        if let Some(n) = note {
            o.note = Some(n.to_string());
        }
        o.updated = jiff::Timestamp::now().to_string();
        o.clone()
    }
}

fn librarian_reason(o: &Override, what: &str) -> Reason {
    Reason {
        source: "librarian".into(),
        place: "note".into(),
        phrase: match &o.note {
            Some(n) => format!("{what}: {n}"),
            None => what.to_string(),
        },
        count: 0,
    }
}

/// Applies a librarian's override on top of the tagger's output.
pub fn apply(tags: &mut Tags, o: &Override, fw: &Framework) {
    for code in &o.remove {
        if let Some(pos) = tags
            .statements
            .iter()
            .position(|t| t.code.eq_ignore_ascii_case(code))
        {
            let removed = tags.statements.remove(pos);
            tags.near_misses.retain(|t| t.code != removed.code);
        }
    }
    for code in &o.add {
        let Some(st) = fw.statement(code) else {
            continue;
        };
        match tags.statements.iter_mut().find(|t| t.code == st.code) {
            Some(t) => t
                .reasons
                .insert(0, librarian_reason(o, "confirmed by librarian")),
            None => {
                tags.near_misses.retain(|t| t.code != st.code);
                tags.statements.push(TagScore {
                    code: st.code.clone(),
                    score: 1.0,
                    reasons: vec![librarian_reason(o, "added by librarian")],
                    passage: None,
                    coverage: None,
                });
            }
        }
    }
    tags.statements
        .sort_by(|a, b| b.score.total_cmp(&a.score).then(a.code.cmp(&b.code)));
    if let Some(cat) = &o.category
        && fw.category(cat).is_some()
    {
        let existing = tags.categories.iter().position(|c| &c.code == cat);
        let mut entry = match existing {
            Some(i) => tags.categories.remove(i),
            None => TagScore {
                code: cat.clone(),
                score: 1.0,
                reasons: vec![],
                passage: None,
                coverage: None,
            },
        };
        entry.score = 1.0;
        entry
            .reasons
            .insert(0, librarian_reason(o, "set by librarian"));
        tags.categories.insert(0, entry);
    }
    tags.themes.clear();
    for t in &tags.statements {
        if let Some(st) = fw.statement(&t.code) {
            let theme = &fw.themes[st.theme].id;
            if !tags.themes.contains(theme) {
                tags.themes.push(theme.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_add_remove_and_set_category_with_librarian_reasons() {
        let fw = Framework::builtin();
        let mut tags = Tags {
            statements: vec![TagScore {
                code: "QS1".into(),
                score: 0.7,
                reasons: vec![],
                passage: None,
                coverage: None,
            }],
            categories: vec![TagScore {
                code: "processes".into(),
                score: 0.8,
                reasons: vec![],
                passage: None,
                coverage: None,
            }],
            ..Tags::default()
        };
        let mut all = Overrides::default();
        let o = all.upsert(
            "/s/a.docx",
            Some("b3:x"),
            &["QS3".into()],
            &["QS1".into()],
            Some("partners"),
            Some("EIA"),
        );
        apply(&mut tags, &o, &fw);
        assert_eq!(tags.statements.len(), 1);
        assert_eq!(tags.statements[0].code, "QS3");
        assert_eq!(tags.statements[0].reasons[0].source, "librarian");
        assert!(tags.statements[0].reasons[0].phrase.contains("EIA"));
        assert_eq!(tags.categories[0].code, "partners");
        assert_eq!(tags.themes, ["working-with-people"]);

        assert!(all.find("b3:other", &["/s/a.docx".into()]).is_some());
        assert!(all.find("b3:x", &["/elsewhere.docx".into()]).is_some());
        assert!(all.follow_move("/s/a.docx", "/s/moved/a.docx"));
        assert_eq!(all.overrides[0].path, "/s/moved/a.docx");
    }
}
