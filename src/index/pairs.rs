//! Word pairs: a second index of the body in which each token is two adjacent words
//! ("carer assess"), so a phrase query is answered from the pairs' posting lists.
//!
//! tantivy answers `"carers assessment"` on the word index by reading the positions of both
//! words in every document that holds both, and on a council drive "care", "carers" and
//! "assessment" are in most documents: at 100k documents a two-word phrase took 25-45 ms, most
//! of a search. The pair "carer assess" is one term with its own, far shorter, posting list
//! (and block-max scoring), and a longer phrase is a phrase of pairs, whose positions are as
//! rare as the pairs themselves. Pairs are made from the body analyzer's tokens (stemmed,
//! folded) and only where the words are adjacent, so a pair phrase matches exactly where the
//! word phrase does. (Pairs without positions, a longer phrase answered as its pairs plus the
//! word phrase, indexed about a tenth faster but took 25-29 ms for a three-word phrase at
//! 100k documents, whole process, against 17 ms with positions.)
//!
//! The body is analysed once: the index's analyzer ([`Recording`]) keeps the tokens of the
//! last text it read on its thread, and tantivy indexes a document's fields in field order,
//! the body just before its pairs, so the pairs replay those tokens instead of tokenizing and
//! stemming the body again. Anything else (another thread, a text too long to keep) is
//! analysed afresh, with the same result.

use std::cell::RefCell;
use tantivy::tokenizer::{BoxTokenStream, TextAnalyzer, Token, TokenStream, Tokenizer};

/// Longest text whose tokens are kept for the pairs (a few MB of tokens at most per thread).
const MAX_RECORDED: usize = 512 * 1024;

/// The tokens of the last text analysed on this thread.
#[derive(Default)]
struct Recorded {
    text: String,
    tokens: Vec<Token>,
    /// How many of `tokens` belong to `text` (the rest are buffers kept for reuse).
    len: usize,
    complete: bool,
}

thread_local! {
    static LAST: RefCell<Recorded> = RefCell::new(Recorded::default());
}

/// An analyzer that keeps the tokens of what it reads for [`PairTokenizer`] on the same thread.
#[derive(Clone)]
pub struct Recording {
    inner: TextAnalyzer,
}

impl Recording {
    pub fn new(inner: TextAnalyzer) -> Recording {
        Recording { inner }
    }
}

impl Tokenizer for Recording {
    type TokenStream<'a> = RecordingStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> RecordingStream<'a> {
        let rec = (text.len() <= MAX_RECORDED).then(|| LAST.with(|l| l.take()));
        RecordingStream {
            inner: self.inner.token_stream(text),
            text,
            rec,
            n: 0,
            done: false,
        }
    }
}

pub struct RecordingStream<'a> {
    inner: BoxTokenStream<'a>,
    text: &'a str,
    rec: Option<Recorded>,
    n: usize,
    done: bool,
}

impl TokenStream for RecordingStream<'_> {
    fn advance(&mut self) -> bool {
        if !self.inner.advance() {
            self.done = true;
            return false;
        }
        if let Some(r) = &mut self.rec {
            let t = self.inner.token();
            // Reuse the token buffers of the last text rather than allocating per token.
            match r.tokens.get_mut(self.n) {
                Some(slot) => copy_token(slot, t),
                None => r.tokens.push(t.clone()),
            }
            self.n += 1;
        }
        true
    }

    fn token(&self) -> &Token {
        self.inner.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.inner.token_mut()
    }
}

impl Drop for RecordingStream<'_> {
    fn drop(&mut self) {
        if let Some(mut r) = self.rec.take() {
            r.len = self.n;
            r.complete = self.done;
            r.text.clear();
            if self.done {
                r.text.push_str(self.text);
            }
            LAST.with(|l| *l.borrow_mut() = r);
        }
    }
}

/// `dst = src.clone()` keeping `dst`'s text buffer: `Token`'s derived `clone_from` allocates a
/// new string and frees the old one, once per word of every body (a tenth of the indexing
/// thread's time went to malloc and free).
fn copy_token(dst: &mut Token, src: &Token) {
    dst.offset_from = src.offset_from;
    dst.offset_to = src.offset_to;
    dst.position = src.position;
    dst.position_length = src.position_length;
    dst.text.clear();
    dst.text.push_str(&src.text);
}

#[derive(Clone)]
pub struct PairTokenizer {
    words: TextAnalyzer,
}

impl PairTokenizer {
    pub fn new(words: TextAnalyzer) -> PairTokenizer {
        PairTokenizer { words }
    }
}

impl Tokenizer for PairTokenizer {
    type TokenStream<'a> = PairStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> PairStream<'a> {
        let replay = LAST.with(|l| {
            let mut l = l.borrow_mut();
            (l.complete && l.text == text).then(|| std::mem::take(&mut *l))
        });
        let words = match replay {
            Some(rec) => Words::Replay { rec, next: 0 },
            None => Words::Live(self.words.token_stream(text)),
        };
        PairStream {
            words,
            prev: None,
            token: Token::default(),
        }
    }
}

/// Where the pairs' words come from: the recorded tokens of the same text, or the analyzer.
enum Words<'a> {
    Live(BoxTokenStream<'a>),
    Replay { rec: Recorded, next: usize },
}

impl Words<'_> {
    fn next(&mut self) -> Option<&Token> {
        match self {
            Words::Live(s) => s.advance().then(|| s.token()),
            Words::Replay { rec, next } => {
                let t = rec.tokens[..rec.len].get(*next)?;
                *next += 1;
                Some(t)
            }
        }
    }
}

pub struct PairStream<'a> {
    words: Words<'a>,
    prev: Option<Token>,
    token: Token,
}

impl Drop for PairStream<'_> {
    fn drop(&mut self) {
        // Hand the buffers back for the next text, unless something was recorded meanwhile.
        if let Words::Replay { rec, .. } = &mut self.words {
            let rec = std::mem::take(rec);
            LAST.with(|l| {
                let mut l = l.borrow_mut();
                if l.tokens.is_empty() {
                    *l = Recorded {
                        complete: false,
                        ..rec
                    };
                }
            });
        }
    }
}

impl TokenStream for PairStream<'_> {
    fn advance(&mut self) -> bool {
        while let Some(cur) = self.words.next() {
            let adjacent = self
                .prev
                .as_ref()
                .is_some_and(|p| p.position + 1 == cur.position);
            if adjacent {
                let prev = self.prev.as_mut().expect("checked above");
                self.token.text.clear();
                self.token.text.push_str(&prev.text);
                self.token.text.push(' ');
                self.token.text.push_str(&cur.text);
                self.token.position = prev.position;
                self.token.offset_from = prev.offset_from;
                self.token.offset_to = cur.offset_to;
                self.token.position_length = 1;
                copy_token(prev, cur);
                return true;
            }
            match self.prev.as_mut() {
                Some(p) => copy_token(p, cur),
                None => self.prev = Some(cur.clone()),
            }
        }
        false
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, usize)> {
        let mut a = TextAnalyzer::from(PairTokenizer::new(crate::index::schema::analyzer()));
        let mut s = a.token_stream(text);
        let mut out = Vec::new();
        while s.advance() {
            out.push((s.token().text.clone(), s.token().position));
        }
        out
    }

    #[test]
    fn adjacent_stemmed_words_pair_up_at_the_first_words_position() {
        assert_eq!(
            pairs("Carers' assessments, integrated care"),
            [
                ("carer assess".to_string(), 0),
                ("assess integr".to_string(), 1),
                ("integr care".to_string(), 2),
            ]
        );
    }

    #[test]
    fn pairs_replayed_from_the_body_are_the_pairs_of_the_body() {
        let text = "Carers' assessments and the Care Act 2014: integrated care, again care";
        let fresh = pairs(text);
        let mut body = TextAnalyzer::from(Recording::new(crate::index::schema::analyzer()));
        let mut words = 0;
        let mut s = body.token_stream(text);
        while s.advance() {
            words += 1;
        }
        drop(s);
        assert_eq!(LAST.with(|l| l.borrow().len), words);
        assert_eq!(pairs(text), fresh, "replayed");
        // The replay took the recording (and handed its buffers back for the next text).
        LAST.with(|l| assert!(!l.borrow().complete && l.borrow().tokens.len() >= words));
        // Another text is analysed afresh, not replayed.
        assert_eq!(
            pairs("direct payments"),
            [("direct payment".to_string(), 0)]
        );
        // A stream dropped half-way is not replayed.
        let mut s = body.token_stream("one two three");
        s.advance();
        drop(s);
        assert!(!LAST.with(|l| l.borrow().complete));
    }

    #[test]
    fn a_dropped_word_breaks_the_pair() {
        let long = "x".repeat(60);
        assert_eq!(
            pairs(&format!("care {long} act")),
            Vec::<(String, usize)>::new()
        );
        assert_eq!(pairs("one"), Vec::<(String, usize)>::new());
    }
}
