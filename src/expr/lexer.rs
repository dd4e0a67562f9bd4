//! The lexer: source text to tokens, each with its line and column.

use super::error::{ParseError, ParseErrorKind, Span};

/// A token of the expression language.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Num(f64),
    Name(String),
    Plus,
    Minus,
    Star,
    Slash,
    StarStar,
    LParen,
    RParen,
    Comma,
    Assign,
    PlusEq,
    MinusEq,
    StarEq,
    SlashEq,
    /// The end of a statement: a newline or `;` (the text says which).
    End(&'static str),
    Eof,
}

impl Tok {
    /// How the token is called in an error message.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Num(v) => format!("number `{v}`"),
            Tok::Name(n) => format!("name `{n}`"),
            Tok::Plus => "`+`".into(),
            Tok::Minus => "`-`".into(),
            Tok::Star => "`*`".into(),
            Tok::Slash => "`/`".into(),
            Tok::StarStar => "`**`".into(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Assign => "`=`".into(),
            Tok::PlusEq => "`+=`".into(),
            Tok::MinusEq => "`-=`".into(),
            Tok::StarEq => "`*=`".into(),
            Tok::SlashEq => "`/=`".into(),
            Tok::End(what) => (*what).into(),
            Tok::Eof => "the end of the program".into(),
        }
    }
}

/// A token and where it starts.
#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Span,
}

/// Splits `src` into tokens, ending with [`Tok::Eof`].
///
/// Newlines inside parentheses are skipped (as in Python), so a long
/// expression can span lines; `#` starts a comment to the end of the line.
pub(crate) fn lex(src: &str) -> Result<Vec<Token>, ParseError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line, mut col) = (0usize, 1usize, 1usize);
    let mut depth = 0usize;
    while i < chars.len() {
        let c = chars[i];
        let span = Span::new(line, col, 1);
        let single = match c {
            // A CRLF ends the line once, at its `\n`.
            '\r' if chars.get(i + 1) == Some(&'\n') => {
                i += 1;
                col += 1;
                continue;
            }
            // `\n`, or a lone `\r` (old Mac line endings).
            '\n' | '\r' => {
                if depth == 0 {
                    out.push(Token {
                        tok: Tok::End("the end of the line"),
                        span,
                    });
                }
                i += 1;
                line += 1;
                col = 1;
                continue;
            }
            ' ' | '\t' => {
                i += 1;
                col += 1;
                continue;
            }
            '#' => {
                while i < chars.len() && chars[i] != '\n' && chars[i] != '\r' {
                    i += 1;
                    col += 1;
                }
                continue;
            }
            ';' => Some(Tok::End("`;`")),
            ',' => Some(Tok::Comma),
            '(' => {
                depth += 1;
                Some(Tok::LParen)
            }
            ')' => {
                depth = depth.saturating_sub(1);
                Some(Tok::RParen)
            }
            _ => None,
        };
        if let Some(tok) = single {
            out.push(Token { tok, span });
            i += 1;
            col += 1;
            continue;
        }
        let next = chars.get(i + 1).copied();
        let (tok, len) = match (c, next) {
            ('*', Some('*')) => (Tok::StarStar, 2),
            ('+', Some('=')) => (Tok::PlusEq, 2),
            ('-', Some('=')) => (Tok::MinusEq, 2),
            ('*', Some('=')) => (Tok::StarEq, 2),
            ('/', Some('=')) => (Tok::SlashEq, 2),
            ('+', _) => (Tok::Plus, 1),
            ('-', _) => (Tok::Minus, 1),
            ('*', _) => (Tok::Star, 1),
            ('/', _) => (Tok::Slash, 1),
            ('=', _) => (Tok::Assign, 1),
            ('.', Some(n)) if n.is_ascii_alphabetic() || n == '_' => {
                let len = 1 + chars[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                    .count();
                let receiver = match out.last().map(|t| &t.tok) {
                    Some(Tok::Name(name)) => Some(name.clone()),
                    _ => None,
                };
                return Err(ParseError::new(
                    ParseErrorKind::MethodCall {
                        method: chars[i + 1..i + len].iter().collect(),
                        receiver,
                    },
                    Span::new(line, col, len),
                    src,
                ));
            }
            ('^', _) => {
                return Err(ParseError::new(ParseErrorKind::Caret, span, src));
            }
            _ if c.is_ascii_digit() || c == '.' => {
                let len = number_len(&chars[i..]);
                let text: String = chars[i..i + len].iter().collect();
                let value = text.parse::<f64>().ok().filter(|_| valid_number(&text));
                match value {
                    Some(v) if super::out_of_range(&text, v) => {
                        return Err(ParseError::new(
                            ParseErrorKind::NumberOutOfRange(text),
                            Span::new(line, col, len),
                            src,
                        ));
                    }
                    Some(v) => (Tok::Num(v), len),
                    None => {
                        return Err(ParseError::new(
                            ParseErrorKind::BadNumber(text),
                            Span::new(line, col, len),
                            src,
                        ));
                    }
                }
            }
            _ if c.is_ascii_alphabetic() || c == '_' => {
                let len = chars[i..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                    .count();
                (Tok::Name(chars[i..i + len].iter().collect()), len)
            }
            _ => {
                return Err(ParseError::new(
                    ParseErrorKind::UnexpectedChar(c),
                    span,
                    src,
                ));
            }
        };
        out.push(Token {
            tok,
            span: Span::new(line, col, len),
        });
        i += len;
        col += len;
    }
    out.push(Token {
        tok: Tok::Eof,
        span: Span::new(line, col, 1),
    });
    Ok(out)
}

/// The length of the number-like run at the start of `s`: digits, dots,
/// an exponent with its sign, and any letters glued to it (so that `2x`
/// or `1e` is reported as one malformed number rather than two tokens).
fn number_len(s: &[char]) -> usize {
    let mut n = 0;
    while n < s.len() {
        let c = s[n];
        let exp_sign = (c == '+' || c == '-') && n > 0 && matches!(s[n - 1], 'e' | 'E');
        if c.is_ascii_alphanumeric() || c == '.' || c == '_' || exp_sign {
            n += 1;
        } else {
            break;
        }
    }
    n
}

/// Whether `text` is a decimal number as the language writes them
/// (`3`, `2.5`, `.5`, `3.`, `1e-3`): Rust's `f64` parser also accepts
/// `inf` and `NaN`, which are names here.
fn valid_number(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let digits = mantissa.chars().filter(|c| c.is_ascii_digit()).count();
    let dots = mantissa.chars().filter(|&c| c == '.').count();
    let mantissa_ok =
        digits > 0 && dots <= 1 && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.');
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        lex(src).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn numbers() {
        assert_eq!(toks(".5")[0], Tok::Num(0.5));
        assert_eq!(toks("1e-3")[0], Tok::Num(0.001));
        assert_eq!(toks("3.")[0], Tok::Num(3.0));
        assert_eq!(toks("2E+2")[0], Tok::Num(200.0));
        for bad in ["1e", "1.2.3", "2x", ".", "1e+", "1_0"] {
            assert!(lex(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn newlines_inside_parentheses_are_skipped() {
        assert_eq!(
            toks("(1\n)\n"),
            vec![
                Tok::LParen,
                Tok::Num(1.0),
                Tok::RParen,
                Tok::End("the end of the line"),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn spans() {
        let t = lex("a = 1\n  bb += 2 # c").unwrap();
        let s: Vec<(usize, usize, usize)> = t
            .iter()
            .map(|t| (t.span.line, t.span.col, t.span.len))
            .collect();
        assert_eq!(
            s,
            vec![
                (1, 1, 1),
                (1, 3, 1),
                (1, 5, 1),
                (1, 6, 1),
                (2, 3, 2),
                (2, 6, 2),
                (2, 9, 1),
                (2, 14, 1)
            ]
        );
    }
}
