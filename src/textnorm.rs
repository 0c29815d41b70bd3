//! One normal form for matching cue phrases against text: lower case, accents folded,
//! apostrophes dropped, every other non-alphanumeric character a word break.
//!
//! Cues and documents go through the same function, so "Carers' assessment", "carers
//! assessment" and "CARER'S ASSESSMENT" meet as `carers assessment`. The normal form keeps a
//! map back to byte offsets in the original text, so a match can cite its passage and page.

/// Text as space-separated words, with the original byte offset of each word.
pub struct Normalized {
    /// " word word word " (leading and trailing space, so every word is space-delimited).
    pub text: String,
    /// For each byte of `text`, the byte offset in the source it came from.
    offsets: Vec<u32>,
}

impl Normalized {
    pub fn source_offset(&self, normalized_offset: usize) -> usize {
        self.offsets
            .get(normalized_offset.min(self.offsets.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as usize
    }
}

fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => "a",
        'ç' | 'ć' | 'č' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' => "e",
        'ì' | 'í' | 'î' | 'ï' => "i",
        'ñ' | 'ń' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' => "u",
        'ý' | 'ÿ' => "y",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'ł' => "l",
        'š' => "s",
        'ž' | 'ź' | 'ż' => "z",
        _ => return None,
    })
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '`' | '\u{02BC}')
}

/// Normalises `src`, keeping offsets.
pub fn normalize(src: &str) -> Normalized {
    let mut text = String::with_capacity(src.len() + 2);
    let mut offsets = Vec::with_capacity(src.len() + 2);
    text.push(' ');
    offsets.push(0);
    let mut last_space = true;
    for (i, c) in src.char_indices() {
        // Most of a council's text is ASCII: no case tables, no folding (a tenth of the
        // tagger's time went to `to_lowercase` on plain letters).
        if c.is_ascii_alphanumeric() {
            text.push(c.to_ascii_lowercase());
            offsets.push(i as u32);
            last_space = false;
            continue;
        }
        if is_apostrophe(c) {
            continue;
        }
        if c.is_alphanumeric() {
            let lower = c.to_lowercase();
            for l in lower {
                if let Some(f) = fold(l) {
                    for b in f.bytes() {
                        text.push(b as char);
                        offsets.push(i as u32);
                    }
                } else if l.is_ascii() {
                    text.push(l);
                    offsets.push(i as u32);
                } else {
                    let mut buf = [0u8; 4];
                    let s = l.encode_utf8(&mut buf);
                    text.push_str(s);
                    for _ in 0..s.len() {
                        offsets.push(i as u32);
                    }
                }
            }
            last_space = false;
        } else if !last_space {
            text.push(' ');
            offsets.push(i as u32);
            last_space = true;
        }
    }
    if !last_space {
        text.push(' ');
        offsets.push(src.len() as u32);
    }
    Normalized { text, offsets }
}

/// The normal form of a short string, without offsets (cue phrases, titles).
pub fn normalize_phrase(s: &str) -> String {
    normalize(s).text.trim().to_string()
}

/// Number of words in normalized text.
pub fn word_count(normalized: &str) -> usize {
    normalized.split(' ').filter(|w| !w.is_empty()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apostrophes_case_accents_and_punctuation() {
        assert_eq!(normalize_phrase("Carers' Assessment"), "carers assessment");
        assert_eq!(normalize_phrase("CARER'S assessment"), "carers assessment");
        assert_eq!(
            normalize_phrase("Co-production — “Making it Real”"),
            "co production making it real"
        );
        assert_eq!(
            normalize_phrase("Politique d’évaluation"),
            "politique devaluation"
        );
        assert_eq!(normalize_phrase("Section 42(1)"), "section 42 1");
    }

    #[test]
    fn offsets_point_back_into_the_source() {
        let src = "The Care Act's duty";
        let n = normalize(src);
        assert_eq!(n.text, " the care acts duty ");
        let at = n.text.find("acts").unwrap();
        assert_eq!(&src[n.source_offset(at)..n.source_offset(at) + 3], "Act");
    }
}
