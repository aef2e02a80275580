//! How deeply values nest, checked before anything recurses into them.
//!
//! async-graphql's parser recurses on value literals (`[[[…]]]`, `{a: {a: …}}`) before any
//! extension hook can run, and a few thousand levels overflow a worker's stack and abort the
//! process. So the raw document is scanned here, without recursion and before parsing: the depth
//! of `[` and `{` inside parentheses (arguments, directives' arguments, variables' defaults) is
//! a value's nesting. Braces outside parentheses are selection sets, bounded separately (but a
//! document deeper than [`MAX_DOCUMENT_DEPTH`] in all is refused here too, for the same reason).
//! Strings, block strings and comments are skipped. Variables arrive as JSON, already bounded
//! by serde_json (128); [`value_depth`] bounds them at [`MAX_VALUE_DEPTH`] like literals.

/// The deepest value accepted, far below what overflows a stack.
pub const MAX_VALUE_DEPTH: usize = 64;
/// The deepest bracket nesting of a whole document (selection sets and values together).
pub const MAX_DOCUMENT_DEPTH: usize = 128;

/// What is too deep.
#[derive(Debug, PartialEq, Eq)]
pub enum TooDeep {
    Value,
    Document,
}

impl TooDeep {
    pub fn message(&self) -> String {
        match self {
            Self::Value => format!("A value is nested more than {MAX_VALUE_DEPTH} levels deep."),
            Self::Document => format!("The document is nested more than {MAX_DOCUMENT_DEPTH} levels deep."),
        }
    }
}

/// Scans a GraphQL document's brackets, outside strings and comments, without parsing it.
pub fn check_document(doc: &str) -> Result<(), TooDeep> {
    let bytes = doc.as_bytes();
    // Brackets open now; the value depth is how many were opened since the last `(`.
    let mut depth = 0usize;
    let mut parens: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    // `\"""` is an escaped triple quote inside a block string.
                    i += if bytes[i..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' => parens.push(depth),
            b')' => {
                if let Some(d) = parens.pop() {
                    depth = d;
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DOCUMENT_DEPTH {
                    return Err(TooDeep::Document);
                }
                if let Some(base) = parens.last()
                    // Unbalanced closers can leave the depth below where the argument began.
                    && depth.saturating_sub(*base) > MAX_VALUE_DEPTH
                {
                    return Err(TooDeep::Value);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// How deeply a value (a variable's) nests (a scalar is 0), without recursion.
pub fn value_depth(value: &async_graphql::Value) -> usize {
    use async_graphql::Value as ConstValue;
    let mut deepest = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((v, d)) = stack.pop() {
        match v {
            ConstValue::List(items) => {
                deepest = deepest.max(d + 1);
                stack.extend(items.iter().map(|x| (x, d + 1)));
            }
            ConstValue::Object(map) => {
                deepest = deepest.max(d + 1);
                stack.extend(map.values().map(|x| (x, d + 1)));
            }
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unbalanced_closers_inside_arguments_are_answered_not_panicked_on() {
        assert_eq!(check_document("{{ ( }}} [ x ]"), Ok(()));
        assert_eq!(check_document("{ a(b: [[ ) ]]]] [[[ }"), Ok(()));
    }

    fn list(n: usize) -> String {
        format!("{{ nodes(ids: {}\"x\"{}) {{ id }} }}", "[".repeat(n), "]".repeat(n))
    }

    #[test]
    fn values_up_to_the_limit_pass_and_deeper_ones_do_not() {
        assert_eq!(check_document(&list(MAX_VALUE_DEPTH)), Ok(()));
        assert_eq!(check_document(&list(MAX_VALUE_DEPTH + 1)), Err(TooDeep::Value));
        assert_eq!(check_document(&list(100_000)), Err(TooDeep::Value));
        let obj = format!("{{ a(f: {}1{}) }}", "{a: ".repeat(65), "}".repeat(65));
        assert_eq!(check_document(&obj), Err(TooDeep::Value));
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        let noise = "[".repeat(1000);
        for doc in [
            format!("{{ a(x: \"{noise}\") }}"),
            format!("{{ a(x: \"\"\"{noise} \\\"\"\" {noise}\"\"\") }}"),
            format!("# {noise}\n{{ a }}"),
            format!("{{ a(x: \"\\\"{noise}\") }}"),
        ] {
            assert_eq!(check_document(&doc), Ok(()), "{doc}");
        }
    }

    #[test]
    fn selection_sets_count_only_towards_the_document_depth() {
        let sel = |n: usize| format!("{}a{}", "{ a ".repeat(n), " }".repeat(n));
        assert_eq!(check_document(&sel(100)), Ok(()));
        assert_eq!(check_document(&sel(129)), Err(TooDeep::Document));
        // A value inside a deep selection counts from its own parenthesis.
        let doc = format!(
            "{}a(x: {}1{}){}",
            "{ a ".repeat(40),
            "[".repeat(60),
            "]".repeat(60),
            " }".repeat(40)
        );
        assert_eq!(check_document(&doc), Ok(()));
    }

    #[test]
    fn value_depth_counts_containers() {
        let v = |j: serde_json::Value| async_graphql::Value::from_json(j).unwrap();
        assert_eq!(value_depth(&v(serde_json::json!(1))), 0);
        assert_eq!(value_depth(&v(serde_json::json!({"a": [1, {"b": []}]}))), 4);
    }
}
