//! Field paths of a scenario (`drafts[0].accuracy.top1`): parsing them and setting the
//! field they name in the scenario's JSON.

use serde_json::Value;

/// A field path that is malformed or names no field of the scenario.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// A segment with no name (`cache..capacity`, `.width`).
    #[error("empty field name in path `{path}`")]
    EmptyName {
        /// The path.
        path: String,
    },
    /// `[` without `]`.
    #[error("unclosed `[` in path `{path}`")]
    Unclosed {
        /// The path.
        path: String,
    },
    /// `[x]` where `x` is not a number.
    #[error("`{text}` is not an index in path `{path}`")]
    NotAnIndex {
        /// The path.
        path: String,
        /// What stood between the brackets.
        text: String,
    },
    /// Text after `]` that is not another `[i]`.
    #[error("unexpected `{rest}` in path `{path}`")]
    Trailing {
        /// The path.
        path: String,
        /// The text.
        rest: String,
    },
    /// A field name applied to a value that is not an object.
    #[error("`{path}`: `{key}` is not inside an object")]
    NotAnObject {
        /// The path.
        path: String,
        /// The field name.
        key: String,
    },
    /// An index applied to a value that is not a list.
    #[error("`{path}`: [{index}] applied to something not a list")]
    NotAList {
        /// The path.
        path: String,
        /// The index.
        index: usize,
    },
    /// A field the scenario does not have (and is not an optional last field).
    #[error("field path `{path}` does not exist: no field `{key}`")]
    NoField {
        /// The path.
        path: String,
        /// The missing field.
        key: String,
    },
    /// An index past the end of a list.
    #[error("field path `{path}` does not exist: index {index} of a list of {len}")]
    NoIndex {
        /// The path.
        path: String,
        /// The index.
        index: usize,
        /// The list's length.
        len: usize,
    },
}

/// A segment of a field path.
#[derive(Clone, Debug, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

fn parse_path(path: &str) -> Result<Vec<Segment>, PathError> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.is_empty() {
            return Err(PathError::EmptyName { path: path.into() });
        }
        out.push(Segment::Key(key.to_string()));
        while !rest.is_empty() {
            let close = rest
                .find(']')
                .ok_or_else(|| PathError::Unclosed { path: path.into() })?;
            let text = &rest[1..close];
            let n = text.parse().map_err(|_| PathError::NotAnIndex {
                path: path.into(),
                text: text.into(),
            })?;
            out.push(Segment::Index(n));
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return Err(PathError::Trailing {
                    path: path.into(),
                    rest: rest.into(),
                });
            }
        }
    }
    Ok(out)
}

/// Sets the field at `path` in `root` to `value`. The field must exist, except a missing
/// last key of an existing object (an optional field left out of the file).
pub fn set_path(root: &mut Value, path: &str, value: Value) -> Result<(), PathError> {
    let segs = parse_path(path)?;
    let mut cur = root;
    for (i, seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        cur = match seg {
            Segment::Key(k) => {
                let obj = cur.as_object_mut().ok_or_else(|| PathError::NotAnObject {
                    path: path.into(),
                    key: k.clone(),
                })?;
                if last {
                    obj.insert(k.clone(), value);
                    return Ok(());
                }
                obj.get_mut(k).ok_or_else(|| PathError::NoField {
                    path: path.into(),
                    key: k.clone(),
                })?
            }
            Segment::Index(n) => {
                let arr = cur.as_array_mut().ok_or_else(|| PathError::NotAList {
                    path: path.into(),
                    index: *n,
                })?;
                let len = arr.len();
                let slot = arr.get_mut(*n).ok_or_else(|| PathError::NoIndex {
                    path: path.into(),
                    index: *n,
                    len,
                })?;
                if last {
                    *slot = value;
                    return Ok(());
                }
                slot
            }
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_set_nested_fields() {
        let mut v = json!({"cache": {"capacity": 10}, "drafts": [{"accuracy": {"top1": 0.5}}]});
        set_path(&mut v, "cache.capacity", json!(20)).unwrap();
        set_path(&mut v, "drafts[0].accuracy.top1", json!(0.9)).unwrap();
        set_path(&mut v, "cache.scope", json!("shared")).unwrap();
        assert_eq!(v["cache"]["capacity"], 20);
        assert_eq!(v["drafts"][0]["accuracy"]["top1"], 0.9);
        assert_eq!(v["cache"]["scope"], "shared");
        assert_eq!(
            set_path(&mut v, "drafts[3].name", json!("x"))
                .unwrap_err()
                .to_string(),
            "field path `drafts[3].name` does not exist: index 3 of a list of 1"
        );
        assert_eq!(
            set_path(&mut v, "fetcher.slots", json!(2)).unwrap_err(),
            PathError::NoField {
                path: "fetcher.slots".into(),
                key: "fetcher".into()
            }
        );
        assert_eq!(
            set_path(&mut v, "a[x]", json!(1)).unwrap_err().to_string(),
            "`x` is not an index in path `a[x]`"
        );
        assert!(matches!(
            set_path(&mut v, "a..b", json!(1)),
            Err(PathError::EmptyName { .. })
        ));
        assert!(matches!(
            set_path(&mut v, "a[1", json!(1)),
            Err(PathError::Unclosed { .. })
        ));
        assert!(matches!(
            set_path(&mut v, "drafts[0]x", json!(1)),
            Err(PathError::Trailing { .. })
        ));
    }
}
