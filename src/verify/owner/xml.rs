//! A small element tree for AWS Query-protocol answers (STS, IAM).
//!
//! Answers are read whole into a tree and queried by path, which keeps the
//! per-call code short. The tokenizer (`xmlparser`, already under the SDK)
//! never expands entities beyond XML's five and character references, and a
//! document type declaration is refused outright, so a hostile answer cannot
//! blow up; depth and element count are capped too.

use std::borrow::Cow;

/// One element: its local name, its text (concatenated, unescaped) and its
/// child elements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) text: String,
    pub(crate) children: Vec<Node>,
}

const MAX_DEPTH: usize = 64;
const MAX_ELEMENTS: usize = 200_000;

/// Parses a document into its root element.
pub(crate) fn parse(doc: &str) -> Result<Node, String> {
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut elements = 0usize;
    for token in xmlparser::Tokenizer::from(doc) {
        let token = token.map_err(|e| format!("malformed XML: {e}"))?;
        match token {
            xmlparser::Token::DtdStart { .. }
            | xmlparser::Token::EmptyDtd { .. }
            | xmlparser::Token::EntityDeclaration { .. } => {
                return Err("XML with a document type declaration".into())
            }
            xmlparser::Token::ElementStart { local, .. } => {
                elements += 1;
                if stack.len() >= MAX_DEPTH || elements > MAX_ELEMENTS {
                    return Err("XML nested too deep or too large".into());
                }
                if root.is_some() && stack.is_empty() {
                    return Err("XML with more than one root element".into());
                }
                stack.push(Node {
                    name: local.as_str().to_string(),
                    ..Node::default()
                });
            }
            xmlparser::Token::ElementEnd { end, .. } => match end {
                xmlparser::ElementEnd::Open => {}
                xmlparser::ElementEnd::Close(..) | xmlparser::ElementEnd::Empty => {
                    let done = stack.pop().ok_or("unbalanced XML")?;
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => root = Some(done),
                    }
                }
            },
            xmlparser::Token::Text { text } => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&unescape(text.as_str())?);
                }
            }
            xmlparser::Token::Cdata { text, .. } => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(text.as_str());
                }
            }
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("truncated XML".into());
    }
    root.ok_or_else(|| "empty XML answer".to_string())
}

impl Node {
    /// The first child named `name`.
    pub(crate) fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The element at `path` below this one (each step the first child of
    /// that name).
    pub(crate) fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, step| node.child(step))
    }

    /// Trimmed text at `path`, if present and not empty.
    pub(crate) fn text_at(&self, path: &[&str]) -> Option<String> {
        let t = self.at(path)?.text.trim();
        (!t.is_empty()).then(|| t.to_string())
    }

    /// The `member` children of the list at `path` (the Query protocol's
    /// list encoding).
    pub(crate) fn members<'a>(&'a self, path: &[&str]) -> impl Iterator<Item = &'a Node> + 'a {
        self.at(path)
            .map(|list| list.children.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(|c| c.name == "member")
    }
}

/// Resolves XML's predefined entities and character references.
fn unescape(s: &str) -> Result<Cow<'_, str>, String> {
    if !s.contains('&') {
        return Ok(Cow::Borrowed(s));
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some((before, after)) = rest.split_once('&') {
        out.push_str(before);
        let (entity, tail) = after.split_once(';').ok_or("unterminated XML entity")?;
        let c = match entity {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = entity.strip_prefix('#') {
                    dec.parse::<u32>().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| "unknown XML entity".to_string())?
            }
        };
        out.push(c);
        rest = tail;
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_query_answers_and_lists() {
        let doc = r#"<?xml version="1.0"?>
<ListAccessKeysResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <ListAccessKeysResult>
    <IsTruncated>false</IsTruncated>
    <AccessKeyMetadata>
      <member><UserName>a&amp;b</UserName><AccessKeyId>AKIA1</AccessKeyId></member>
      <member><UserName>c&#x27;d</UserName><AccessKeyId>AKIA2</AccessKeyId></member>
    </AccessKeyMetadata>
    <Empty/>
  </ListAccessKeysResult>
</ListAccessKeysResponse>"#;
        let root = parse(doc).expect("parses");
        assert_eq!(root.name, "ListAccessKeysResponse");
        let users: Vec<String> = root
            .members(&["ListAccessKeysResult", "AccessKeyMetadata"])
            .filter_map(|m| m.text_at(&["UserName"]))
            .collect();
        assert_eq!(users, ["a&b", "c'd"]);
        assert_eq!(
            root.text_at(&["ListAccessKeysResult", "IsTruncated"])
                .as_deref(),
            Some("false")
        );
        assert_eq!(root.text_at(&["ListAccessKeysResult", "Empty"]), None);
        assert_eq!(root.members(&["Nope"]).count(), 0);
    }

    #[test]
    fn refuses_hostile_or_broken_documents() {
        let bomb = r#"<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>"#;
        assert!(parse(bomb).is_err());
        assert!(parse("<a><b></a>").is_err());
        assert!(parse("<a>").is_err());
        assert!(parse("").is_err());
        assert!(parse("<a>&bogus;</a>").is_err());
        assert!(parse("<a/><b/>").is_err());
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(parse(&deep).is_err());
    }
}
