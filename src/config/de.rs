//! Deserialization helpers: empty sections as defaults, and maps that refuse
//! duplicate keys (serde's `BTreeMap` silently keeps the last one).

use crate::config::error::DUPLICATE_KEY;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

/// A section written but left empty (`targets:` with nothing under it) is its
/// default rather than an error.
pub(crate) fn or_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A string-keyed map in which every key may appear only once; `null` is empty.
pub(crate) fn unique_map<'de, D, V>(deserializer: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    Ok(Option::<UniqueMap<V>>::deserialize(deserializer)?
        .map(|m| m.0)
        .unwrap_or_default())
}

struct UniqueMap<V>(BTreeMap<String, V>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for UniqueMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = UniqueMap<V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of names")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut map = BTreeMap::new();
                while let Some(key) = access.next_key::<String>()? {
                    if map.contains_key(&key) {
                        return Err(de::Error::custom(format!("{DUPLICATE_KEY}{key}`")));
                    }
                    let value = access.next_value()?;
                    map.insert(key, value);
                }
                Ok(UniqueMap(map))
            }
        }

        deserializer.deserialize_map(MapVisitor(PhantomData))
    }
}

/// `tls:` written with no settings still enables TLS (with defaults).
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Some(
        Option::<T>::deserialize(deserializer)?.unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Doc {
        #[serde(default, deserialize_with = "unique_map")]
        items: BTreeMap<String, u32>,
        #[serde(default, deserialize_with = "or_default")]
        list: Vec<u32>,
        #[serde(default, deserialize_with = "present")]
        flag: Option<Vec<u32>>,
    }

    #[test]
    fn duplicates_are_rejected() {
        let err = serde_yaml::from_str::<Doc>("items:\n  a: 1\n  a: 2\n").expect_err("dup");
        assert!(err.to_string().contains("duplicate key `a`"), "{err}");
    }

    #[test]
    fn empty_sections() {
        let doc: Doc = serde_yaml::from_str("items:\nlist:\nflag:\n").expect("parse");
        assert!(doc.items.is_empty());
        assert!(doc.list.is_empty());
        assert_eq!(doc.flag, Some(Vec::new()));
        let doc: Doc = serde_yaml::from_str("items: {a: 1, b: 2}\n").expect("parse");
        assert_eq!(doc.items.len(), 2);
        assert_eq!(doc.flag, None);
    }
}
