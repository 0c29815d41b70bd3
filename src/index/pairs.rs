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
//! word phrase does.

use tantivy::tokenizer::{BoxTokenStream, TextAnalyzer, Token, TokenStream, Tokenizer};

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
        PairStream {
            words: self.words.token_stream(text),
            prev: None,
            token: Token::default(),
        }
    }
}

pub struct PairStream<'a> {
    words: BoxTokenStream<'a>,
    prev: Option<Token>,
    token: Token,
}

impl TokenStream for PairStream<'_> {
    fn advance(&mut self) -> bool {
        while self.words.advance() {
            let cur = self.words.token();
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
                prev.clone_from(cur);
                return true;
            }
            match self.prev.as_mut() {
                Some(p) => p.clone_from(cur),
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
    fn a_dropped_word_breaks_the_pair() {
        let long = "x".repeat(60);
        assert_eq!(
            pairs(&format!("care {long} act")),
            Vec::<(String, usize)>::new()
        );
        assert_eq!(pairs("one"), Vec::<(String, usize)>::new());
    }
}
